// SPDX-License-Identifier: Apache-2.0
#include "agent/container_hold.h"

namespace vigil::agent {

ContainerHold::ContainerHold(std::shared_ptr<ContainerMetaCache> cache, std::chrono::milliseconds hold,
                             std::size_t max_events)
    : cache_(std::move(cache)), hold_(hold), max_events_(max_events) {}

bool ContainerHold::MaybeHold(const Event& ev) {
  if (!cache_ || hold_.count() == 0 || ev.container) return false;
  const std::string& id = ev.proc.container_id;
  if (id.empty() || id == "host") return false;
  auto it = per_container_.find(id);
  if (it == per_container_.end() && !cache_->Pending(id)) return false;
  if (held_.size() >= max_events_) {
    ++stats_.drops;
    return false;
  }
  Held& h = held_.emplace_back();
  h.Keep(ev);
  h.deadline = std::chrono::steady_clock::now() + hold_;
  ++per_container_[id];
  ++stats_.held;
  return true;
}

void ContainerHold::Release(const std::function<void(const Event&)>& eval, bool all) {
  const auto now = std::chrono::steady_clock::now();
  while (!held_.empty()) {
    Held& h = held_.front();
    const std::string& id = h.event.proc.container_id;
    const bool pending = cache_->Pending(id);
    if (!all && pending && now < h.deadline) break;  // arrival order: later ones wait behind it
    h.event.container = cache_->Lookup(id);
    if (!h.event.container) ++stats_.timeouts;
    eval(h.event);
    if (auto it = per_container_.find(id); it != per_container_.end() && --it->second == 0) per_container_.erase(it);
    held_.pop_front();
  }
}

}  // namespace vigil::agent
