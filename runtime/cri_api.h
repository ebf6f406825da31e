// SPDX-License-Identifier: Apache-2.0
// The Kubernetes Container Runtime Interface (CRI v1, runtime/cri/api.proto)
// over gRPC on a unix socket, as containerd's CRI plugin and CRI-O serve it:
// one container's metadata (ListContainers by id, verbose ContainerStatus,
// PodSandboxStatus of its pod) and the ids of the containers and pod
// sandboxes that are not exited.
//
// Contract:
// - CriToMeta()/CriSandboxToMeta() are pure (no I/O) and never throw.
// - CriClient does blocking I/O, each call bounded by `timeout`: call it from
//   the watcher's thread only. It keeps one gRPC channel, which reconnects by
//   itself (backoff at most 5 s) when the runtime comes back.
// - A socket that does not serve the CRI v1 API (containerd with its CRI
//   plugin disabled answers UNIMPLEMENTED) is kUnreachable, with that reason.
// - CRI's status has no privileged flag; the verbose status's `info` (JSON
//   the runtime chooses) has it: CriInfoPrivileged() reads it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/non_copyable.h"
#include "engine/state/container_meta.h"
#include "runtime/runtime_client.h"

namespace runtime::v1 {
class ContainerStatus;
class PodSandboxStatus;
}  // namespace runtime::v1

namespace vigil::runtime {

// A ContainerStatus (and its pod's status, or nullptr) -> metadata; `type`
// names the runtime ("containerd", "cri-o"). nullptr and *error without an id.
std::shared_ptr<ContainerMeta> CriToMeta(const ::runtime::v1::ContainerStatus& status,
                                         const ::runtime::v1::PodSandboxStatus* pod, const std::string& type,
                                         std::string* error);
// A pod sandbox (its pause container has a cgroup of its own) -> metadata:
// the pod's name as container name, its labels, no image.
std::shared_ptr<ContainerMeta> CriSandboxToMeta(const ::runtime::v1::PodSandboxStatus& pod, const std::string& type,
                                                std::string* error);

// The privileged flag in a verbose ContainerStatus's info["info"] JSON:
// containerd's `config.linux.security_context.privileged` (the CRI config it
// was created with), CRI-O's top-level `privileged`. False when neither is
// there or the text is not JSON (never throws).
bool CriInfoPrivileged(std::string_view info_json);

class CriClient : public RuntimeClient, NonCopyable {
 public:
  CriClient(std::string socket_path, std::string type, std::chrono::milliseconds timeout);
  ~CriClient() override;

  // `id`: a unique prefix of the container's (or sandbox's) id, or the whole id.
  ApiResult Inspect(const std::string& id, std::shared_ptr<ContainerMeta>* out, std::string* error) override;
  ApiResult ListRunning(std::vector<std::string>* ids, std::string* error) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::runtime
