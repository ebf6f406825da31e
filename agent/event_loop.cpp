// SPDX-License-Identifier: Apache-2.0
#include "agent/event_loop.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "agent/metrics.h"
#include "agent/signals.h"
#include "bpf/sensor.h"
#include "runtime/container_watcher.h"

namespace vigil::agent {
namespace {

constexpr std::size_t kMaxHeldEvents = 16384;

// End-to-end proof that events still arrive (agent/heartbeat.h). The directory
// does not exist; the nonce keeps the name unguessable.
std::unique_ptr<CaptureHeartbeat> MakeHeartbeat() {
  std::random_device rd;
  return std::make_unique<CaptureHeartbeat>(fmt::format("/nonexistent-vigil-heartbeat-{:08x}{:08x}/", rd(), rd()),
                                            std::chrono::seconds(1), std::chrono::seconds(10));
}

// Hands the heap's free pages back to the kernel. Start-up (loading the BPF
// object, reading and compiling the rules) and a reload (the old ruleset)
// free megabytes below memory still in use, which glibc keeps mapped, and
// resident, until asked: 10.9 MB of the 25 MB of anonymous memory after
// start at 3f79067 (docs/performance.md, "Memory (issue 21)").
void ReturnFreeHeap() { ::malloc_trim(0); }

}  // namespace

EventLoop::EventLoop(LoopParts parts, std::unique_ptr<Loaded> loaded)
    : p_(std::move(parts)),
      loaded_(std::move(loaded)),
      engine_(loaded_->engine.get()),
      loss_monitor_({"ringbuf_drop", "priority_ringbuf_drop", "pending_full"}, std::chrono::seconds(10)),
      heartbeat_(p_.sensor ? MakeHeartbeat() : nullptr),
      throttle_(loaded_->config.throttle),
      hold_(p_.container_cache, std::chrono::milliseconds(loaded_->config.containers.hold_ms), kMaxHeldEvents),
      container_events_(p_.container_cache),
      self_pid_(static_cast<uint32_t>(getpid())) {}

int EventLoop::Run() {
  if (heartbeat_) heartbeat_->Start();
  StartDnsNames(*engine_, nullptr);
  ReturnFreeHeap();
  NotifyServiceManager("READY=1");
  spdlog::info("vigil running (pid {})", getpid());
  const auto start = Clock::now();
  next_loss_check_ = start;
  next_publish_ = start;
  next_integrity_ = start + std::chrono::seconds(1);
  next_stats_ = start + std::chrono::seconds(loaded_->config.stats_interval_s);
  while (!StopRequested()) {
    if (p_.enforcement->manager()) PollRefusals();
    int n = 0;
    if (p_.sensor)
      n = p_.sensor->Poll(hold_.empty() ? 100 : 10, [this](const Event& ev) { OnEvent(ev); });
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    hold_.Release([this](const Event& ev) { Evaluate(ev); });
    container_events_.Poll([this](const Event& ev) {
      ++hot_.by_type[static_cast<std::size_t>(EventType::container)];
      Evaluate(ev);
    });
    container_events_.PollExited([this](const std::string& id) { return hold_.Holds(id); },
                                 [this](const Event& ev) {
                                   ++hot_.by_type[static_cast<std::size_t>(ev.type)];
                                   Evaluate(ev);
                                 });
    if (n < 0 && n != -EINTR) {
      spdlog::error("capture: ring buffer poll failed: {}", std::strerror(-n));
      return 1;
    }
    HandleSignals();
    RunDueTicks();
  }
  return 0;
}

void EventLoop::Drain() {
  NotifyServiceManager("STOPPING=1");
  hold_.Release([this](const Event& ev) { Evaluate(ev); }, /*all=*/true);
  if (p_.container_watcher) p_.container_watcher->Stop();
  if (heartbeat_) heartbeat_->Stop();
  for (auto& a : loss_monitor_.Flush()) EmitSelf(std::move(a));
  Emit(throttle_.Flush(Clock::now(), /*all=*/true));
  alert_loss_monitor_.Observe(p_.fanout->Stats(), Clock::now());
  for (auto& a : alert_loss_monitor_.Flush()) EmitSelf(std::move(a));
}

void EventLoop::OnEvent(const Event& ev) {
  ++hot_.events;
  ++hot_.by_type[static_cast<std::size_t>(ev.type)];
  if (heartbeat_ && ev.proc.pid == self_pid_ &&
      (ev.type == EventType::openat || ev.type == EventType::open) && heartbeat_->OnEvent(ev.file.path))
    return;
  if (container_events_.OnEvent(ev, &container_event_)) {
    ++hot_.by_type[static_cast<std::size_t>(EventType::container)];
    if (!hold_.MaybeHold(container_event_)) Evaluate(container_event_);
  }
  if (!hold_.MaybeHold(ev)) Evaluate(ev);
}

void EventLoop::Evaluate(const Event& ev) {
  if (ev.type == EventType::container) container_events_.Evaluated(ev);
  if (ev.type == EventType::bpf && p_.self->ForeignAccess(ev)) OnSelfAccess(ev);
  else if (ev.type != EventType::bpf && p_.self->TargetsSelf(ev)) OnSelfTarget(ev);
  engine_->Match(ev, &fired_);
  const std::string enforced = fired_.empty() ? std::string() : refusals_.ClaimForRule(ev.proc.tid);
  for (const CompiledRule* rule : fired_) {
    Alert alert = engine_->MakeAlert(*rule, ev);
    if (!enforced.empty() && rule->action != "alert") alert.enforcement = enforced;
    ++hot_.by_rule[rule->name];
    if (!throttle_.Admit(alert, Clock::now())) {
      ++hot_.throttled_by_rule[rule->name];
      continue;
    }
    p_.fanout->Submit(std::move(alert));
    ++hot_.alerts;
  }
}

void EventLoop::OnSelfAccess(const Event& ev) {
  const enforce::EnforcementManager* enforcer = p_.enforcement->manager();
  const bool lsm = enforcer && enforcer->lsm();
  const std::string enforced = refusals_.ClaimForSelfProtection(ev.proc.tid, lsm && ev.res == -EPERM);
  if (auto a = p_.self->AccessAlert(ev, enforced, lsm, Clock::now())) Emit(std::move(*a));
}

void EventLoop::OnSelfTarget(const Event& ev) {
  const enforce::EnforcementManager* enforcer = p_.enforcement->manager();
  const bool lsm = enforcer && enforcer->lsm();
  // The LSM ptrace_access_check refusal: EPERM from ptrace, pidfd_getfd and
  // process_vm_*; EACCES from an open of /proc/<pid>/mem.
  const bool is_open = ev.type == EventType::open || ev.type == EventType::openat || ev.type == EventType::openat2;
  const bool refused = lsm && ev.res == (is_open ? -EACCES : -EPERM);
  const std::string enforced = refusals_.ClaimForSelfProtection(ev.proc.tid, refused);
  if (auto a = p_.self->TargetAlert(ev, enforced, lsm, Clock::now())) Emit(std::move(*a));
}

void EventLoop::PollRefusals() {
  Emit(refusals_.Expire(*engine_));
  p_.enforcement->manager()->PollRefusals(0, [this](const enforce::Refusal& r) { refusals_.OnRefusal(r); });
}

void EventLoop::HandleSignals() {
  if (TakeReopenRequest()) p_.fanout->Reopen();
  if (TakeReloadRequest()) Reload();
}

void EventLoop::Reload() {
  NotifyServiceManager("RELOADING=1");
  p_.fanout->Reopen();
  ReloadOutcome r = p_.reloader->Reload(loaded_->config);
  if (r.next) {
    StartDnsNames(*r.next->engine, engine_);
    loaded_ = std::move(r.next);
    engine_ = loaded_->engine.get();
    if (p_.sensor) ApplyInterest(p_.sensor, *engine_);
    ReturnFreeHeap();
    ++hot_.reloads_ok;
    spdlog::info("reload: new ruleset active");
  } else {
    ++hot_.reloads_failed;
    p_.fanout->Submit(std::move(*r.failure));
  }
  NotifyServiceManager("READY=1");
}

void EventLoop::RunDueTicks() {
  if (Clock::now() >= next_loss_check_) {
    if (p_.sensor) CheckCapture();
    for (auto& a : alert_loss_monitor_.Observe(p_.fanout->Stats(), Clock::now())) EmitSelf(std::move(a));
    next_loss_check_ = Clock::now() + std::chrono::milliseconds(500);
  }
  if (Clock::now() >= next_integrity_) {
    CheckIntegrity();
    next_integrity_ = Clock::now() + std::chrono::seconds(1);
  }
  if (p_.metrics && Clock::now() >= next_publish_) {
    Publish();
    next_publish_ = Clock::now() + std::chrono::seconds(1);
  }
  const int stats_s = loaded_->config.stats_interval_s;
  if (stats_s > 0 && Clock::now() >= next_stats_) {
    spdlog::info("{}", StatsLine(p_.sensor, *p_.fanout, hot_.events, hot_.alerts));
    next_stats_ = Clock::now() + std::chrono::seconds(stats_s);
  }
}

// A gap in capture is an alert, not only a metric: rules saw nothing of that window.
void EventLoop::CheckCapture() {
  CaptureLossMonitor::Counters now_counters;
  for (const auto& c : p_.sensor->ReadCounters()) now_counters.emplace_back(std::string(c.name), c.value);
  for (auto& a : loss_monitor_.Observe(now_counters, Clock::now())) EmitSelf(std::move(a));
  if (heartbeat_)
    for (auto& a : heartbeat_->Check(Clock::now())) EmitSelf(std::move(a));
  Emit(throttle_.Flush(Clock::now()));
}

// vigil's links still attached to what they were, its policy maps as written.
void EventLoop::CheckIntegrity() {
  for (const auto& p : p_.self->CheckIntegrity(p_.enforcement->manager())) {
    spdlog::error("self-protection: {}", p);
    Emit(SelfAlert(kSelfProtectionRule, Priority::kCritical, "vigil integrity: " + p));
  }
}

void EventLoop::Publish() {
  MetricsSnapshot snap = Snapshot(hot_, p_.sensor, *p_.fanout, *engine_, p_.enforcement->manager());
  AddContainerMetrics(p_.container_cache.get(), p_.container_watcher, hold_.stats(), container_events_.stats(), &snap);
  p_.metrics->Publish(std::move(snap));
}

void EventLoop::Emit(Alert a) {
  ++hot_.alerts;
  ++hot_.by_rule[a.rule];
  p_.fanout->Submit(std::move(a));
}

void EventLoop::EmitSelf(Alert a) {
  spdlog::error("{}: {}", a.rule, a.output);
  Emit(std::move(a));
}

void EventLoop::Emit(std::vector<Alert> alerts) {
  for (auto& a : alerts) Emit(std::move(a));
}

}  // namespace vigil::agent
