// SPDX-License-Identifier: Apache-2.0
// `vigil run` end to end on this kernel: the real binary, real BPF capture, real
// files and HTTP. Covers alert delivery, /metrics, SIGHUP with a broken and a
// good ruleset, --dry-run, and a clean SIGTERM.
#include <catch2/catch.hpp>

#include "agent_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string RuleFile(const std::string& name, const std::string& marker) {
  return "- rule: " + name + "\n  desc: test\n  condition: evt.type in (open, openat) and fd.name = " + marker +
         "\n  output: marker opened by %proc.name (%fd.name)\n  priority: WARNING\n  tags: [test]\n";
}

using Agent = vigil::testing::AgentProcess;

int RunToExit(const std::vector<std::string>& args) {
  Agent a(args);
  return a.Wait();
}

void Touch(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd >= 0) close(fd);
}

std::size_t CountLines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("vigil run: alerts, metrics, reload keeps the old ruleset on errors, clean stop", "[root]") {
  char tmpl[] = "/tmp/vigil-run-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string rules = dir + "/rules.yaml", config = dir + "/vigil.yaml", alerts = dir + "/alerts.json";
  const std::string marker_a = dir + "/marker-a", marker_b = dir + "/marker-b";
  Write(marker_a, "a");
  Write(marker_b, "b");
  Write(rules, RuleFile("Marker A", marker_a));
  Write(config, "outputs:\n  file:\n    enabled: true\n    path: " + alerts +
                    "\n    fsync_interval_ms: 0\nmetrics:\n  listen: 127.0.0.1:0\nstats_interval_s: 0\n");

  SECTION("dry run") {
    CHECK(RunToExit({"run", "--dry-run", "-c", config, "-r", rules}) == 0);
    Write(dir + "/broken.yaml", "- rule: Broken\n  condition: evt.type = open and\n");
    CHECK(RunToExit({"run", "--dry-run", "-c", config, "-r", dir + "/broken.yaml"}) == 2);
    CHECK(RunToExit({"run", "--dry-run", "-c", dir + "/missing.yaml", "-r", rules}) == 2);
    // Issue 24 item 6: a file sink path that cannot be opened was "valid".
    Write(dir + "/blocker", "a file where a directory should be");
    Write(dir + "/bad-sink.yaml", "outputs:\n  file:\n    enabled: true\n    path: " + dir + "/blocker/alerts.json\n");
    Agent bad({"run", "--dry-run", "-c", dir + "/bad-sink.yaml", "-r", rules});
    CHECK(bad.Wait() == 2);
    CHECK(bad.Log().find("outputs.file.path: " + dir + "/blocker/alerts.json: cannot be created: " + dir +
                         "/blocker is not a directory") != std::string::npos);
  }

  SECTION("live") {
    Agent agent({"run", "-c", config, "-r", rules});
    REQUIRE(agent.WaitFor("vigil running", 60s));
    std::smatch m;
    const auto log = agent.Log();
    REQUIRE(std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
    const int port = std::stoi(m[1]);

    Touch(marker_a);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker A\"") < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    REQUIRE(CountLines(alerts, "\"rule\":\"Marker A\"") == 1);

    // /metrics counts the match and the delivery (published once a second).
    // The file sink counts a delivery after its write, so a snapshot can show
    // the match before the delivery: poll until both are there.
    httplib::Client http("127.0.0.1", port);
    const std::string matched = "vigil_rule_matches_total{rule=\"Marker A\"} 1\n";
    const std::string delivered = "vigil_alerts_sent_total{sink=\"file\"} 1\n";
    std::string body;
    deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http.Get("/metrics");
      REQUIRE(r);
      body = r->body;
      if (body.find(matched) != std::string::npos && body.find(delivered) != std::string::npos) break;
      std::this_thread::sleep_for(200ms);
    }
    CHECK(body.find(matched) != std::string::npos);
    CHECK(body.find(delivered) != std::string::npos);
    CHECK(std::regex_search(body, std::regex(R"(vigil_events_by_type_total\{type="openat"\} [1-9])")));
    CHECK(body.find("vigil_kernel_errors_total{site=\"ringbuf_drop\"}") != std::string::npos);
    auto health = http.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);

    // A broken ruleset on SIGHUP: refused, old rule still fires, an alert says so.
    Write(rules, "- rule: Marker A\n  condition: evt.type in (open, openat) and and\n");
    agent.Signal(SIGHUP);
    REQUIRE(agent.WaitFor("previous one stays active", 30s));
    Touch(marker_a);
    deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker A\"") < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    CHECK(CountLines(alerts, "\"rule\":\"Marker A\"") == 2);
    CHECK(CountLines(alerts, "\"rule\":\"vigil rules reload failed\"") == 1);

    // A good ruleset on SIGHUP replaces the old one.
    Write(rules, RuleFile("Marker B", marker_b));
    agent.Signal(SIGHUP);
    REQUIRE(agent.WaitFor("new ruleset active", 30s));
    Touch(marker_a);
    Touch(marker_b);
    deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker B\"") < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    CHECK(CountLines(alerts, "\"rule\":\"Marker B\"") == 1);
    CHECK(CountLines(alerts, "\"rule\":\"Marker A\"") == 2);

    agent.Signal(SIGTERM);
    CHECK(agent.Wait() == 0);
    CHECK(agent.Log().find("stopping: flushing outputs") != std::string::npos);
  }
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}

TEST_CASE("vigil run enforces a kill rule before the program runs, and the alert says so", "[root]") {
  char tmpl[] = "/tmp/vigil-kill-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string rules = dir + "/rules.yaml", config = dir + "/vigil.yaml", alerts = dir + "/alerts.json";
  // Both copies would create their marker if they ran a line of their own.
  const std::string script = "#!/bin/sh\ntouch \"$0.ran\"\n";
  Write(dir + "/evil", script);
  Write(dir + "/good", script);
  REQUIRE(chmod((dir + "/evil").c_str(), 0755) == 0);
  REQUIRE(chmod((dir + "/good").c_str(), 0755) == 0);
  Write(rules, "- rule: Kill evil\n  desc: test\n  condition: evt.type = execve and proc.exepath = " + dir +
                   "/evil\n  output: killed %proc.exepath\n  priority: CRITICAL\n  action: kill\n  tags: [test]\n");
  Write(config, "outputs:\n  file:\n    enabled: true\n    path: " + alerts +
                    "\n    fsync_interval_ms: 0\nmetrics:\n  listen: 127.0.0.1:0\nstats_interval_s: 0\n");

  Agent agent({"run", "-c", config, "-r", rules});
  REQUIRE(agent.WaitFor("vigil running", 60s));
  CHECK(agent.Log().find("enforcement: rule 'Kill evil': kill via") != std::string::npos);
  // With enforcement loaded, /metrics also reports its kernel-side losses.
  {
    std::smatch m;
    const auto log = agent.Log();
    REQUIRE(std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
    httplib::Client http("127.0.0.1", std::stoi(m[1]));
    std::string body;
    for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
      auto r = http.Get("/metrics");
      REQUIRE(r);
      body = r->body;
      if (body.find("enforce_helper_scan_failed") != std::string::npos) break;
      std::this_thread::sleep_for(200ms);
    }
    CHECK(body.find("vigil_kernel_errors_total{site=\"enforce_helper_scan_failed\"} 0\n") != std::string::npos);
    CHECK(body.find("vigil_kernel_errors_total{site=\"enforce_refusal_records_dropped\"} 0\n") != std::string::npos);
  }

  auto run = [](const std::string& path) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  };
  const int evil = run(dir + "/evil");
  const int good = run(dir + "/good");
  CHECK(WIFSIGNALED(evil));
  CHECK(WTERMSIG(evil) == SIGKILL);
  CHECK(access((dir + "/evil.ran").c_str(), F_OK) != 0);
  CHECK(WIFEXITED(good));
  CHECK(access((dir + "/good.ran").c_str(), F_OK) == 0);

  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (CountLines(alerts, "\"rule\":\"Kill evil\"") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK(CountLines(alerts, "\"enforcement\":\"kill\"") == 1);
  CHECK(CountLines(alerts, "\"action\":\"kill\"") == 1);
  agent.Signal(SIGTERM);
  CHECK(agent.Wait() == 0);
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}
