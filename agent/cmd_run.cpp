// SPDX-License-Identifier: Apache-2.0
// `vigil run`: the agent. Capture -> process state -> rules -> outputs, on one
// hot thread; sinks on their own threads behind bounded queues (outputs/fanout.h).
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <array>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <string>
#include <thread>
#include <vector>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/heartbeat.h"
#include "agent/metrics.h"
#include "agent/self_alerts.h"
#include "agent/signals.h"
#include "bpf/enforce/enforcement.h"
#include "bpf/enforce/self_protect.h"
#include "bpf/sensor.h"
#include "engine/policy/policy.h"
#include "agent/container_events.h"
#include "agent/container_hold.h"
#include "engine/interest.h"
#include "engine/rule_engine.h"
#include "engine/state/container_meta.h"
#include "runtime/container_watcher.h"
#include "outputs/fanout.h"
#include "outputs/outputs.h"

#ifdef VIGIL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace vigil::agent {
namespace {

struct RunOptions {
  std::string config;
  std::vector<std::string> rules;
  std::vector<std::string> overrides;
  bool dry_run = false;
};

void Notify(const char* state) {
#ifdef VIGIL_HAVE_SYSTEMD
  sd_notify(0, state);
#else
  (void)state;
#endif
}

void LogLines(spdlog::level::level_enum level, const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) spdlog::log(level, "{}", text.substr(start, end - start));
    start = end + 1;
  }
}

// Loads config and rules; logs every diagnostic. Null on any error.
struct Loaded {
  AgentConfig config;
  std::unique_ptr<RuleEngine> engine;
  policy::PolicySpec policy;  // the rules with action deny|kill, compiled for the kernel
};

// The errors of a refused load, for the reload-failure alert: the first few,
// bounded, the rest counted (every one is in the log).
std::string Summarise(const std::vector<std::string>& errors) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& e : errors) {
    if (shown == 3 || out.size() > 800) break;
    out += (out.empty() ? "" : "; ") + e;
    ++shown;
  }
  if (shown < errors.size()) out += fmt::format("; and {} more", errors.size() - shown);
  return out;
}

std::vector<std::string> ErrorLines(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& item : d.items())
    if (item.severity == Severity::kError) out.push_back(item.ToString());
  return out;
}

// Null on any error; `problems` then says which (Summarise).
std::unique_ptr<Loaded> LoadAll(const RunOptions& o, std::string* problems = nullptr) {
  auto cfg = LoadAgentConfig(o.config, o.overrides, o.rules);
  for (const auto& w : cfg.warnings) spdlog::warn("config: {}", w);
  for (const auto& e : cfg.errors) spdlog::error("config: {}", e);
  auto out = std::make_unique<Loaded>();
  if (!cfg.ok()) {
    if (problems) *problems = Summarise(cfg.errors);
    return nullptr;
  }
  out->config = std::move(cfg.config);
  Diagnostics diags;
  rules::LoadOptions load_opts;
  load_opts.sigma_fields = out->config.sigma_fields;
  out->engine = RuleEngine::Load(out->config.rules_paths, &diags, HostInfo::FromSystem(), load_opts);
  LogLines(diags.HasErrors() ? spdlog::level::err : spdlog::level::warn, diags.ToString());
  if (diags.HasErrors() || out->engine == nullptr) {
    spdlog::error("rules: {} error(s) in {}; refusing this ruleset", diags.ErrorCount(),
                  fmt::format("{}", fmt::join(out->config.rules_paths, ", ")));
    if (problems) *problems = diags.HasErrors() ? Summarise(ErrorLines(diags)) : "the rules could not be loaded";
    return nullptr;
  }
  Diagnostics pdiags;
  auto spec = policy::CompilePolicy(*out->engine, &pdiags);
  LogLines(pdiags.HasErrors() ? spdlog::level::err : spdlog::level::warn, pdiags.ToString());
  if (!spec) {
    spdlog::error("enforcement: {} rule(s) with action deny|kill cannot be decided in the kernel; refusing this "
                  "ruleset", pdiags.ErrorCount());
    if (problems) *problems = Summarise(ErrorLines(pdiags));
    return nullptr;
  }
  out->policy = std::move(*spec);
  if (out->engine->host().host_ns_source != "/proc/1/ns")
    spdlog::info("host namespaces: {}", out->engine->host().host_ns_source);
  const auto& st = out->engine->stats();
  spdlog::info("config: {}; rules: {} loaded, {} enabled from {}", out->config.source, st.rules_loaded,
               st.rules_enabled, fmt::format("{}", fmt::join(out->config.rules_paths, ", ")));
  if (st.sigma_rules > 0)
    spdlog::info("sigma: {} rule(s) read, {} translated, {} unsupported (each logged above with its reason)",
                 st.sigma_rules, st.sigma_rules - st.sigma_unsupported, st.sigma_unsupported);
  return out;
}

// `sensor` is null when vigil runs without capture (enforcement only).
void LogStats(const capture::Sensor* sensor, const outputs::FanOut& fanout, uint64_t events, uint64_t alerts) {
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
  spdlog::info("{}", line);
}

// Counters the hot thread owns; copied into a MetricsSnapshot once a second.
struct HotCounters {
  uint64_t events = 0;
  uint64_t alerts = 0;
  std::array<uint64_t, kEventTypeCount> by_type{};
  std::map<std::string, uint64_t> by_rule;  // touched only when a rule fires
  std::map<std::string, uint64_t> throttled_by_rule;  // alerts the throttle held back
  uint64_t reloads_ok = 0, reloads_failed = 0;
};

MetricsSnapshot Snapshot(const HotCounters& h, const capture::Sensor* sensor, const outputs::FanOut& fanout,
                         const RuleEngine& engine, const enforce::EnforcementManager* enforcer) {
  MetricsSnapshot m;
  m.events_total = h.events;
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    if (h.by_type[i] != 0) m.events_by_type.emplace_back(EventTypeName(static_cast<EventType>(i)), h.by_type[i]);
  if (sensor) {
    for (const auto& c : sensor->ReadCounters()) m.kernel_counters.emplace_back(std::string(c.name), c.value);
    for (const auto& c : sensor->ReadFilterCounts()) {
      const std::string type(EventTypeName(c.type));
      m.kernel_sent_by_type.emplace_back(type, c.sent);
      m.kernel_filtered_by_type.emplace_back(type, c.filtered);
    }
  }
  if (enforcer != nullptr) {
    m.kernel_counters.emplace_back("enforce_refusal_records_dropped", enforcer->DroppedRecords());
    m.kernel_counters.emplace_back("enforce_helper_scan_failed", enforcer->HelperScanFailures());
  }
  if (sensor) {
    const auto& ds = sensor->decode_stats();
    for (std::size_t i = 0; i < ds.rejected.size(); ++i)
      if (ds.rejected[i] != 0)
        m.decoder_rejects.emplace_back(std::string(capture::DecodeStatusName(static_cast<capture::DecodeStatus>(i))),
                                       ds.rejected[i]);
  }
  for (const auto& [rule, n] : h.by_rule) m.rule_matches.emplace_back(rule, n);
  for (const auto& [rule, n] : h.throttled_by_rule) m.alerts_throttled.emplace_back(rule, n);
  for (const auto& st : fanout.Stats())
    m.sinks.push_back({st.name, st.sent, st.failed, st.spooled, st.dropped, st.queued, st.failing,
                       st.failing_for_ms / 1000, st.last_errno != 0 ? std::strerror(st.last_errno) : ""});
  if (sensor) {
    const auto ts = sensor->table_stats();
    m.process_table_size = ts.size;
    m.process_table_evictions = ts.evictions;
  }
  m.rules_loaded = engine.stats().rules_loaded;
  m.reloads_ok = h.reloads_ok;
  m.reloads_failed = h.reloads_failed;
  m.bpf_programs_attached = sensor ? sensor->attached().size() : 0;
  return m;
}

// Narrows what the kernel sends to what the loaded rules, the process table
// and vigil's own checks can use (engine/interest.h), and says what is left
// out and why in one line.
void ApplyInterest(capture::Sensor* sensor, const RuleEngine& engine) {
  const Interest in = DeriveInterest(engine);
  const compile::EventTypeSet kernel = KernelEventTypes();
  compile::EventTypeSet types = in.types & kernel;
  types.set(static_cast<std::size_t>(EventType::bpf));  // built-in self-protection reads every bpf() event
  sensor->SetInterest(types, static_cast<uint32_t>(getpid()));
  if (types == kernel)
    spdlog::info("capture filter: every event type is sent{}",
                 in.unrestricted_rule.empty() ? std::string()
                                              : " (rule '" + in.unrestricted_rule + "' does not restrict evt.type)");
  else
    spdlog::info("capture filter: {} of {} event types sent; left in the kernel (no enabled rule uses them, nor "
                 "the process table or self-protection): {}",
                 types.count(), kKernelEventTypeCount, EventTypeNames(kernel & ~types));
}

struct Containers {
  std::shared_ptr<ContainerMetaCache> cache;
  std::unique_ptr<runtime::ContainerWatcher> watcher;
};

Containers StartContainers(const ContainersConfig& cc) {
  Containers c;
  if (!cc.enabled) {
    spdlog::info("containers: metadata disabled (containers.enabled: false); container fields beyond the id are <NA>");
    return c;
  }
  runtime::ContainerWatcherOptions wo;
  if (!cc.docker_socket.empty()) wo.runtimes.push_back({"docker", cc.docker_socket});
  if (!cc.podman_socket.empty()) wo.runtimes.push_back({"podman", cc.podman_socket});
  if (wo.runtimes.empty()) {
    spdlog::info("containers: no runtime socket configured; container fields beyond the id are <NA>");
    return c;
  }
  wo.timeout = std::chrono::milliseconds(cc.timeout_ms);
  wo.list_interval = std::chrono::milliseconds(cc.list_interval_ms);
  c.cache = std::make_shared<ContainerMetaCache>(static_cast<std::size_t>(cc.cache_size));
  c.watcher = std::make_unique<runtime::ContainerWatcher>(c.cache, wo);
  c.watcher->Start();
  return c;
}

void AddContainerMetrics(const Containers& c, const ContainerHoldStats& h, const ContainerEventStats& e,
                         MetricsSnapshot* m) {
  m->container_meta = {{"container_events", e.started},
                       {"container_events_reemitted", e.reemitted},
                       {"container_events_incomplete", e.incomplete},
                       {"container_events_gave_up", e.gave_up}};
  if (!c.cache) return;
  const ContainerMetaStats s = c.cache->Stats();
  m->container_meta.insert(m->container_meta.begin(),
                           {{"size", s.size},         {"ready", s.ready},       {"lookups", s.lookups},
                            {"hits", s.hits},         {"requests", s.requests}, {"queue_drops", s.queue_drops},
                            {"fetched", s.fetched},   {"failed", s.failed},     {"evictions", s.evictions},
                            {"erased", s.erased},     {"held", h.held},         {"held_timeouts", h.timeouts},
                            {"held_drops", h.drops}});
  for (const auto& r : c.watcher->Stats().runtimes) {
    m->container_runtime_up.emplace_back(r.socket, r.reachable ? 1 : 0);
    m->container_runtime_errors.emplace_back(r.socket, r.errors);
  }
}

int Run(const RunOptions& o) {
  InstallSignalHandlers();
  auto loaded = LoadAll(o);
  if (!loaded) return 2;
  if (o.dry_run) {
    // What `run` would find when opening the sinks, without creating anything.
    const auto sink_problems = outputs::CheckOutputs(loaded->config.outputs);
    for (const auto& p : sink_problems) spdlog::error("outputs: {}", p);
    if (!sink_problems.empty()) return 2;
    std::printf("configuration (%s) and rules are valid; %zu enforcing rule(s)\n", loaded->config.source.c_str(),
                loaded->policy.rules.size());
    return 0;
  }

  outputs::FanOut fanout;
  if (auto err = outputs::BuildOutputs(loaded->config.outputs, &fanout)) {
    spdlog::error("outputs: {}", *err);
    return 2;
  }
  if (fanout.size() == 0) spdlog::warn("outputs: no sink is enabled; alerts are counted but go nowhere");
  fanout.Start();

  // Container metadata: the watcher thread asks the runtimes; the sensor
  // attaches what it has to each event; ContainerHold delays a new
  // container's first events until it arrives (or hold_ms passes).
  auto containers = StartContainers(loaded->config.containers);
  loaded->config.capture.containers = containers.cache;
  std::string error;
  auto sensor = capture::Sensor::Open(loaded->config.capture, &error);
  if (sensor) {
    for (const auto& d : sensor->disabled()) spdlog::warn("capture: {} not loaded: {}", d.name, d.reason);
    spdlog::info("capture: {} programs attached ({} BPF build), {} processes seeded from /proc",
                 sensor->attached().size(), capture::BpfBuildName(sensor->build()), sensor->seeded());
    ApplyInterest(sensor.get(), *loaded->engine);
  }

  // Enforcement does not depend on capture: a kernel that cannot capture may
  // still enforce (BPF LSM), so vigil then runs to enforce only, loudly.
  const bool lsm_self_protection = enforce::BpfLsmUsable();
  if (!sensor) {
    if (loaded->policy.rules.empty() && !lsm_self_protection) {
      spdlog::error("capture: {}", error);
      fanout.Stop();
      return 1;
    }
    spdlog::error("capture: {}; running without capture: enforcement only, no events and no rule alerts", error);
    fanout.Submit(SelfAlert("vigil capture unavailable", Priority::kCritical,
                            "vigil runs without capture (enforcement only): " + error));
  }

  // Enforcement is loaded when some rule asks for it, and under BPF LSM always
  // (its bpf hook refuses other processes access to vigil's own objects); a rule
  // that asks and cannot be enforced as configured is reported per rule at start.
  std::unique_ptr<enforce::EnforcementManager> enforcer;
  auto install_policy = [&](const policy::PolicySpec& spec) -> bool {
    if (spec.rules.empty() && !enforcer && !lsm_self_protection) return true;
    if (!enforcer) {
      enforce::EnforceOptions eo;
      eo.degrade = loaded->config.degrade_to_kill ? enforce::Degrade::kKill : enforce::Degrade::kAlert;
      std::string eerr;
      enforcer = enforce::EnforcementManager::Create(eo, &eerr);
      if (!enforcer) {
        spdlog::error("enforcement: {}", eerr);
        return false;
      }
    }
    if (auto err = enforcer->Install(spec)) {
      spdlog::error("enforcement: {}", *err);
      return false;
    }
    for (const auto& r : enforcer->Report())
      spdlog::info("enforcement: rule '{}': {} via {}{}{}", r.rule, r.effective, enforce::MechanismName(r.mechanism),
                   r.reason.empty() ? "" : ": ", r.reason);
    return true;
  };
  if (!install_policy(loaded->policy)) {
    fanout.Stop();
    return 1;
  }

  // Self-protection, built in (not a rule: editing the rules files cannot turn
  // it off). Under BPF LSM the enforcement object refuses other processes'
  // GET_FD_BY_ID on these ids; on every kernel the capture's bpf() events of
  // such calls become a Critical alert, and a periodic check reports vigil's
  // links detached or re-pointed and its policy maps rewritten.
  enforce::SelfMonitor self_monitor;
  const uint32_t self_pid = static_cast<uint32_t>(getpid());
  auto protect_self = [&] {
    const auto cap = sensor ? sensor->ObjectIds() : capture::OwnObjectIds{};
    const enforce::SelfIds capture_ids{cap.progs, cap.maps, cap.links, cap.link_fds};
    if (enforcer) {
      if (auto err = enforcer->RegisterSelfIds(capture_ids))
        spdlog::error("self-protection: capture ids not registered with the kernel: {}", *err);
      self_monitor.Watch(enforcer->OwnIds());
    }
    self_monitor.Watch(capture_ids);  // last: its own fds on the links mark the registration done
    spdlog::info("self-protection: watching {} programs, {} maps, {} links ({})", self_monitor.watched_progs(),
                 self_monitor.watched_maps(), self_monitor.watched_links(),
                 enforcer && enforcer->lsm() ? "BPF LSM refuses access by id" : "alert on access by id");
  };
  protect_self();
  std::string last_policy_problem;

  std::unique_ptr<MetricsServer> metrics;
  if (loaded->config.metrics_enabled) {
    std::string merr;
    metrics = MetricsServer::Start(loaded->config.metrics_host, loaded->config.metrics_port, 10, &merr);
    if (!metrics) {
      // The sensor matters more than its metrics: keep running, loudly.
      spdlog::error("metrics: {}; running without /healthz and /metrics", merr);
    } else {
      spdlog::info("metrics: http://{}:{}/metrics and /healthz", loaded->config.metrics_host, metrics->port());
    }
  }

  HotCounters hot;
  auto submit_self = [&](Alert a) {
    spdlog::error("{}: {}", a.rule, a.output);
    ++hot.alerts;
    ++hot.by_rule[a.rule];
    fanout.Submit(std::move(a));
  };
  // Events lost in the kernel (ring buffer full, no pairing slot), at most one
  // alert per 10 s with the counts summed; counters that go down are tampering.
  CaptureLossMonitor loss_monitor({"ringbuf_drop", "pending_full"}, std::chrono::seconds(10));
  auto next_loss_check = std::chrono::steady_clock::now();
  // Kernel refusals by thread, waiting for the event that shows them (the
  // syscall's EPERM, or the exec a kill interrupted). A refusal no alert claims
  // by the next poll round becomes an alert of its own: the kernel can match
  // what the engine sees differently (a script's path vs. its interpreter), and
  // an enforcement action is never silent. Bounded.
  struct PendingRefusal {
    enforce::Refusal refusal;
    std::string rule;
    int rounds = 0;
  };
  std::unordered_map<uint32_t, PendingRefusal> refusals;
  std::vector<const CompiledRule*> fired;
  const RuleEngine* engine = loaded->engine.get();
  // At most one self-protection alert per (process, command) and 5 s: `bpftool
  // prog show` opens every program by id, which would otherwise be ~100 alerts.
  std::unordered_map<uint64_t, std::pair<std::chrono::steady_clock::time_point, uint64_t>> self_alerted;
  // Threads whose self-protection refusal the built-in alert already covers (the kernel's record
  // can arrive after the capture's event); value = poll rounds waited. Bounded like `refusals`.
  std::unordered_map<uint32_t, int> self_covered;
  auto self_access_alert = [&](const Event& ev) {
    // Refused by the kernel: a pending refusal record for this thread, or (the record not read
    // yet) EPERM under BPF LSM, where the bpf hook refuses these calls.
    std::string enforced = enforcer && enforcer->lsm() && ev.res == -EPERM ? "deny" : "";
    if (auto it = refusals.find(ev.proc.tid); it != refusals.end() && it->second.rule == "vigil self-protection") {
      enforced = it->second.refusal.action;
      refusals.erase(it);
    } else if (!enforced.empty() && self_covered.size() < 4096) {
      self_covered[ev.proc.tid] = 0;
    }
    const uint64_t key = (uint64_t{ev.proc.pid} << 32) | static_cast<uint32_t>(ev.bpf.cmd);
    const auto now = std::chrono::steady_clock::now();
    if (self_alerted.size() > 4096) self_alerted.clear();  // bounded; at worst one more alert per process
    auto& [last, suppressed] = self_alerted[key];
    if (last.time_since_epoch().count() != 0 && now - last < std::chrono::seconds(5)) {
      ++suppressed;
      return;
    }
    last = now;
    Alert a = SelfAlert("vigil self-protection", Priority::kCritical,
                        fmt::format("bpf({}) on vigil's own id {} by pid {} ({}, {}){}{}", enforce::GetFdByIdName(ev.bpf.cmd),
                                    ev.bpf.id, ev.proc.pid, ev.proc.name, ev.proc.exepath,
                                    enforced.empty() ? "" : "; refused by the kernel",
                                    suppressed ? fmt::format("; {} more such calls by this process before", suppressed)
                                               : std::string()));
    suppressed = 0;
    a.source = "syscall";
    // Only under BPF LSM does vigil ask the kernel to refuse these calls.
    a.action = enforcer && enforcer->lsm() ? "deny" : "alert";
    a.enforcement = enforced;
    FillAlertContext(ev, &a);
    a.output_fields = {{"proc.pid", uint64_t{ev.proc.pid}}, {"proc.name", ev.proc.name},
                       {"proc.exepath", ev.proc.exepath}, {"bpf.cmd", int64_t{ev.bpf.cmd}},
                       {"bpf.id", uint64_t{ev.bpf.id}}, {"evt.res", int64_t{ev.res}}};
    fanout.Submit(std::move(a));
    ++hot.alerts;
    ++hot.by_rule["vigil self-protection"];
  };
  // End-to-end proof that events still arrive (agent/heartbeat.h). The
  // directory does not exist; the nonce keeps the name unguessable.
  std::unique_ptr<CaptureHeartbeat> heartbeat;
  if (sensor) {
    std::random_device rd;
    heartbeat = std::make_unique<CaptureHeartbeat>(
        fmt::format("/nonexistent-vigil-heartbeat-{:08x}{:08x}/", rd(), rd()), std::chrono::seconds(1),
        std::chrono::seconds(10));
  }
  // Alert storms: a token bucket per (rule, executable); what it holds back is
  // counted and summarised in one alert per key and interval.
  AlertThrottle throttle(loaded->config.throttle);
  auto submit_summaries = [&](std::vector<Alert> summaries) {
    for (auto& a : summaries) {
      ++hot.alerts;
      ++hot.by_rule[a.rule];
      fanout.Submit(std::move(a));
    }
  };
  ContainerHold hold(containers.cache, std::chrono::milliseconds(loaded->config.containers.hold_ms), 16384);
  // Falco's evt.type = container: one synthesized event when a container is
  // first seen, through the hold like its trigger, re-emitted if its
  // metadata comes only after the hold let it go.
  ContainerEvents container_events(containers.cache);
  Event container_event;
  auto evaluate = [&](const Event& ev) {
    if (ev.type == EventType::container) container_events.Evaluated(ev);
    if (ev.type == EventType::bpf && self_monitor.ForeignAccess(ev, self_pid)) self_access_alert(ev);
    engine->Match(ev, &fired);
    std::string enforced;
    if (!refusals.empty() && !fired.empty()) {
      if (auto it = refusals.find(ev.proc.tid); it != refusals.end()) {
        enforced = it->second.refusal.action;
        refusals.erase(it);
      }
    }
    for (const CompiledRule* rule : fired) {
      Alert alert = engine->MakeAlert(*rule, ev);
      if (!enforced.empty() && rule->action != "alert") alert.enforcement = enforced;
      ++hot.by_rule[rule->name];
      if (!throttle.Admit(alert, std::chrono::steady_clock::now())) {
        ++hot.throttled_by_rule[rule->name];
        continue;
      }
      fanout.Submit(std::move(alert));
      ++hot.alerts;
    }
  };
  auto on_event = [&](const Event& ev) {
    ++hot.events;
    ++hot.by_type[static_cast<std::size_t>(ev.type)];
    if (heartbeat && ev.proc.pid == self_pid && (ev.type == EventType::openat || ev.type == EventType::open) &&
        heartbeat->OnEvent(ev.file.path))
      return;
    if (container_events.OnEvent(ev, &container_event)) {
      ++hot.by_type[static_cast<std::size_t>(EventType::container)];
      if (!hold.MaybeHold(container_event)) evaluate(container_event);
    }
    if (!hold.MaybeHold(ev)) evaluate(ev);
  };
  auto reemit = [&](const Event& ev) {
    ++hot.by_type[static_cast<std::size_t>(EventType::container)];
    evaluate(ev);
  };

  if (heartbeat) heartbeat->Start();
  Notify("READY=1");
  spdlog::info("vigil running (pid {})", getpid());
  auto next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(loaded->config.stats_interval_s);
  auto next_publish = std::chrono::steady_clock::now();
  auto next_integrity = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  int rc = 0;
  while (!StopRequested()) {
    if (enforcer) {
      for (auto it = self_covered.begin(); it != self_covered.end();)
        it = ++it->second > 20 ? self_covered.erase(it) : std::next(it);
      // Refusals that waited a whole round without an alert claiming them.
      for (auto it = refusals.begin(); it != refusals.end();) {
        if (++it->second.rounds < 2) {
          ++it;
          continue;
        }
        const auto& r = it->second.refusal;
        Alert a = SelfAlert(it->second.rule, Priority::kCritical,
                            fmt::format("vigil {} {} by pid {} ({}): rule '{}' matched in the kernel", r.action,
                                        policy::HookClassName(r.hook), r.pid, r.comm, it->second.rule));
        if (const CompiledRule* rule = engine->FindRule(it->second.rule)) {
          a.priority = rule->priority;
          a.tags = rule->tags;
          a.action = rule->action;
        } else if (r.rule_id == enforce::kSelfProtectionRuleId) {
          a.action = "deny";  // what the built-in self-protection asks
        }
        a.source = "syscall";
        a.enforcement = r.action;
        a.process.pid = r.pid;
        a.process.name = r.comm;
        fanout.Submit(std::move(a));
        ++hot.alerts;
        ++hot.by_rule[it->second.rule];
        it = refusals.erase(it);
      }
      enforcer->PollRefusals(0, [&](const enforce::Refusal& r) {
        if (refusals.size() >= 4096) {
          // A refusal flood: each refusal was already logged below; say how many go unattributed.
          spdlog::warn("enforcement: {} refusals were not attributed to alerts (more than 4096 pending)",
                       refusals.size());
          refusals.clear();
        }
        spdlog::info("enforcement: {} {} (pid {}, {}) by rule '{}'", r.action, policy::HookClassName(r.hook), r.pid,
                     r.comm, r.rule);
        if (r.rule_id == enforce::kSelfProtectionRuleId && self_covered.erase(r.tid) != 0) return;  // alerted
        refusals[r.tid] = PendingRefusal{r, r.rule, 0};
      });
    }
    int n = 0;
    if (sensor)
      n = sensor->Poll(hold.empty() ? 100 : 10, on_event);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    hold.Release(evaluate);
    container_events.Poll(reemit);
    if (n < 0 && n != -EINTR) {
      spdlog::error("capture: ring buffer poll failed: {}", std::strerror(-n));
      rc = 1;
      break;
    }
    if (TakeReopenRequest()) fanout.Reopen();
    if (TakeReloadRequest()) {
      Notify("RELOADING=1");
      fanout.Reopen();
      spdlog::info("reload: SIGHUP received; re-reading configuration and rules");
      std::string problems;
      auto next = LoadAll(o, &problems);
      if (next && !install_policy(next->policy)) {
        spdlog::error("reload: the new enforcement policy could not be installed; the previous one stays");
        problems = "the new enforcement policy could not be installed in the kernel";
        next.reset();
      }
      protect_self();  // the enforcement object may be new (first enforcing rule)
      if (next) {
        if (auto keys = RestartOnlyChanges(loaded->config, next->config); !keys.empty())
          spdlog::warn("reload: changed, but applied only when vigil restarts (the running values stay): {}",
                       fmt::format("{}", fmt::join(keys, ", ")));
        loaded = std::move(next);
        engine = loaded->engine.get();
        if (sensor) ApplyInterest(sensor.get(), *engine);
        ++hot.reloads_ok;
        spdlog::info("reload: new ruleset active");
      } else {
        spdlog::error("reload: the new configuration or ruleset is broken; the previous one stays active");
        ++hot.reloads_failed;
        // The refused ruleset's memory goes back to the system, not only to
        // the allocator's free lists (a large refused set kept RSS up).
        ::malloc_trim(0);
        Alert a = SelfAlert("vigil rules reload failed", Priority::kError,
                            "vigil kept its previous ruleset: the new configuration or rules have errors: " + problems);
        a.output_fields = {{"vigil.reload.errors", problems}};
        fanout.Submit(std::move(a));
      }
      Notify("READY=1");
    }
    if (sensor && std::chrono::steady_clock::now() >= next_loss_check) {
      // A gap in capture is an alert, not only a metric: rules saw nothing of that window.
      CaptureLossMonitor::Counters now_counters;
      for (const auto& c : sensor->ReadCounters()) now_counters.emplace_back(std::string(c.name), c.value);
      for (auto& a : loss_monitor.Observe(now_counters, std::chrono::steady_clock::now())) submit_self(std::move(a));
      if (heartbeat)
        for (auto& a : heartbeat->Check(std::chrono::steady_clock::now())) submit_self(std::move(a));
      submit_summaries(throttle.Flush(std::chrono::steady_clock::now()));
      next_loss_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    }
    if (std::chrono::steady_clock::now() >= next_integrity) {
      // vigil's links still attached to what they were, its policy maps as written.
      std::vector<std::string> problems = self_monitor.Check();
      std::string policy_problem;
      if (enforcer)
        if (auto p = enforcer->CheckPolicyIntegrity()) policy_problem = *p;
      if (!policy_problem.empty() && policy_problem != last_policy_problem) problems.push_back(policy_problem);
      last_policy_problem = policy_problem;
      for (const auto& p : problems) {
        spdlog::error("self-protection: {}", p);
        fanout.Submit(SelfAlert("vigil self-protection", Priority::kCritical, "vigil integrity: " + p));
        ++hot.alerts;
        ++hot.by_rule["vigil self-protection"];
      }
      next_integrity = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (metrics && std::chrono::steady_clock::now() >= next_publish) {
      MetricsSnapshot snap = Snapshot(hot, sensor.get(), fanout, *engine, enforcer.get());
      AddContainerMetrics(containers, hold.stats(), container_events.stats(), &snap);
      metrics->Publish(std::move(snap));
      next_publish = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (loaded->config.stats_interval_s > 0 && std::chrono::steady_clock::now() >= next_stats) {
      LogStats(sensor.get(), fanout, hot.events, hot.alerts);
      next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(loaded->config.stats_interval_s);
    }
  }
  Notify("STOPPING=1");
  hold.Release(evaluate, /*all=*/true);
  if (containers.watcher) containers.watcher->Stop();
  if (heartbeat) heartbeat->Stop();
  for (auto& a : loss_monitor.Flush()) submit_self(std::move(a));
  submit_summaries(throttle.Flush(std::chrono::steady_clock::now(), /*all=*/true));
  spdlog::info("stopping: flushing outputs");
  metrics.reset();
  // The final counters after the sinks closed: alerts they could not deliver
  // by then are counted as dropped in this line.
  fanout.Stop(5000);
  LogStats(sensor.get(), fanout, hot.events, hot.alerts);
  sensor.reset();
  for (const auto& s : fanout.Stats())
    if (s.queued != 0 || s.dropped != 0)
      spdlog::error("outputs: {} ended with {} queued and {} dropped alerts", s.name, s.queued, s.dropped);
  return rc;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<RunOptions>();
  auto* run = app.add_subcommand("run", "Run the sensor: capture, evaluate rules, deliver alerts");
  run->add_option("-c,--config", opts->config,
                  std::string("Configuration file (default ") + kDefaultConfigPath + ", built-in defaults if absent)");
  run->add_option("-r,--rules", opts->rules, "Rules files or directories (replace rules.paths)");
  run->add_option("-o,--option", opts->overrides, "Override a configuration key: -o outputs.file.path=/x.json");
  run->add_flag("--dry-run", opts->dry_run, "Validate configuration and rules, then exit");
  run->callback([opts, exit_code] { *exit_code = Run(*opts); });
}

}  // namespace vigil::agent
