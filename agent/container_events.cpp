// SPDX-License-Identifier: Apache-2.0
#include "agent/container_events.h"

#include <time.h>

#include <algorithm>

namespace vigil::agent {

namespace {

uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

ContainerEvents::ContainerEvents(std::shared_ptr<ContainerMetaCache> cache, std::size_t capacity)
    : cache_(std::move(cache)), capacity_(capacity == 0 ? 1 : capacity) {}

bool ContainerEvents::OnEvent(const Event& ev, Event* out) {
  const std::string& id = ev.proc.container_id;
  if (id.empty() || id == "host" || ev.type == EventType::container) return false;
  if (seen_.contains(id)) return false;
  if (cache_ && cache_->Gone(id)) {
    ++stats_.late;  // its removal was announced: a late event, not a new start
    return false;
  }
  seen_.insert(id);
  order_.push_back(id);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  out->Reset();
  out->type = EventType::container;
  out->ts_ns = ev.ts_ns;
  out->wall_ns = ev.wall_ns;
  out->res = 0;
  out->proc = ev.proc;
  out->ancestors = ev.ancestors;
  out->container = ev.container;
  ++stats_.started;
  return true;
}

void ContainerEvents::Evaluated(const Event& ev) {
  if (ev.type != EventType::container || ev.container) return;
  ++stats_.incomplete;
  if (!cache_ || incomplete_.size() >= kMaxIncomplete) {
    if (cache_) ++stats_.gave_up;
    return;
  }
  Incomplete& inc = incomplete_.emplace_back();
  inc.Keep(ev);
  inc.since = std::chrono::steady_clock::now();
}

void ContainerEvents::Poll(const std::function<void(const Event&)>& emit) {
  if (incomplete_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = incomplete_.begin(); it != incomplete_.end();) {
    const std::string& id = it->event.proc.container_id;
    if (cache_->Pending(id)) {
      if (now - it->since < kIncompleteFor) {
        ++it;
        continue;
      }
      ++stats_.gave_up;
    } else if (auto meta = cache_->Peek(id)) {
      it->event.container = std::move(meta);
      it->event.ts_ns = ClockNs(CLOCK_BOOTTIME);
      it->event.wall_ns = ClockNs(CLOCK_REALTIME);
      ++stats_.reemitted;
      emit(it->event);
    } else {
      ++stats_.gave_up;  // the fetch failed, or the container is gone
    }
    it = incomplete_.erase(it);
  }
}

void ContainerEvents::Forget(const std::string& id) {
  if (seen_.erase(id) == 0) return;
  // Exits are rare next to events; a linear pass over at most `capacity_` ids is fine.
  if (auto it = std::find(order_.begin(), order_.end(), id); it != order_.end()) order_.erase(it);
}

void ContainerEvents::PollExited(const std::function<bool(const std::string&)>& held,
                                 const std::function<void(const Event&)>& emit) {
  if (!cache_) return;
  while (std::optional<ExitedContainer> x = cache_->TakeExited()) {
    if (exiting_.size() >= kExitedCapacity) {
      exiting_.pop_front();
      ++stats_.removed_drops;
    }
    exiting_.push_back(std::move(*x));
  }
  for (auto x = exiting_.begin(); x != exiting_.end();) {
    if (held(x->id)) {
      ++x;  // its start (or other events) not evaluated yet: the removal waits
      continue;
    }
    Forget(x->id);
    // A start event that went out without metadata gets it now, before the stop.
    for (auto it = incomplete_.begin(); it != incomplete_.end();) {
      if (it->event.proc.container_id != x->id) {
        ++it;
        continue;
      }
      it->event.container = x->meta;
      it->event.ts_ns = ClockNs(CLOCK_BOOTTIME);
      it->event.wall_ns = ClockNs(CLOCK_REALTIME);
      ++stats_.reemitted;
      emit(it->event);
      it = incomplete_.erase(it);
    }
    removed_.Reset();
    removed_.type = EventType::container_removed;
    removed_.ts_ns = ClockNs(CLOCK_BOOTTIME);
    removed_.wall_ns = ClockNs(CLOCK_REALTIME);
    removed_.res = 0;
    removed_.proc.container_id = x->id;
    removed_.container = std::move(x->meta);
    ++stats_.removed;
    emit(removed_);
    x = exiting_.erase(x);
  }
}

}  // namespace vigil::agent
