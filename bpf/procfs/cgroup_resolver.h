/* SPDX-License-Identifier: Apache-2.0 */
// Cgroup resolver: turns the kernel's cgroup v2 id (bpf_get_current_cgroup_id,
// == inode number of the cgroup's directory in cgroupfs) into the cgroup path
// and the container id it encodes, so the loader can fill Event::proc.cgroup
// and container_id.
//
// Contract:
// - Thread use: not thread-safe; owned and called by one thread (the hot
//   thread). No locks.
// - Cost: a hit is one hash lookup, no syscalls, no allocation. A miss resolves
//   the id with open_by_handle_at on the cgroup2 mount (needs
//   CAP_DAC_READ_SEARCH; about 3 syscalls), or, when that is refused, by
//   rescanning the cgroup tree (a walk of the cgroup2 mount: ~1 ms per 1000
//   cgroups). Rescans are rate-limited (at most one per kRescanInterval; ids
//   still unknown after a rescan are remembered as unknown until the next one),
//   so a burst of events from an unknown cgroup costs at most one walk.
// - Bounded: at most `capacity` cached ids; when full the oldest-inserted entry
//   is dropped (counted in Stats().evictions). Cgroups are few and long-lived.
// - Never throws after construction (the constructor allocates the cache).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/non_copyable.h"

namespace vigil {

struct CgroupInfo {
  std::string path;          // "/" based, relative to the cgroup2 root, e.g. "/system.slice/ssh.service"
  std::string container_id;  // ContainerIdFromCgroup(path): 12 hex or "host"
};

struct CgroupResolverStats {
  std::size_t size = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;        // lookups not in the cache
  uint64_t handle_opens = 0;  // misses resolved by open_by_handle_at
  uint64_t rescans = 0;       // tree walks done
  uint64_t unresolved = 0;    // lookups that found nothing (cgroup gone, or before a rescan is allowed)
  uint64_t evictions = 0;
};

class CgroupResolver : NonCopyable {
 public:
  static constexpr std::chrono::milliseconds kRescanInterval{1000};

  enum class Method {
    kAuto,        // try file handles, fall back to scanning when refused
    kScanOnly,    // never use file handles (tests; hosts where they are refused)
  };

  // `cgroup_root`: the cgroup2 mount; "" finds it (FindCgroup2Mount in proc_scan.h).
  explicit CgroupResolver(std::string cgroup_root = "", std::size_t capacity = 4096,
                          Method method = Method::kAuto);
  ~CgroupResolver();

  // The cgroup with this id, or nullptr when it cannot be found (id 0, the
  // cgroup was removed, or it is not under the cgroup2 root). The pointer stays
  // valid until the next call to Lookup() or Clear().
  const CgroupInfo* Lookup(uint64_t cgroup_id);
  // Forgets every cached id (e.g. after a reload).
  void Clear();
  CgroupResolverStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
