// SPDX-License-Identifier: Apache-2.0
// The sink interface and the per-sink counters the metrics endpoint reads.
//
// Contract:
// - A Sink is driven by exactly one thread (its fan-out worker, see fanout.h):
//   Write(), Tick() and Close() are never called concurrently, so sinks keep
//   no locks of their own. Only counters() and Reopen() may be called from
//   other threads.
// - Write() never blocks on the network; what cannot be delivered now is kept
//   (memory bounded or disk spool) and retried from Tick(), or dropped and
//   counted when the bound is exceeded.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/alert.h"

namespace vigil::outputs {

// Monotonic counters, written by the sink thread, readable from any thread.
//   sent     alerts confirmed delivered (file: written; kafka: delivery report ok)
//   failed   delivery attempts that failed (write error, delivery report error);
//            a failed alert is kept and retried, so failed does not mean lost
//   spooled  alerts appended to the disk spool (kafka) or held in memory for retry
//   dropped  alerts lost for good: queue full, retry buffer or spool full
//   dropped_reported  the part of `dropped` the sink announced in an alert of
//            its own (kafka: "vigil spool overflow"); the agent's drop
//            monitor reports the rest as "vigil alerts dropped"
//   corrupt  spool records found corrupt on read and skipped
//   pending  (a gauge) alerts kept for delivery, not yet confirmed: kafka's
//            spool backlog (0 once the spool has drained)
// and the sink's health: since when it has not been able to deliver (file:
// cannot open or write; kafka: alerts pending and none delivered for a while),
// with the last errno when there is one. /healthz fails while any sink does.
struct SinkCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> spooled{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> dropped_reported{0};
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> pending{0};
  std::atomic<int64_t> failing_since_ns{0};  // steady clock; 0 = delivering
  std::atomic<int> last_errno{0};

  void MarkFailing(int err) {
    last_errno.store(err, std::memory_order_relaxed);
    int64_t expected = 0;
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    failing_since_ns.compare_exchange_strong(expected, now == 0 ? 1 : now, std::memory_order_relaxed);
  }
  void MarkDelivering() { failing_since_ns.store(0, std::memory_order_relaxed); }
};

// A copy of SinkCounters at one moment.
struct SinkStats {
  std::string name;
  uint64_t sent = 0;
  uint64_t failed = 0;
  uint64_t spooled = 0;
  uint64_t dropped = 0;
  uint64_t dropped_reported = 0;  // announced by the sink itself (see SinkCounters)
  uint64_t corrupt = 0;
  uint64_t queued = 0;  // alerts waiting in the sink's fan-out queue
  uint64_t pending = 0;  // kept for delivery, not yet confirmed (kafka: in the spool)
  bool failing = false;  // cannot deliver (see SinkCounters)
  uint64_t failing_for_ms = 0;
  int last_errno = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;

  // "file", "stdout", "kafka": used in logs and metrics.
  virtual std::string_view Name() const = 0;

  // Takes one alert. Called only on the sink thread.
  virtual void Write(const Alert& alert) = 0;

  // Periodic work: retries, fsync timers, delivery polling. Called on the sink
  // thread at least every few tens of milliseconds, also when idle.
  virtual void Tick() {}

  // Final flush before the thread exits; bounded by `deadline_ms`.
  virtual void Close(int /*deadline_ms*/) {}

  // Asks the sink to reopen its files (logrotate). Async-signal-safe: only
  // sets a flag the sink thread acts on at its next Tick().
  virtual void Reopen() {}

  SinkCounters& counters() { return counters_; }
  const SinkCounters& counters() const { return counters_; }

 protected:
  SinkCounters counters_;
};

}  // namespace vigil::outputs
