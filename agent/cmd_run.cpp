// SPDX-License-Identifier: Apache-2.0
// `vigil run`: the agent. Capture -> process state -> rules -> outputs, on one
// hot thread (agent/event_loop.h); sinks on their own threads behind bounded
// queues (outputs/fanout.h). This file starts the parts in order and stops
// them; each part is its own class under agent/.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "agent/commands.h"
#include "agent/config.h"
#include "agent/event_loop.h"
#include "agent/metrics.h"
#include "agent/policy_installer.h"
#include "agent/reloader.h"
#include "agent/ruleset.h"
#include "agent/self_alerts.h"
#include "agent/self_protection.h"
#include "agent/signals.h"
#include "bpf/enforce/enforcement.h"
#include "bpf/sensor.h"
#include "engine/interest.h"
#include "engine/state/container_meta.h"
#include "outputs/fanout.h"
#include "outputs/outputs.h"
#include "runtime/container_watcher.h"

namespace vigil::agent {
namespace {

// --dry-run: what `run` would find when opening the sinks, without creating anything.
int DryRun(const Loaded& loaded) {
  const auto sink_problems = outputs::CheckOutputs(loaded.config.outputs);
  for (const auto& p : sink_problems) spdlog::error("outputs: {}", p);
  if (!sink_problems.empty()) return 2;
  std::printf("configuration (%s) and rules are valid; %zu enforcing rule(s)\n", loaded.config.source.c_str(),
              loaded.policy.rules.size());
  return 0;
}

bool StartOutputs(const outputs::OutputsConfig& config, outputs::FanOut* fanout) {
  if (auto err = outputs::BuildOutputs(config, fanout)) {
    spdlog::error("outputs: {}", *err);
    return false;
  }
  if (fanout->size() == 0) spdlog::warn("outputs: no sink is enabled; alerts are counted but go nowhere");
  fanout->Start();
  return true;
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
  if (!cc.containerd_socket.empty()) wo.runtimes.push_back({"containerd", cc.containerd_socket});
  if (!cc.crio_socket.empty()) wo.runtimes.push_back({"cri-o", cc.crio_socket});
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

std::unique_ptr<capture::Sensor> OpenSensor(const Loaded& loaded, std::string* error) {
  capture::SensorOptions options = loaded.config.capture;
  // Processes already running get their environment read from /proc only
  // when a rule reads proc.env, as exec records carry it (ApplyInterest).
  options.seed_env = DeriveInterest(*loaded.engine).env;
  auto sensor = capture::Sensor::Open(options, error);
  if (!sensor) return nullptr;
  for (const auto& d : sensor->disabled()) spdlog::warn("capture: {} not loaded: {}", d.name, d.reason);
  spdlog::info("capture: {} programs attached ({} BPF build), {} processes seeded from /proc",
               sensor->attached().size(), capture::BpfBuildName(sensor->build()), sensor->seeded());
  ApplyInterest(sensor.get(), *loaded.engine);
  return sensor;
}

// Enforcement does not depend on capture: a kernel that cannot capture may
// still enforce (BPF LSM), so vigil then runs to enforce only, loudly. False:
// there is nothing to run for.
bool RunWithoutCapture(const Loaded& loaded, bool lsm_usable, const std::string& error, outputs::FanOut* fanout) {
  if (loaded.policy.rules.empty() && !lsm_usable) {
    spdlog::error("capture: {}", error);
    return false;
  }
  spdlog::error("capture: {}; running without capture: enforcement only, no events and no rule alerts", error);
  fanout->Submit(SelfAlert("vigil capture unavailable", Priority::kCritical,
                           "vigil runs without capture (enforcement only): " + error));
  return true;
}

std::unique_ptr<MetricsServer> StartMetrics(const AgentConfig& config) {
  if (!config.metrics_enabled) return nullptr;
  std::string error;
  auto metrics = MetricsServer::Start(config.metrics_host, config.metrics_port, 10, &error);
  if (!metrics) {
    // The sensor matters more than its metrics: keep running, loudly.
    spdlog::error("metrics: {}; running without /healthz and /metrics", error);
    return nullptr;
  }
  spdlog::info("metrics: http://{}:{}/metrics and /healthz", config.metrics_host, metrics->port());
  return metrics;
}

// The final counters are logged after the sinks closed, so alerts they could
// not deliver by then are counted as dropped in that line.
void StopOutputs(outputs::FanOut* fanout, std::unique_ptr<capture::Sensor> sensor, const HotCounters& hot) {
  fanout->Stop(5000);
  spdlog::info("{}", StatsLine(sensor.get(), *fanout, hot.events, hot.alerts));
  sensor.reset();
  for (const auto& s : fanout->Stats())
    if (s.queued != 0 || s.dropped != 0)
      spdlog::error("outputs: {} ended with {} queued and {} dropped alerts", s.name, s.queued, s.dropped);
}

int Run(const RunOptions& o) {
  InstallSignalHandlers();
  auto loaded = LoadAll(o);
  if (!loaded) return 2;
  if (o.dry_run) return DryRun(*loaded);
  outputs::FanOut fanout;
  if (!StartOutputs(loaded->config.outputs, &fanout)) return 2;
  // Container metadata: the watcher thread asks the runtimes; the sensor
  // attaches what it has to each event; ContainerHold delays a new
  // container's first events until it arrives (or hold_ms passes).
  auto containers = StartContainers(loaded->config.containers);
  loaded->config.capture.containers = containers.cache;
  // Probed before the sensor opens: the probe loads an LSM program, and
  // libbpf parses the kernel's BTF for it (~11 MB here, freed at once).
  // Done after the rings were mapped, that transient set the agent's peak
  // RSS; before, the sensor hands it back to the kernel ahead of the rings.
  const bool lsm_usable = enforce::BpfLsmUsable();
  std::string error;
  auto sensor = OpenSensor(*loaded, &error);
  if (!sensor && !RunWithoutCapture(*loaded, lsm_usable, error, &fanout)) {
    fanout.Stop();
    return 1;
  }
  PolicyInstaller enforcement(loaded->config.degrade_to_kill ? enforce::Degrade::kKill : enforce::Degrade::kAlert,
                              lsm_usable);
  if (!enforcement.Install(loaded->policy)) {
    fanout.Stop();
    return 1;
  }
  SelfProtection self(static_cast<uint32_t>(getpid()));
  self.Watch(sensor.get(), enforcement.manager());
  auto metrics = StartMetrics(loaded->config);
  Reloader reloader({[&o](std::string* problems) { return LoadAll(o, problems); },
                     [&enforcement](const policy::PolicySpec& spec) { return enforcement.Install(spec); },
                     [&] { self.Watch(sensor.get(), enforcement.manager()); }});
  EventLoop loop({&fanout, sensor.get(), &enforcement, &self, &reloader, metrics.get(), containers.cache,
                  containers.watcher.get()},
                 std::move(loaded));
  const int rc = loop.Run();
  loop.Drain();
  spdlog::info("stopping: flushing outputs");
  metrics.reset();
  StopOutputs(&fanout, std::move(sensor), loop.counters());
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
