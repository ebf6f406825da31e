// SPDX-License-Identifier: Apache-2.0
#include "agent/container_events.h"

#include <time.h>

namespace vigil::agent {

namespace {
constexpr int kMaxAncestorCopy = 32;  // the process table's own bound on the chain

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
  if (!seen_.insert(id).second) return false;
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
  inc.event = ev;
  if (ev.ancestors != nullptr) {
    for (int level = 1; level <= kMaxAncestorCopy; ++level) {
      const ProcessInfo* p = ev.ancestors->Ancestor(level);
      if (p == nullptr) break;
      inc.ancestors.chain.push_back(*p);
    }
  }
  inc.event.ancestors = &inc.ancestors;
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

}  // namespace vigil::agent
