// SPDX-License-Identifier: Apache-2.0
// Per-rule, per-program alert throttling: one noisy rule cannot flood the
// sinks, and nothing it suppresses goes unsaid.
//
// Each (rule, process executable) key has a token bucket: `burst` alerts at
// once, refilled at `rate_per_s`. An alert that finds the bucket empty is
// suppressed and counted; Flush() turns each key's count into one summary
// alert ("vigil alerts throttled", the rule's own priority, naming the rule,
// the executable and how many) at most once per `summary_interval`, and at
// exit. Alerts with a kernel enforcement (deny/kill) are never suppressed.
// Keys are bounded (`max_keys`): when full, the least recently used key with
// nothing pending is forgotten; if every key has a pending count, a new key
// is not throttled (an alert is never lost to the bound).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/alert.h"

namespace vigil::agent {

struct ThrottleOptions {
  bool enabled = true;
  double rate_per_s = 1.0;
  double burst = 20;
  std::chrono::milliseconds summary_interval{10000};
  std::size_t max_keys = 16384;
};

class AlertThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AlertThrottle(ThrottleOptions options) : o_(options) {}

  // True: deliver `a`. False: suppressed (counted for the next summary).
  bool Admit(const Alert& a, Clock::time_point now);
  // Summaries due now (`all`: every pending count, at exit).
  std::vector<Alert> Flush(Clock::time_point now, bool all = false);

  uint64_t suppressed_total() const { return suppressed_total_; }
  const std::unordered_map<std::string, uint64_t>& suppressed_by_rule() const { return by_rule_; }
  std::size_t keys() const { return keys_.size(); }

 private:
  struct Key {
    std::string rule, exe;
    Priority priority = Priority::kWarning;
    double tokens = 0;
    Clock::time_point refilled, first_suppressed;
    uint64_t pending = 0;
    std::list<std::string>::iterator lru;
  };
  Alert Summary(const Key& k, Clock::time_point now) const;

  ThrottleOptions o_;
  std::unordered_map<std::string, Key> keys_;
  std::list<std::string> lru_;  // most recent first
  Clock::time_point next_flush_{};
  uint64_t suppressed_total_ = 0;
  std::unordered_map<std::string, uint64_t> by_rule_;
};

}  // namespace vigil::agent
