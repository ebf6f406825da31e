// SPDX-License-Identifier: Apache-2.0
// Correlation for rules with a `correlate:` key (a vigil extension): the rule
// fires once when, within `window`, its condition has matched events with
// `count` distinct values of one field (the `distinct` field) under one key
// (the values of the `by` fields). Discovery bursts are the use: one process
// tree running many different discovery commands.
//
// Contract:
// - Observe() is called for each event whose condition matched; it returns
//   true on the event that completes a burst (the count-th distinct value
//   seen within the window). The key then stays quiet for one window: the
//   events of the same burst do not fire again.
// - Times are the events' own (ns); a time earlier than the key's last one
//   (events of different CPUs slightly out of order) counts as the last one.
// - Memory is bounded: at most `max_keys` keys, each holding at most `count`
//   values of at most kMaxValueBytes. A key whose last event is older than
//   the window is forgotten (evicted on expiry, the oldest first, by every
//   Observe). When every key is live and a new one comes, the least recently
//   used key is forgotten and counted (evicted_pressure): a burst may then
//   be missed, and the metric says so.
// - Not thread-safe: one correlator per rule per engine, evaluated by the
//   engine's one thread.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil {

class Correlator {
 public:
  static constexpr std::size_t kMaxValueBytes = 256;

  Correlator(uint32_t count, int64_t window_ns, std::size_t max_keys)
      : count_(count), window_ns_(window_ns), max_keys_(max_keys) {}

  bool Observe(std::string_view key, std::string_view value, int64_t time_ns);
  // The distinct values of the burst the last Observe() completed (in the
  // order first seen), for the alert; empty when it completed none.
  const std::vector<std::string>& last_burst() const { return last_burst_; }
  void Clear();

  std::size_t keys() const { return keys_.size(); }
  uint64_t evicted_expired() const { return evicted_expired_; }
  uint64_t evicted_pressure() const { return evicted_pressure_; }

 private:
  struct Entry {
    std::vector<std::pair<std::string, int64_t>> values;  // distinct value -> last seen
    int64_t last = 0;
    int64_t quiet_until = 0;  // after a burst: absorb events until then
    std::list<std::string>::iterator lru;
  };
  void Touch(Entry* e);
  void EvictExpired(int64_t now);

  uint32_t count_;
  int64_t window_ns_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Entry> keys_;
  std::list<std::string> lru_;  // most recently used first
  std::vector<std::string> last_burst_;
  uint64_t evicted_expired_ = 0, evicted_pressure_ = 0;
};

}  // namespace vigil
