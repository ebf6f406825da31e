// SPDX-License-Identifier: Apache-2.0
#include "agent/alert_throttle.h"

#include <algorithm>

#include "agent/self_alerts.h"

namespace vigil::agent {

bool AlertThrottle::Admit(const Alert& a, Clock::time_point now) {
  if (!o_.enabled || !a.enforcement.empty()) return true;
  std::string id = a.rule;
  id += '\0';
  id += a.process.exepath;
  auto it = keys_.find(id);
  if (it == keys_.end()) {
    if (keys_.size() >= o_.max_keys) {
      // Forget the least recently used key with nothing pending.
      auto victim = std::find_if(lru_.rbegin(), lru_.rend(), [&](const std::string& k) { return keys_.at(k).pending == 0; });
      if (victim == lru_.rend()) return true;  // all pending: never lose an alert to the bound
      keys_.erase(*victim);
      lru_.erase(std::next(victim).base());
    }
    lru_.push_front(id);
    Key k;
    k.rule = a.rule;
    k.exe = a.process.exepath;
    k.tokens = o_.burst;
    k.refilled = now;
    k.lru = lru_.begin();
    it = keys_.emplace(id, std::move(k)).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Key& k = it->second;
  k.priority = a.priority;
  const double elapsed = std::chrono::duration<double>(now - k.refilled).count();
  k.tokens = std::min(o_.burst, k.tokens + elapsed * o_.rate_per_s);
  k.refilled = now;
  if (k.tokens >= 1) {
    k.tokens -= 1;
    return true;
  }
  if (k.pending == 0) k.first_suppressed = now;
  ++k.pending;
  ++suppressed_total_;
  ++by_rule_[a.rule];
  return false;
}

Alert AlertThrottle::Summary(const Key& k, Clock::time_point now) const {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - k.first_suppressed).count();
  Alert a = SelfAlert("vigil alerts throttled", k.priority,
                      "rule '" + k.rule + "' fired " + std::to_string(k.pending) + " more times for " +
                          (k.exe.empty() ? std::string("<NA>") : k.exe) + " in the last " + std::to_string(secs) +
                          " s; those alerts were not sent (throttled: at most " +
                          std::to_string(static_cast<uint64_t>(o_.burst)) + " at once, then " +
                          std::to_string(o_.rate_per_s) + " per second per rule and program)");
  a.output_fields = {{"vigil.throttle.rule", k.rule},
                     {"vigil.throttle.exepath", k.exe},
                     {"vigil.throttle.suppressed", k.pending}};
  a.tags.push_back("throttled");
  a.process.exepath = k.exe;
  return a;
}

std::vector<Alert> AlertThrottle::Flush(Clock::time_point now, bool all) {
  std::vector<Alert> out;
  if (!all && now < next_flush_) return out;
  next_flush_ = now + o_.summary_interval;
  for (auto& [id, k] : keys_) {
    if (k.pending == 0) continue;
    out.push_back(Summary(k, now));
    k.pending = 0;
  }
  return out;
}

}  // namespace vigil::agent
