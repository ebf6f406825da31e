// SPDX-License-Identifier: Apache-2.0
// vigil.yaml: the agent's configuration file, and `-o key=value` overrides.
//
// Top-level keys:
//   rules.paths                 files and directories of rules, loaded in order
//   outputs.*                   alert sinks (outputs/config.h; docs/outputs.md)
//   capture.ringbuf_mb          kernel ring buffer size (power of two, MiB)
//   capture.process_table_size  processes tracked at most
//   capture.bpf_build           auto | typed | compat | legacy (which BPF build to load)
//   capture.ia32_programs       auto | on | off (the 32-bit syscall programs; auto: unless refused)
//   capture.priority_ringbuf_kb priority lane ring size (0 = off, else a power of two, 4-65536 KiB)
//   capture.priority_paths      opens of these take the priority lane (exact, or a prefix ending in '/')
//   enforcement.degrade         what a `deny` rule becomes where the kernel cannot deny: alert | kill
//   containers.*                runtime metadata (docs/configuration.md): enabled, docker_socket,
//                               podman_socket, containerd_socket, crio_socket, timeout_ms,
//                               list_interval_ms, cache_size, hold_ms
//   sigma.fields                Sigma field -> vigil field, over the built-in table (docs/sigma.md)
//   stats_interval_s            how often counters are logged (0 = never)
//   throttle.*                  per-rule, per-program alert throttling (agent/alert_throttle.h)
//   metrics.enabled             serve /healthz and /metrics (default true)
//   metrics.listen              host:port (default 127.0.0.1:9464; port 0 = any free port)
//
// Contract:
// - LoadAgentConfig() reports every problem, located: an unknown key is a
//   warning naming itself and its file:line:col; a bad value is an error naming
//   the key and the expected type. `outputs:` is checked by the outputs
//   parser, where an unknown key is an error (a misspelt sink option would
//   silently send alerts nowhere). It never throws.
// - The file must be a regular file of at most kMaxConfigBytes: a directory,
//   FIFO or device (/dev/zero) is an error naming what it is, never a hang.
// - With no file (the default path absent and no -c), the built-in defaults
//   apply: the default ruleset, alerts to stdout and to /var/log/vigil/alerts.json.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/alert_throttle.h"
#include "bpf/sensor.h"
#include "outputs/config.h"

namespace vigil::agent {

inline constexpr const char* kDefaultConfigPath = "/etc/vigil/vigil.yaml";
// A configuration file larger than this is refused (vigil.yaml is a few KiB).
inline constexpr uint64_t kMaxConfigBytes = 1u << 20;

// containers: where the runtimes' APIs are, and how long an event of a new
// container may wait for its metadata before rules see it without.
struct ContainersConfig {
  bool enabled = true;
  std::string docker_socket = "/var/run/docker.sock";      // "" = do not ask dockerd
  std::string podman_socket = "/run/podman/podman.sock";   // "" = do not ask podman's service
  std::string containerd_socket = "/run/containerd/containerd.sock";  // CRI over gRPC; "" = do not ask
  std::string crio_socket = "/run/crio/crio.sock";                    // CRI over gRPC; "" = do not ask
  int timeout_ms = 1000;
  int list_interval_ms = 2000;
  int cache_size = 4096;
  int hold_ms = 300;  // 0 = never hold
};

struct AgentConfig {
  std::string source;  // the file read, or "built-in defaults"
  std::vector<std::string> rules_paths;
  outputs::OutputsConfig outputs;
  capture::SensorOptions capture;
  int stats_interval_s = 60;
  bool metrics_enabled = true;
  std::string metrics_host = "127.0.0.1";
  int metrics_port = 9464;
  bool degrade_to_kill = false;  // enforcement.degrade: kill
  ContainersConfig containers;
  std::map<std::string, std::string> sigma_fields;  // sigma.fields
  ThrottleOptions throttle;                          // throttle.*
};

struct ConfigLoad {
  AgentConfig config;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
};

// `path`: -c as given (empty: the default path, which may be absent).
// `overrides`: -o key=value, applied after the file. `rules_override`: -r
// paths; when non-empty they replace rules.paths.
ConfigLoad LoadAgentConfig(const std::string& path, const std::vector<std::string>& overrides,
                           const std::vector<std::string>& rules_override);

// The keys whose value differs between `before` and `after` and that only a
// restart applies (outputs.*, capture.*, metrics.*, enforcement.degrade,
// throttle): a
// SIGHUP reload keeps the running value and says so, naming each.
std::vector<std::string> RestartOnlyChanges(const AgentConfig& before, const AgentConfig& after);

// The default rules paths: the installed ruleset (/usr/share/vigil/rules, or
// under the cmake install prefix) and /etc/vigil/rules.d when installed; else
// the ruleset in the source tree this binary was built from.
std::vector<std::string> DefaultRulesPaths();

}  // namespace vigil::agent
