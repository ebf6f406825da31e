// SPDX-License-Identifier: Apache-2.0
// Events of a container whose metadata is being fetched wait (briefly) before
// the rules see them, so that a container's first events (its init's exec:
// Falco's container_started) are evaluated with container.image,
// container.privileged, container.mounts... and not with <NA>.
//
// Contract:
// - Hot thread only; no locks of its own (the cache has its one mutex).
// - An event is held when its container's metadata fetch is pending, or when
//   an earlier event of the same container is still held (per-container order
//   is kept). Nothing else is held.
// - Bounded: an event waits at most `hold` (then it is evaluated without
//   metadata, counted as a timeout), and at most `max_events` wait at once (a
//   further event is not held, counted as a drop: it is evaluated at once).
// - Held events keep copies of their ancestors (OwnedAncestors), since the
//   process table moves on while they wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "agent/kept_event.h"
#include "engine/event.h"
#include "engine/state/container_meta.h"

namespace vigil::agent {

struct ContainerHoldStats {
  uint64_t held = 0;      // events that waited
  uint64_t timeouts = 0;  // released at the deadline, without metadata
  uint64_t drops = 0;     // not held: the hold was full
};

class ContainerHold {
 public:
  ContainerHold(std::shared_ptr<ContainerMetaCache> cache, std::chrono::milliseconds hold, std::size_t max_events);

  // True when `ev` was taken; false: evaluate it now.
  bool MaybeHold(const Event& ev);
  // Calls `eval` for each held event whose metadata arrived or whose time is
  // up, in arrival order; with `all`, for every held event (shutdown, reload).
  void Release(const std::function<void(const Event&)>& eval, bool all = false);
  bool empty() const { return held_.empty(); }
  // True while an event of container `id` waits here.
  bool Holds(const std::string& id) const { return per_container_.contains(id); }
  const ContainerHoldStats& stats() const { return stats_; }

 private:
  struct Held : KeptEvent {
    std::chrono::steady_clock::time_point deadline;
  };
  std::shared_ptr<ContainerMetaCache> cache_;
  std::chrono::milliseconds hold_;
  std::size_t max_events_;
  std::deque<Held> held_;  // push_back/pop_front keep the other elements in place
  std::unordered_map<std::string, std::size_t> per_container_;
  ContainerHoldStats stats_;
};

}  // namespace vigil::agent
