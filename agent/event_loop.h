// SPDX-License-Identifier: Apache-2.0
// The hot thread of `vigil run`: capture -> process state -> rules -> sinks,
// with what runs between two polls of the ring buffer (kernel refusals, SIGHUP
// reloads, capture-loss and heartbeat checks, self-protection's integrity
// check, metrics and stats).
//
// One round of Run():
//   1. refusals: the unclaimed ones of the last round become alerts, new
//      records are read (RefusalCorrelator);
//   2. events: up to 100 ms of the ring buffer (10 ms while container events
//      wait for their metadata); each event is counted, then either vigil's
//      own heartbeat, held (ContainerHold) or evaluated: self-protection's
//      check on bpf() events, the rules, the throttle, the sinks;
//   3. signals: SIGUSR1 reopens the sinks' files, SIGHUP reloads (Reloader);
//   4. due ticks: capture loss, heartbeat and throttle summaries (500 ms),
//      integrity (1 s), /metrics (1 s), the stats line (stats_interval_s).
//
// Contract:
// - The parts (LoopParts) belong to the caller and outlive the loop; the loop
//   owns the running configuration and ruleset and swaps them on reload.
// - Run() returns 0 when a stop was requested (SIGINT/SIGTERM), 1 when
//   polling the ring buffer failed. Drain() then evaluates the held events
//   and flushes what waits for an interval (loss and throttle summaries); the
//   caller stops the sinks afterwards.
// - Every alert submitted is counted (HotCounters::alerts, by_rule), except
//   the reload-failure alert, which is counted in reloads_failed.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "agent/alert_throttle.h"
#include "agent/container_events.h"
#include "agent/container_hold.h"
#include "agent/heartbeat.h"
#include "agent/refusal_correlator.h"
#include "agent/reloader.h"
#include "agent/ruleset.h"
#include "agent/run_metrics.h"
#include "agent/self_alerts.h"
#include "agent/self_protection.h"
#include "agent/policy_installer.h"
#include "engine/non_copyable.h"
#include "engine/state/container_meta.h"
#include "outputs/fanout.h"

namespace vigil::capture {
class Sensor;
}
namespace vigil::runtime {
class ContainerWatcher;
}

namespace vigil::agent {

class MetricsServer;

struct LoopParts {
  outputs::FanOut* fanout = nullptr;
  capture::Sensor* sensor = nullptr;  // null: enforcement only
  PolicyInstaller* enforcement = nullptr;
  SelfProtection* self = nullptr;
  Reloader* reloader = nullptr;
  MetricsServer* metrics = nullptr;                    // null: no /metrics
  std::shared_ptr<ContainerMetaCache> container_cache;  // null: container metadata off
  runtime::ContainerWatcher* container_watcher = nullptr;
};

class EventLoop : NonCopyable {
 public:
  EventLoop(LoopParts parts, std::unique_ptr<Loaded> loaded);

  int Run();
  void Drain();
  const HotCounters& counters() const { return hot_; }

 private:
  using Clock = std::chrono::steady_clock;

  void OnEvent(const Event& ev);
  void Evaluate(const Event& ev);
  void OnSelfAccess(const Event& ev);
  void OnSelfTarget(const Event& ev);
  void PollRefusals();
  void HandleSignals();
  void Reload();
  void RunDueTicks();
  void CheckCapture();
  void CheckIntegrity();
  void Publish();
  // Counts `a` as an alert of its rule and submits it.
  void Emit(Alert a);
  // The same, for vigil's alerts about itself, which are also logged.
  void EmitSelf(Alert a);
  void Emit(std::vector<Alert> alerts);

  LoopParts p_;
  std::unique_ptr<Loaded> loaded_;
  const RuleEngine* engine_;
  HotCounters hot_;
  RefusalCorrelator refusals_;
  // Events lost in the kernel (ring buffer full, no pairing slot), at most one
  // alert per 10 s with the counts summed; counters that go down are tampering.
  CaptureLossMonitor loss_monitor_;
  AlertLossMonitor alert_loss_monitor_{std::chrono::seconds(10)};
  std::unique_ptr<CaptureHeartbeat> heartbeat_;  // with capture only
  AlertThrottle throttle_;
  ContainerHold hold_;
  // Falco's evt.type = container: one synthesized event when a container is
  // first seen, through the hold like its trigger, re-emitted if its
  // metadata comes only after the hold let it go.
  ContainerEvents container_events_;
  Event container_event_;
  std::vector<const CompiledRule*> fired_;
  const uint32_t self_pid_;
  Clock::time_point next_loss_check_, next_integrity_, next_publish_, next_stats_;
};

}  // namespace vigil::agent
