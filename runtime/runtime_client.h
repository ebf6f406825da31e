// SPDX-License-Identifier: Apache-2.0
// What the container watcher asks of a runtime's API, whatever the protocol:
// one container's metadata by id, and the ids of the containers it runs.
//
// Contract: implementations do blocking I/O bounded by their timeout; call
// them from the watcher's thread only. They never throw.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/state/container_meta.h"

namespace vigil::runtime {

enum class ApiResult {
  kOk,
  kNotFound,     // the runtime answered: no such container
  kUnreachable,  // no answer (socket missing, refused, timed out, API not served)
  kBadAnswer,    // an answer that could not be understood
};

class RuntimeClient {
 public:
  virtual ~RuntimeClient() = default;
  // `id` as ContainerIdFromCgroup gives it (12 hex, or a whole non-hex id).
  virtual ApiResult Inspect(const std::string& id, std::shared_ptr<ContainerMeta>* out, std::string* error) = 0;
  // The ids (same form) of the containers that are not exited.
  virtual ApiResult ListRunning(std::vector<std::string>* ids, std::string* error) = 0;
};

}  // namespace vigil::runtime
