// SPDX-License-Identifier: Apache-2.0
// The capture heartbeat: proof, end to end, that events still reach vigil.
//
// A thread of the agent opens a path that does not exist,
// `<prefix><sequence>`, once per interval; the capture reports each attempt
// like any other openat. The hot thread hands every openat of vigil's own
// process to OnEvent(), which acknowledges the sequence number it carries.
// Check() then raises:
// - "vigil capture gap" when a heartbeat arrived but an earlier one never did
//   (the ring buffer is in order: the earlier one was lost, e.g. read by
//   another process that took the ring buffer's fd and advanced its consumer
//   position, which no kernel counter shows);
// - "vigil capture blinded" when no heartbeat arrived for `timeout` while
//   they were being sent (programs detached, the ring buffer drained by
//   someone else, or vigil more than `timeout` behind).
// Neither check depends on anything an attacker with the counters map or the
// ring buffer's fd could rewrite.
//
// Threads: Start()/Stop() and Check() on the hot thread; OnEvent() on the hot
// thread; the sender is its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/alert.h"

namespace vigil::agent {

class CaptureHeartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  // `prefix`: a directory path that does not exist, ending in '/'.
  CaptureHeartbeat(std::string prefix, std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
  ~CaptureHeartbeat();

  void Start();
  void Stop();
  // Sends the next heartbeat now and returns its sequence number (the
  // thread's step; tests call it directly).
  uint64_t SendOne();

  // An openat by vigil's own process: acknowledges a heartbeat when `path`
  // is one. True when it was (the event is vigil's own: no rule needs it).
  bool OnEvent(const std::string& path);
  // Alerts due now (gaps found since the last call; blinded, once per outage).
  std::vector<Alert> Check(Clock::time_point now);

  uint64_t sent() const { return sent_.load(); }
  uint64_t received() const { return received_; }
  uint64_t missing() const { return missing_; }

 private:
  const std::string prefix_;
  const std::chrono::milliseconds interval_, timeout_;
  std::atomic<uint64_t> sent_{0};
  uint64_t last_seq_ = 0;  // highest sequence number received
  uint64_t received_ = 0, missing_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> gaps_;  // [first, last] not received, not yet reported
  Clock::time_point last_ack_;
  bool blinded_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vigil::agent
