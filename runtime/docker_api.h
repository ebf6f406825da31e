// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API as dockerd and podman's compatible service
// (`podman system service`) answer it: container inspect and list, parsed into
// ContainerMeta.
//
// Contract: the parsers are pure (no I/O) and never throw: bad JSON is an
// error string. DockerClient does blocking I/O (runtime/unix_http.h): call it
// from the fetcher thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/state/container_meta.h"
#include "runtime/runtime_client.h"

namespace vigil::runtime {

// GET /containers/<id>/json's answer -> metadata; `type` names the runtime
// ("docker", "podman"). nullptr and *error on a malformed answer.
std::shared_ptr<ContainerMeta> ParseDockerInspect(const std::string& json, const std::string& type, std::string* error);

// GET /containers/json?all=1's answer -> the 12-hex ids of the containers
// that are not exited or dead (created ones count: their runc init runs
// before the start; listing only the running ones forgot a container that
// was still starting, and announced its stop early).
std::optional<std::vector<std::string>> ParseDockerList(const std::string& json, std::string* error);

// RFC 3339 with up to 9 fraction digits ("2026-12-05T08:51:22.957671109Z",
// also "+hh:mm" offsets) -> ns since the epoch; 0 for Go's zero time or bad input.
int64_t ParseRfc3339Ns(const std::string& text);

class DockerClient : public RuntimeClient {
 public:
  DockerClient(std::string socket_path, std::string type, std::chrono::milliseconds timeout);
  const std::string& socket_path() const { return socket_path_; }
  const std::string& type() const { return type_; }

  using Result = ApiResult;
  // The container `id` (12 hex: the API resolves a unique prefix).
  Result Inspect(const std::string& id, std::shared_ptr<ContainerMeta>* out, std::string* error) override;
  Result ListRunning(std::vector<std::string>* ids, std::string* error) override;

 private:
  std::string socket_path_, type_;
  std::chrono::milliseconds timeout_;
};

}  // namespace vigil::runtime
