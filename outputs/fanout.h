// SPDX-License-Identifier: Apache-2.0
// Fan-out of alerts to sinks: one thread and one bounded queue per sink.
//
// Contract:
// - Submit() never blocks and never waits for a sink: when a sink's queue is
//   full the alert is dropped for that sink only and counted in its `dropped`.
//   A slow or dead sink therefore cannot stall the caller or the other sinks.
// - Each sink receives alerts at or above its minimum priority, in Submit()
//   order, on its own thread.
// - Stop() (also run by the destructor) drains the queues, then calls each
//   sink's Close() and joins the threads.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "engine/alert.h"
#include "engine/non_copyable.h"
#include "outputs/sink.h"

namespace vigil::outputs {

class FanOut : NonCopyable {
 public:
  FanOut();
  ~FanOut();

  // Adds a sink before Start(). `queue_capacity` alerts may wait for it
  // (plus the batch, at most as many, its thread is writing);
  // alerts less severe than `min_priority` are not given to it.
  void AddSink(std::unique_ptr<Sink> sink, std::size_t queue_capacity = 65536,
               Priority min_priority = Priority::kDebug);

  void Start();

  // Shares one immutable copy among the sinks. Thread-safe.
  void Submit(std::shared_ptr<const Alert> alert) { Submit(std::move(alert), nullptr); }
  // The same, skipping `except` (a sink reporting about itself).
  void Submit(std::shared_ptr<const Alert> alert, const Sink* except);
  void Submit(Alert alert) { Submit(std::make_shared<const Alert>(std::move(alert))); }

  // Reopen() on every sink (SIGHUP/SIGUSR1). Async-signal-safe.
  void Reopen();

  // Waits until every queue is empty (alerts handed to the sinks) or the
  // timeout passes; true when empty.
  bool WaitIdle(int timeout_ms);

  void Stop(int close_deadline_ms = 5000);

  std::vector<SinkStats> Stats() const;
  std::size_t size() const;
  Sink& sink(std::size_t i);

 private:
  struct Worker;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace vigil::outputs
