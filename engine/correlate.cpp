// SPDX-License-Identifier: Apache-2.0
#include "engine/correlate.h"

#include <algorithm>

namespace vigil {

void Correlator::Clear() {
  keys_.clear();
  lru_.clear();
  last_burst_.clear();
}

void Correlator::Touch(Entry* e) { lru_.splice(lru_.begin(), lru_, e->lru); }

void Correlator::EvictExpired(int64_t now) {
  // The least recently used key is the one with the oldest last event (times
  // only move forward per key), so expired keys sit at the back.
  while (!lru_.empty()) {
    auto it = keys_.find(lru_.back());
    if (it->second.last + window_ns_ >= now) break;
    keys_.erase(it);
    lru_.pop_back();
    ++evicted_expired_;
  }
}

bool Correlator::Observe(std::string_view key_in, std::string_view value_in, int64_t now) {
  last_burst_.clear();
  EvictExpired(now);
  std::string key(key_in);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (max_keys_ == 0) return false;
    if (keys_.size() >= max_keys_) {
      keys_.erase(lru_.back());
      lru_.pop_back();
      ++evicted_pressure_;
    }
    lru_.push_front(key);
    it = keys_.emplace(std::move(key), Entry{}).first;
    it->second.lru = lru_.begin();
  } else {
    Touch(&it->second);
  }
  Entry& e = it->second;
  now = std::max(now, e.last);
  e.last = now;
  if (now < e.quiet_until) return false;
  // Values older than the window no longer count.
  std::erase_if(e.values, [&](const auto& v) { return v.second + window_ns_ < now; });
  const std::string_view value = value_in.substr(0, kMaxValueBytes);
  auto v = std::find_if(e.values.begin(), e.values.end(), [&](const auto& x) { return x.first == value; });
  if (v != e.values.end()) {
    v->second = now;
    return false;
  }
  e.values.emplace_back(std::string(value), now);
  if (e.values.size() < count_) return false;
  for (auto& x : e.values) last_burst_.push_back(std::move(x.first));
  e.values.clear();
  e.quiet_until = now + window_ns_;
  return true;
}

}  // namespace vigil
