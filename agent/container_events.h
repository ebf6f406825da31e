// SPDX-License-Identifier: Apache-2.0
// Falco's `container` event type: vigil synthesizes an event of type
// EventType::container when it first sees an event from a container id, so
// rules written for Falco's `evt.type = container` (the container_started
// macro of Launch Privileged Container, Launch Sensitive Mount Container...)
// can fire on a container's start.
//
// Contract:
// - Hot thread only; no locks of its own (the cache has its one mutex).
// - OnEvent(ev) fills *out with a container event when ev is the first event
//   seen from its container (not "host", not empty). The container event
//   copies ev's time, process and ancestors view, and carries ev's metadata
//   (if any); the caller hands it to the same path as ev, before ev, so the
//   container hold (agent/container_hold.h) keeps it until the metadata
//   arrives, and it is evaluated first.
// - Re-emitted with the metadata: a container event evaluated without
//   metadata (the hold timed out, or it was dropped from the hold) whose
//   metadata arrives later is emitted once more, with it, by Poll(): the
//   Falco macro needs container.image.repository (`!= incomplete`, and <NA>
//   makes the check false). Waiting for that is bounded in count and time.
// - Stops: PollExited() makes one event of type EventType::container_removed
//   (the name of the Falco container plugin's removal event) per container
//   the watcher found gone from its runtime's listing
//   (ContainerMetaCache::TakeExited(), once per exit; only containers whose
//   metadata was fetched), with that metadata, the current time and no
//   process but
//   proc.container_id. It comes after the container's start event: while
//   the hold still keeps events of that container the removal waits (at
//   most kExitedCapacity wait; more are dropped, counted), and a start event
//   still waiting for its metadata is re-emitted with it first. The id is
//   forgotten, but a late event of it (the cache says it is gone) is not a
//   new start; once the listing has the id again (a restart,
//   ContainerMetaCache::Revive()) its next event is announced anew.
// - Bounded: at most `capacity` container ids are remembered (the oldest is
//   forgotten first; a forgotten container that is seen again is announced
//   again), at most kMaxIncomplete wait for re-emission, each at most
//   kIncompleteFor.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_set>

#include "agent/kept_event.h"
#include "engine/event.h"
#include "engine/state/container_meta.h"

namespace vigil::agent {

struct ContainerEventStats {
  uint64_t started = 0;      // container events made on first sight
  uint64_t reemitted = 0;    // made again when the metadata came late
  uint64_t incomplete = 0;   // evaluated without metadata
  uint64_t gave_up = 0;      // no metadata came (failed, gone, or waited too long / too many)
  uint64_t removed = 0;      // container_removed events made
  uint64_t removed_drops = 0;  // exits not announced: too many waited for the hold
  uint64_t late = 0;         // events of a container already announced removed (no new start)
};

class ContainerEvents {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::size_t kMaxIncomplete = 256;
  static constexpr std::chrono::seconds kIncompleteFor{60};

  // `cache` may be null (no runtime configured): container events are still
  // made on first sight, without metadata, and never re-emitted.
  explicit ContainerEvents(std::shared_ptr<ContainerMetaCache> cache, std::size_t capacity = kDefaultCapacity);

  // True (and *out filled) when `ev` is the first event seen from its container.
  bool OnEvent(const Event& ev, Event* out);
  // Call for every container event as it is evaluated: one without metadata
  // is remembered for re-emission.
  void Evaluated(const Event& ev);
  // Emits (calls `emit` with) the container events whose metadata arrived
  // since they were evaluated without it, stamped with the current time.
  void Poll(const std::function<void(const Event&)>& emit);
  static constexpr std::size_t kExitedCapacity = ContainerMetaCache::kExitedCapacity;
  // Emits a container_removed event for each container the cache evicted
  // because it exited (see the contract above), except those for which
  // `held(id)` is true (events of it still wait in the hold): they are
  // emitted by a later call. A start event re-emitted with its metadata
  // first goes to `emit` too (type container).
  void PollExited(const std::function<bool(const std::string&)>& held,
                  const std::function<void(const Event&)>& emit);

  const ContainerEventStats& stats() const { return stats_; }
  std::size_t known() const { return seen_.size(); }

 private:
  struct Incomplete : KeptEvent {
    std::chrono::steady_clock::time_point since;
  };
  std::shared_ptr<ContainerMetaCache> cache_;
  std::size_t capacity_;
  void Forget(const std::string& id);

  std::unordered_set<std::string> seen_;
  std::deque<std::string> order_;  // seen_ in first-seen order, for the bound
  std::list<Incomplete> incomplete_;  // list: an element's event points at its own ancestors
  std::deque<ExitedContainer> exiting_;  // taken from the cache, waiting for the hold
  Event removed_;  // PollExited()'s event, reused
  ContainerEventStats stats_;
};

}  // namespace vigil::agent
