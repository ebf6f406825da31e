// SPDX-License-Identifier: Apache-2.0
#include "outputs/fanout.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vigil::outputs {

struct FanOut::Worker {
  std::unique_ptr<Sink> sink;
  std::size_t capacity = 0;
  Priority min_priority = Priority::kDebug;
  mutable std::mutex mu;
  std::condition_variable cv;        // work arrived or stop requested
  std::condition_variable idle_cv;   // queue drained and batch written
  std::deque<std::shared_ptr<const Alert>> queue;
  bool busy = false;                 // a batch is being written
  bool stop = false;
  std::thread thread;

  void Run() {
    constexpr auto kTick = std::chrono::milliseconds(20);
    std::deque<std::shared_ptr<const Alert>> batch;
    for (;;) {
      bool stopping;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, kTick, [&] { return stop || !queue.empty(); });
        batch.swap(queue);
        busy = !batch.empty();
        stopping = stop && batch.empty();
      }
      for (const auto& alert : batch) sink->Write(*alert);
      batch.clear();
      sink->Tick();
      {
        std::lock_guard lock(mu);
        busy = false;
        if (queue.empty()) idle_cv.notify_all();
      }
      if (stopping) return;
    }
  }
};

FanOut::FanOut() = default;

FanOut::~FanOut() { Stop(); }

void FanOut::AddSink(std::unique_ptr<Sink> sink, std::size_t queue_capacity, Priority min_priority) {
  auto w = std::make_unique<Worker>();
  w->sink = std::move(sink);
  w->capacity = queue_capacity == 0 ? 1 : queue_capacity;
  w->min_priority = min_priority;
  workers_.push_back(std::move(w));
}

void FanOut::Start() {
  if (started_) return;
  started_ = true;
  for (auto& w : workers_) w->thread = std::thread([p = w.get()] { p->Run(); });
}

void FanOut::Submit(std::shared_ptr<const Alert> alert, const Sink* except) {
  for (auto& w : workers_) {
    if (w->sink.get() == except) continue;
    // Lower numeric priority is more severe.
    if (static_cast<uint8_t>(alert->priority) > static_cast<uint8_t>(w->min_priority)) continue;
    bool dropped = false;
    {
      std::lock_guard lock(w->mu);
      if (w->stop || w->queue.size() >= w->capacity) dropped = true;
      else w->queue.push_back(alert);
    }
    if (dropped) w->sink->counters().dropped.fetch_add(1, std::memory_order_relaxed);
    else w->cv.notify_one();
  }
}

void FanOut::Reopen() {
  for (auto& w : workers_) w->sink->Reopen();
}

bool FanOut::WaitIdle(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (auto& w : workers_) {
    std::unique_lock lock(w->mu);
    if (!w->idle_cv.wait_until(lock, deadline, [&] { return w->queue.empty() && !w->busy; })) return false;
  }
  return true;
}

void FanOut::Stop(int close_deadline_ms) {
  if (stopped_) return;
  stopped_ = true;
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    w->sink->Close(close_deadline_ms);
  }
}

std::vector<SinkStats> FanOut::Stats() const {
  std::vector<SinkStats> out;
  for (const auto& w : workers_) {
    SinkStats s;
    s.name = std::string(w->sink->Name());
    const auto& c = w->sink->counters();
    s.sent = c.sent.load(std::memory_order_relaxed);
    s.failed = c.failed.load(std::memory_order_relaxed);
    s.spooled = c.spooled.load(std::memory_order_relaxed);
    s.dropped = c.dropped.load(std::memory_order_relaxed);
    s.dropped_reported = c.dropped_reported.load(std::memory_order_relaxed);
    s.corrupt = c.corrupt.load(std::memory_order_relaxed);
    s.pending = c.pending.load(std::memory_order_relaxed);
    if (const int64_t since = c.failing_since_ns.load(std::memory_order_relaxed); since != 0) {
      const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
      s.failing = true;
      s.failing_for_ms = now > since ? static_cast<uint64_t>(now - since) / 1000000 : 0;
      s.last_errno = c.last_errno.load(std::memory_order_relaxed);
    }
    {
      std::lock_guard lock(w->mu);
      s.queued = w->queue.size();
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t FanOut::size() const { return workers_.size(); }
Sink& FanOut::sink(std::size_t i) { return *workers_.at(i)->sink; }

}  // namespace vigil::outputs
