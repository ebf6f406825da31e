// SPDX-License-Identifier: Apache-2.0
// Container identity: which container (if any) a process belongs to, decided
// from its cgroup v2 path as seen from the host, and from its namespaces.
//
// Contract:
// - Pure functions, no file I/O, no locks: callable from any thread.
// - ContainerIdFromCgroup() never throws and does not allocate for a 64-hex
//   id (the 12-char result fits the std::string small buffer); a longer
//   non-hex containerd id (/k8s.io/<name>) is copied whole.
// - The host's namespaces (PID 1's) are read once at start by the caller
//   (bpf/procfs/proc_scan.h: ReadHostNamespaces) and passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace vigil {

inline constexpr std::string_view kHostContainerId = "host";
inline constexpr std::size_t kContainerIdLength = 12;  // short id shown for a 64-hex id

// The container runtime id encoded in a cgroup path (v2, or a v1 hierarchy's), shortened to its first
// 12 hex characters, or "host" when no runtime pattern matches. Recognised (the
// id is 64 lower-case hex characters; the last matching path component wins, so
// a nested cgroup such as podman's `libpod-<id>.scope/container` resolves):
//   /docker/<id>                      (docker, cgroupfs driver)
//   /default/<id>, /k8s.io/<id>, /moby/<id>, /nerdctl/<id>
//                                     (containerd namespaces, cgroupfs driver: ctr, nerdctl)
//   /k8s.io/<name>                    (containerd's CRI namespace: any valid containerd id,
//                                     e.g. `ctr -n k8s.io run img web-1`; kept whole, see ShortContainerId)
//   docker-<id>.scope                 (systemd driver)
//   cri-containerd-<id>.scope         (containerd, systemd driver)
//   ...:cri-containerd:<id>           (containerd, cgroupfs driver path form)
//   crio-<id> / crio-<id>.scope       (CRI-O; `crio-conmon-<id>` is the monitor: not a container)
//   libpod-<id>.scope                 (podman, systemd manager; `libpod-conmon-<id>` is the monitor: not a container)
//   libpod-<id>                       (podman, cgroupfs manager: /libpod_parent/libpod-<id>)
//   libpod-payload-<id>               (podman --cgroups=split)
//   nerdctl-<id>.scope                (nerdctl)
std::string ContainerIdFromCgroup(std::string_view cgroup_path);

// The id vigil shows and keys metadata by: a 64-hex runtime id's first 12
// characters; any other id (a containerd id such as "web-1") whole.
std::string ShortContainerId(std::string_view full_id);

// True when `cgroup_path` matches one of the runtime patterns above.
bool IsContainerCgroup(std::string_view cgroup_path);

// "In a container": a runtime pattern matched (container_id is neither empty
// nor "host"), or the process is in a mount namespace other than the host's and
// in a nested pid namespace (pidns_level > 0). Unknown namespace inodes (0) never
// count as "different". `host` is PID 1's namespaces.
bool InContainer(const ProcessInfo& proc, const Namespaces& host);

}  // namespace vigil
