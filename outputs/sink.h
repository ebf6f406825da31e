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
//   corrupt  spool records found corrupt on read and skipped
struct SinkCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> spooled{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> corrupt{0};
};

// A copy of SinkCounters at one moment.
struct SinkStats {
  std::string name;
  uint64_t sent = 0;
  uint64_t failed = 0;
  uint64_t spooled = 0;
  uint64_t dropped = 0;
  uint64_t corrupt = 0;
  uint64_t queued = 0;  // alerts waiting in the sink's fan-out queue
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
