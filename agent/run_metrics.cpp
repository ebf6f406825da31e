// SPDX-License-Identifier: Apache-2.0
#include "agent/run_metrics.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "bpf/enforce/enforcement.h"
#include "bpf/sensor.h"
#include "engine/interest.h"
#include "engine/rule_engine.h"
#include "engine/state/container_meta.h"
#include "engine/state/dns_cache.h"
#include "outputs/fanout.h"
#include "runtime/container_watcher.h"

namespace vigil::agent {
namespace {

void AddSensorCounters(const capture::Sensor& sensor, const RuleEngine& engine, MetricsSnapshot* m) {
  for (const auto& c : sensor.ReadCounters()) {
    m->kernel_counters.emplace_back(std::string(c.name), c.value);
    if (c.name == "priority_ringbuf_drop") m->priority_lane_dropped = c.value;
  }
  m->priority_lane = sensor.priority_lane();
  m->priority_lane_received = sensor.ReadPriorityReceived();
  std::array<uint64_t, kEventTypeCount> sent{}, dropped{};
  for (const auto& c : sensor.ReadFilterCounts()) {
    const std::string type(EventTypeName(c.type));
    m->kernel_sent_by_type.emplace_back(type, c.sent);
    m->kernel_filtered_by_type.emplace_back(type, c.filtered);
    if (IsOpenFamily(c.type)) m->kernel_path_filtered_by_type.emplace_back(type, c.path_filtered);
    sent[static_cast<std::size_t>(c.type)] = c.sent;
    dropped[static_cast<std::size_t>(c.type)] = c.filtered + c.path_filtered;
  }
  for (const auto& r : engine.rules()) {
    if (!r->enabled) continue;
    uint64_t s = 0, d = 0;
    for (std::size_t t = 0; t < kEventTypeCount; ++t)
      if (r->types.test(t)) {
        s += sent[t];
        d += dropped[t];
      }
    m->rule_events_sent.emplace_back(r->name, s);
    m->rule_events_dropped.emplace_back(r->name, d);
  }
}

void AddSensorState(const capture::Sensor& sensor, MetricsSnapshot* m) {
  const auto& ds = sensor.decode_stats();
  for (std::size_t i = 0; i < ds.rejected.size(); ++i)
    if (ds.rejected[i] != 0)
      m->decoder_rejects.emplace_back(std::string(capture::DecodeStatusName(static_cast<capture::DecodeStatus>(i))),
                                      ds.rejected[i]);
  const auto ts = sensor.table_stats();
  m->process_table_size = ts.size;
  m->process_table_evictions = ts.evictions;
  m->fd_table_size = ts.fds.size;
  m->fd_table_evictions = ts.fds.evictions;
  m->fd_table_stale = ts.fds.stale;
  m->bpf_programs_attached = sensor.attached().size();
}

}  // namespace

MetricsSnapshot Snapshot(const HotCounters& h, const capture::Sensor* sensor, const outputs::FanOut& fanout,
                         const RuleEngine& engine, const enforce::EnforcementManager* enforcer) {
  MetricsSnapshot m;
  m.events_total = h.events;
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    if (h.by_type[i] != 0) m.events_by_type.emplace_back(EventTypeName(static_cast<EventType>(i)), h.by_type[i]);
  if (sensor) AddSensorCounters(*sensor, engine, &m);
  if (enforcer != nullptr) {
    m.kernel_counters.emplace_back("enforce_refusal_records_dropped", enforcer->DroppedRecords());
    m.kernel_counters.emplace_back("enforce_helper_scan_failed", enforcer->HelperScanFailures());
  }
  if (sensor) AddSensorState(*sensor, &m);
  for (const auto& [rule, n] : h.by_rule) m.rule_matches.emplace_back(rule, n);
  for (const auto& [rule, n] : h.throttled_by_rule) m.alerts_throttled.emplace_back(rule, n);
  for (const auto& c : engine.correlation_stats()) {
    m.correlation_keys.emplace_back(c.rule, c.keys);
    m.correlation_evicted.emplace_back(c.rule, c.evicted_pressure);
  }
  for (const auto& st : fanout.Stats()) {
    m.sinks.push_back({st.name, st.sent, st.failed, st.spooled, st.dropped, st.queued, st.failing,
                       st.failing_for_ms / 1000, st.last_errno != 0 ? std::strerror(st.last_errno) : ""});
    m.sinks.back().pending = st.pending;
  }
  m.rules_loaded = engine.stats().rules_loaded;
  if (const DnsCache* dns = engine.host().dns.get()) {
    const DnsCacheStats d = dns->Stats();
    m.dns_names = d.names;
    m.dns_names_resolved = d.resolved;
    m.dns_lookups = d.lookups;
    m.dns_failures = d.failures;
    m.dns_refused = d.refused;
  }
  m.reloads_ok = h.reloads_ok;
  m.reloads_failed = h.reloads_failed;
  return m;
}

void AddContainerMetrics(const ContainerMetaCache* cache, const runtime::ContainerWatcher* watcher,
                         const ContainerHoldStats& h, const ContainerEventStats& e, MetricsSnapshot* m) {
  m->container_meta = {{"container_events", e.started},
                       {"container_events_reemitted", e.reemitted},
                       {"container_events_incomplete", e.incomplete},
                       {"container_events_gave_up", e.gave_up},
                       {"container_removed_events", e.removed},
                       {"container_removed_drops", e.removed_drops},
                       {"container_events_late", e.late}};
  if (!cache) return;
  const ContainerMetaStats s = cache->Stats();
  m->container_meta.insert(m->container_meta.begin(),
                           {{"size", s.size},         {"ready", s.ready},       {"lookups", s.lookups},
                            {"hits", s.hits},         {"requests", s.requests}, {"queue_drops", s.queue_drops},
                            {"fetched", s.fetched},   {"failed", s.failed},     {"evictions", s.evictions},
                            {"erased", s.erased},     {"held", h.held},         {"held_timeouts", h.timeouts},
                            {"held_drops", h.drops},  {"exited_drops", s.exited_drops},
                            {"gone", s.gone},         {"gone_lookups", s.gone_lookups}});
  if (!watcher) return;
  for (const auto& r : watcher->Stats().runtimes) {
    m->container_runtime_up.emplace_back(r.socket, r.reachable ? 1 : 0);
    m->container_runtime_errors.emplace_back(r.socket, r.errors);
  }
}

std::string StatsLine(const capture::Sensor* sensor, const outputs::FanOut& fanout, uint64_t events,
                      uint64_t alerts) {
  std::string line = fmt::format("stats: events={} alerts={}", events, alerts);
  if (sensor) {
    for (const auto& c : sensor->ReadCounters())
      if (c.value != 0) line += fmt::format(" kernel.{}={}", c.name, c.value);
    const auto ts = sensor->table_stats();
    line += fmt::format(" proc_table={} evictions={}", ts.size, ts.evictions);
  } else {
    line += " capture=off";
  }
  for (const auto& s : fanout.Stats())
    line += fmt::format(" {}.sent={} {}.failed={} {}.spooled={} {}.dropped={}", s.name, s.sent, s.name, s.failed,
                        s.name, s.spooled, s.name, s.dropped);
  return line;
}

}  // namespace vigil::agent
