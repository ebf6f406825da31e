// SPDX-License-Identifier: Apache-2.0
// The counters of `vigil run`'s hot thread, and how they are published: a
// MetricsSnapshot for /metrics (agent/metrics.h) once a second, and a "stats:"
// log line every stats_interval_s.
//
// Contract: the hot thread owns HotCounters; Snapshot() and StatsLine() read
// the sensor's, the sinks' and the enforcement object's counters as well, so
// they too run on the hot thread. Any of `sensor`, `enforcer` may be null (no
// capture; nothing enforced).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "agent/container_events.h"
#include "agent/container_hold.h"
#include "agent/metrics.h"
#include "engine/event.h"

namespace vigil {
class RuleEngine;
class ContainerMetaCache;
}  // namespace vigil
namespace vigil::capture {
class Sensor;
}
namespace vigil::enforce {
class EnforcementManager;
}
namespace vigil::outputs {
class FanOut;
}
namespace vigil::runtime {
class ContainerWatcher;
}

namespace vigil::agent {

struct HotCounters {
  uint64_t events = 0;
  uint64_t alerts = 0;  // submitted to the sinks
  std::array<uint64_t, kEventTypeCount> by_type{};
  std::map<std::string, uint64_t> by_rule;            // touched only when a rule fires
  std::map<std::string, uint64_t> throttled_by_rule;  // alerts the throttle held back
  uint64_t reloads_ok = 0, reloads_failed = 0;
};

MetricsSnapshot Snapshot(const HotCounters& h, const capture::Sensor* sensor, const outputs::FanOut& fanout,
                         const RuleEngine& engine, const enforce::EnforcementManager* enforcer);

// Adds the container metadata cache's and runtimes' counters and the hold's;
// nothing when metadata is off (`cache` null).
void AddContainerMetrics(const ContainerMetaCache* cache, const runtime::ContainerWatcher* watcher,
                         const ContainerHoldStats& hold, const ContainerEventStats& events,
                         MetricsSnapshot* m);

// "stats: events=N alerts=N kernel.<counter>=N ... <sink>.sent=N ...": the
// kernel counters that are not zero, the process table, every sink.
std::string StatsLine(const capture::Sensor* sensor, const outputs::FanOut& fanout, uint64_t events,
                      uint64_t alerts);

}  // namespace vigil::agent
