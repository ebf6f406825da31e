// SPDX-License-Identifier: Apache-2.0
// vigil.yaml loading: defaults, overrides, and located diagnostics.
#include <algorithm>
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "agent/config.h"
#include "tests/support/any_contains.h"

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/vigil-config-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

using vigil::testing::AnyContains;

}  // namespace

TEST_CASE("a valid file sets every section", "[unit]") {
  TempFile f(R"(rules:
  paths: [/a.yaml, /b]
capture:
  ringbuf_mb: 32
  process_table_size: 4096
  bpf_build: compat
metrics:
  enabled: false
  listen: 0.0.0.0:9999
stats_interval_s: 5
outputs:
  file:
    enabled: true
    path: /tmp/alerts.json
)");
  auto r = vigil::agent::LoadAgentConfig(f.path, {}, {});
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  const auto& c = r.config;
  CHECK(c.source == f.path);
  CHECK(c.rules_paths == std::vector<std::string>{"/a.yaml", "/b"});
  CHECK(c.capture.ringbuf_bytes == 32u << 20);
  CHECK(c.capture.process_table_capacity == 4096);
  CHECK(c.capture.build == vigil::capture::BpfBuild::kCompat);
  CHECK_FALSE(c.metrics_enabled);
  CHECK(c.metrics_host == "0.0.0.0");
  CHECK(c.metrics_port == 9999);
  CHECK(c.stats_interval_s == 5);
  CHECK(c.outputs.file.enabled);
  CHECK(c.outputs.file.path == "/tmp/alerts.json");
}

TEST_CASE("bad values and unknown keys are located", "[unit]") {
  struct Case {
    const char* yaml;
    bool error;           // true: an error; false: a warning
    const char* located;  // ":line:col"
    const char* says;
  };
  const Case cases[] = {
      {"capture:\n  ringbuf_mb: 3\n", true, ":2:15", "capture.ringbuf_mb: expected a power of two"},
      {"capture:\n  ringbuf_mb: lots\n", true, ":2:15", "capture.ringbuf_mb: expected an integer"},
      {"capture:\n  bpf_build: fast\n", true, ":2:14", "capture.bpf_build: expected auto, typed, compat or legacy"},
      {"capture:\n  ringbuff_mb: 8\n", false, ":2:3", "unknown key 'capture.ringbuff_mb'"},
      // issue 24 defect 3: the priority lane's keys
      {"capture:\n  priority_ringbuf_kb: 1000\n", true, ":2:24",
       "capture.priority_ringbuf_kb: expected 0 (lane off) or a power of two of at least 4"},
      {"capture:\n  priority_ringbuf_kb: 2\n", true, ":2:24", "a power of two of at least 4"},
      {"capture:\n  priority_ringbuf_kb: 131072\n", true, ":2:24",
       "capture.priority_ringbuf_kb: expected an integer from 0 to 65536"},
      {"capture:\n  priority_ringbuf_kb: big\n", true, ":2:24", "capture.priority_ringbuf_kb: expected an integer"},
      {"capture:\n  priority_paths: /etc/shadow\n", true, ":2:19",
       "capture.priority_paths: expected a list of absolute paths"},
      {"capture:\n  priority_paths:\n    - /etc/shadow\n    - etc/sudoers\n", true, ":4:7",
       "capture.priority_paths: 'etc/sudoers': expected an absolute path"},
      {"capture:\n  priority_paths: [/etc/a, [/x]]\n", true, ":2:28",
       "capture.priority_paths: expected a list of absolute paths"},
      {"capture:\n  priority_paths: [/0123456789012345678901234567890123456789012345678901234567890123]\n", true,
       ":2:20", "longer than 63 bytes (the kernel compares that many)"},
      {"metrics:\n  listen: localhost\n", true, ":2:11", "metrics.listen: expected host:port"},
      {"metrics:\n  enabled: maybe\n", true, ":2:12", "metrics.enabled: expected true or false"},
      {"rules:\n  paths: {a: b}\n", true, ":2:10", "rules.paths: expected a list"},
      {"stats_interval_s: -1\n", true, ":1:19", "stats_interval_s: expected an integer from 0"},
      {"colour: blue\n", false, ":1:1", "unknown key 'colour'"},
      {"outputs:\n  file:\n    pth: /x\n", true, ":3:5", "pth"},
      {"rules: [unclosed\n", true, ":", "invalid YAML"},
      {"- a list\n", true, ":1:1", "expected a map of settings"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    TempFile f(c.yaml);
    auto r = vigil::agent::LoadAgentConfig(f.path, {}, {});
    const auto& bucket = c.error ? r.errors : r.warnings;
    CHECK(r.ok() == !c.error);
    CHECK(AnyContains(bucket, f.path + c.located));
    CHECK(AnyContains(bucket, c.says));
  }
}

TEST_CASE("the priority lane: on with credential paths by default, sized and listed by capture.*", "[unit]") {
  auto d = vigil::agent::LoadAgentConfig("", {}, {});
  REQUIRE(d.ok());
  CHECK(d.config.capture.priority_ringbuf_bytes == 512u << 10);
  CHECK(std::find(d.config.capture.priority_paths.begin(), d.config.capture.priority_paths.end(), "/etc/shadow") !=
        d.config.capture.priority_paths.end());
  CHECK(std::find(d.config.capture.priority_paths.begin(), d.config.capture.priority_paths.end(),
                  "/etc/sudoers.d/") != d.config.capture.priority_paths.end());

  TempFile f("capture:\n  priority_ringbuf_kb: 2048\n  priority_paths: [/etc/shadow, /srv/keys/]\n");
  auto r = vigil::agent::LoadAgentConfig(f.path, {}, {});
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  CHECK(r.config.capture.priority_ringbuf_bytes == 2048u << 10);
  CHECK(r.config.capture.priority_paths == std::vector<std::string>{"/etc/shadow", "/srv/keys/"});

  TempFile off("capture:\n  priority_ringbuf_kb: 0\n  priority_paths: []\n");
  auto o = vigil::agent::LoadAgentConfig(off.path, {}, {});
  REQUIRE(o.ok());
  CHECK(o.config.capture.priority_ringbuf_bytes == 0);
  CHECK(o.config.capture.priority_paths.empty());

  auto ov = vigil::agent::LoadAgentConfig("", {"capture.priority_ringbuf_kb=0"}, {});
  REQUIRE(ov.ok());
  CHECK(ov.config.capture.priority_ringbuf_bytes == 0);

  std::string many = "capture:\n  priority_paths:\n";
  for (int i = 0; i < 65; ++i) many += "    - /p" + std::to_string(i) + "\n";
  TempFile too_many(many);
  auto m = vigil::agent::LoadAgentConfig(too_many.path, {}, {});
  CHECK_FALSE(m.ok());
  CHECK(AnyContains(m.errors, too_many.path + ":3:5: capture.priority_paths: at most 64 paths (got 65)"));
}

TEST_CASE("overrides apply after the file, -r replaces rules.paths", "[unit]") {
  TempFile f("outputs:\n  file:\n    enabled: false\n");
  auto r = vigil::agent::LoadAgentConfig(
      f.path, {"outputs.file.enabled=true", "outputs.file.path=/tmp/o.json", "metrics.enabled=false"}, {"/r.yaml"});
  REQUIRE(r.ok());
  CHECK(r.config.outputs.file.enabled);
  CHECK(r.config.outputs.file.path == "/tmp/o.json");
  CHECK_FALSE(r.config.metrics_enabled);
  CHECK(r.config.rules_paths == std::vector<std::string>{"/r.yaml"});

  auto bad = vigil::agent::LoadAgentConfig(f.path, {"outputs.file.enabled"}, {});
  CHECK_FALSE(bad.ok());
  CHECK(AnyContains(bad.errors, "-o outputs.file.enabled"));
  // Issue 24 item 12: the prefix was printed twice ("-o x: -o x: ...").
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0] == "-o outputs.file.enabled: expected key=value (e.g. -o outputs.kafka.topic=alerts)");
}

// Issue 24 item 12: a bad -o value was attributed to "built-in defaults" (or
// to the file), and a deeply nested file said only "bad file".
TEST_CASE("bad values from -o are attributed to the command line; deep nesting is named", "[unit]") {
  auto none = vigil::agent::LoadAgentConfig("", {"capture.ringbuf_mb=abc", "metrics.enabled=maybe"}, {});
  CHECK_FALSE(none.ok());
  CHECK(AnyContains(none.errors, "-o (command line): capture.ringbuf_mb: expected an integer"));
  CHECK(AnyContains(none.errors, "-o (command line): metrics.enabled: expected true or false"));
  TempFile f("capture:\n  ringbuf_mb: 8\n");
  auto file = vigil::agent::LoadAgentConfig(f.path, {"capture.ringbuf_mb=3"}, {});
  CHECK(AnyContains(file.errors, "-o (command line): capture.ringbuf_mb: expected a power of two"));
  TempFile deep("a: " + std::string(100000, '['));
  auto nested = vigil::agent::LoadAgentConfig(deep.path, {}, {});
  REQUIRE(nested.errors.size() == 1);
  CHECK(nested.errors[0].find("invalid YAML: nested") != std::string::npos);
  CHECK(nested.errors[0].find("more than the YAML parser accepts") != std::string::npos);
}

TEST_CASE("a missing -c file is an error; no file at all means the built-in defaults", "[unit]") {
  auto r = vigil::agent::LoadAgentConfig("/nonexistent/vigil.yaml", {}, {});
  CHECK_FALSE(r.ok());
  CHECK(AnyContains(r.errors, "/nonexistent/vigil.yaml: cannot read"));

  if (access(vigil::agent::kDefaultConfigPath, F_OK) != 0) {
    auto d = vigil::agent::LoadAgentConfig("", {}, {});
    REQUIRE(d.ok());
    CHECK(d.config.source == "built-in defaults");
    CHECK(d.config.outputs.stdout_sink.enabled);
    CHECK(d.config.outputs.file.enabled);
    CHECK_FALSE(d.config.rules_paths.empty());
  }
}

// Issue 24 item 5: -c /dev/zero, /dev/urandom or a FIFO hung (growing
// ~180 MB/s, ignoring SIGTERM), and -c DIRECTORY gave an empty configuration
// and a sensor with no sinks. Each is now an error naming the file and why.
TEST_CASE("-c takes only a regular file of bounded size", "[unit]") {
  char tmpl[] = "/tmp/vigil-config-dir-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string fifo = dir + "/fifo", big = dir + "/big.yaml";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  {
    std::ofstream out(big);
    out << "stats_interval_s: 5\n" << std::string(vigil::agent::kMaxConfigBytes, '#') << "\n";
  }
  const struct {
    std::string path, error;
  } cases[] = {
      {"/dev/zero", "/dev/zero: not a regular file (a character device); expected a YAML file"},
      {"/dev/urandom", "/dev/urandom: not a regular file (a character device); expected a YAML file"},
      {fifo, fifo + ": not a regular file (a FIFO); expected a YAML file"},
      {dir, dir + ": is a directory; -c takes a YAML file (rules directories go in rules.paths or -r)"},
      {big, big + ": 1048597 bytes, larger than the 1024 KiB a configuration file may have"},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    auto r = vigil::agent::LoadAgentConfig(c.path, {}, {});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] == c.error);
  }
  std::remove(fifo.c_str());
  std::remove(big.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("sigma.fields maps Sigma fields to vigil fields; a bad one is a located error", "[unit]") {
  TempFile good("sigma:\n  fields:\n    Hostname: evt.hostname\n    CommandLine: proc.cmdline\n    A1: proc.argv[1]\n");
  auto r = vigil::agent::LoadAgentConfig(good.path, {}, {});
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  CHECK(r.config.sigma_fields == std::map<std::string, std::string>{
                                     {"A1", "proc.argv[1]"}, {"CommandLine", "proc.cmdline"}, {"Hostname", "evt.hostname"}});
  TempFile bad("sigma:\n  fields:\n    Image: proc.nosuch\n  other: 1\n");
  auto b = vigil::agent::LoadAgentConfig(bad.path, {}, {});
  CHECK(AnyContains(b.errors, bad.path + ":3:12: sigma.fields: 'proc.nosuch' is not a vigil field"));
  CHECK(AnyContains(b.warnings, bad.path + ":4:3: unknown key 'sigma.other'"));
  TempFile not_map("sigma:\n  fields: [a, b]\n");
  auto n = vigil::agent::LoadAgentConfig(not_map.path, {}, {});
  CHECK(AnyContains(n.errors, not_map.path + ":2:11: sigma.fields: expected a map"));
}

// Issue 24 item 11: a duplicate key was first-wins without a word, and a
// reload said only "output settings changed".
TEST_CASE("a key given twice in the configuration is an error", "[unit]") {
  TempFile f("capture:\n  ringbuf_mb: 8\n  ringbuf_mb: 64\nstats_interval_s: 5\n");
  auto r = vigil::agent::LoadAgentConfig(f.path, {}, {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == f.path + ":3:3: duplicate key 'ringbuf_mb' (first given at line 2; YAML keeps only one)");
}

TEST_CASE("RestartOnlyChanges names each changed key a reload cannot apply", "[unit]") {
  vigil::agent::AgentConfig a, b;
  CHECK(vigil::agent::RestartOnlyChanges(a, b).empty());
  b.rules_paths = {"/other"};  // applied by the reload itself
  b.stats_interval_s = 5;
  CHECK(vigil::agent::RestartOnlyChanges(a, b).empty());
  b.outputs.file.format = vigil::outputs::Format::kOcsf;
  b.metrics_port = 1;
  b.capture.ringbuf_bytes = 1u << 20;
  b.outputs.kafka.properties["acks"] = "1";
  b.degrade_to_kill = true;
  CHECK(vigil::agent::RestartOnlyChanges(a, b) ==
        std::vector<std::string>{"outputs.file.format", "outputs.kafka.properties", "capture.ringbuf_mb",
                                 "enforcement.degrade", "metrics.listen"});
}

TEST_CASE("throttle: settings and their located errors", "[unit]") {
  TempFile good("throttle:\n  enabled: false\n  rate_per_s: 0.5\n  burst: 3\n  summary_interval_s: 30\n");
  auto r = vigil::agent::LoadAgentConfig(good.path, {}, {});
  REQUIRE(r.ok());
  CHECK_FALSE(r.config.throttle.enabled);
  CHECK(r.config.throttle.rate_per_s == 0.5);
  CHECK(r.config.throttle.burst == 3);
  CHECK(r.config.throttle.summary_interval == std::chrono::seconds(30));
  auto defaults = vigil::agent::LoadAgentConfig("", {}, {});
  CHECK(defaults.config.throttle.enabled);  // on by default
  TempFile bad("throttle:\n  enabled: maybe\n  rate_per_s: fast\n  burst: 0\n  summary_interval_s: 99999\n  x: 1\n");
  auto b = vigil::agent::LoadAgentConfig(bad.path, {}, {});
  CHECK(b.errors.size() == 4);
  CHECK(AnyContains(b.errors, ":2:12: throttle.enabled: expected true or false"));
  CHECK(AnyContains(b.errors, ":3:15: throttle.rate_per_s: expected a number"));
  CHECK(AnyContains(b.errors, ":4:10: throttle.burst: expected an integer from 1 to 1000000"));
  CHECK(AnyContains(b.errors, "throttle.summary_interval_s: expected an integer from 1 to 3600"));
  CHECK(AnyContains(b.warnings, "unknown key 'throttle.x'"));
}

TEST_CASE("containers: the runtime socket keys, \"\" turns one off, a map is a located error", "[unit]") {
  TempFile f("containers:\n  docker_socket: \"\"\n  containerd_socket: /run/k3s/containerd/containerd.sock\n"
             "  crio_socket: \"\"\n");
  auto r = vigil::agent::LoadAgentConfig(f.path, {}, {});
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  CHECK(r.config.containers.docker_socket.empty());
  CHECK(r.config.containers.podman_socket == "/run/podman/podman.sock");  // default kept
  CHECK(r.config.containers.containerd_socket == "/run/k3s/containerd/containerd.sock");
  CHECK(r.config.containers.crio_socket.empty());
  vigil::agent::AgentConfig defaults;
  CHECK(defaults.containers.containerd_socket == "/run/containerd/containerd.sock");
  CHECK(defaults.containers.crio_socket == "/run/crio/crio.sock");

  TempFile bad("containers:\n  crio_socket: {a: 1}\n");
  auto rb = vigil::agent::LoadAgentConfig(bad.path, {}, {});
  REQUIRE_FALSE(rb.ok());
  CHECK(AnyContains(rb.errors, ":2:16: containers.crio_socket: expected a unix socket path"));
}
