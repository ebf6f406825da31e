// SPDX-License-Identifier: Apache-2.0
// Issue 24: alerts a sink drops (its queue full) were only a counter and an
// exit log line. Here the stdout sink writes into a pipe nobody reads, so its
// queue fills and it drops; the file sink must receive "vigil alerts dropped"
// alerts whose counts add up to exactly what /metrics says the stdout sink
// dropped.
#include <catch2/catch.hpp>

#include "agent_process.h"
#include "metrics_scrape.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using vigil::testing::MetricValue;

// Sum of `field` over the alert lines of `rule` in `path`, and how many there were.
std::pair<uint64_t, int> SumField(const std::string& path, const std::string& rule, const std::string& field) {
  std::ifstream in(path);
  std::string line;
  uint64_t sum = 0;
  int n = 0;
  const std::regex value("\"" + field + "\":(\\d+)");
  while (std::getline(in, line)) {
    if (line.find("\"rule\":\"" + rule + "\"") == std::string::npos) continue;
    std::smatch m;
    REQUIRE(std::regex_search(line, m, value));
    sum += std::stoull(m[1]);
    ++n;
  }
  return {sum, n};
}

}  // namespace

TEST_CASE("vigil run: alerts a sink drops are reported through the other sinks, counted exactly", "[root]") {
  const auto [dir, rules, config, alerts] = vigil::testing::AgentFiles("drop");
  const std::string marker = dir + "/marker";
  std::ofstream(rules) << "- rule: Marker\n  desc: test\n  condition: evt.type in (open, openat) and fd.name = " +
                              marker + "\n  output: marker opened by %proc.name (%fd.name)\n  priority: WARNING\n";
  std::ofstream(config) << "outputs:\n  queue_capacity: 256\n  stdout:\n    enabled: true\n  file:\n    enabled: true\n"
                           "    path: " + alerts + "\n"
                           "metrics:\n  listen: 127.0.0.1:0\nstats_interval_s: 0\nthrottle:\n  enabled: false\n";

  // The agent's stdout: a pipe this test does not read until the end.
  int out[2];
  REQUIRE(pipe(out) == 0);
  const int saved = dup(1);
  REQUIRE(dup2(out[1], 1) == 1);
  auto agent = std::make_unique<vigil::testing::AgentProcess>(std::vector<std::string>{"run", "-c", config, "-r", rules});
  REQUIRE(dup2(saved, 1) == 1);
  close(saved);
  close(out[1]);
  REQUIRE(agent->WaitFor("vigil running", 60s));
  std::smatch m;
  const auto log = agent->Log();
  REQUIRE(std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
  const int port = std::stoi(m[1]);

  // ~2,000 alerts: the 64 KiB pipe holds ~150, the queue 256; the rest are dropped for stdout.
  for (int i = 0; i < 2000; ++i) {
    const int fd = open(marker.c_str(), O_RDONLY | O_CREAT, 0600);
    if (fd >= 0) close(fd);
    if (i % 100 == 99) std::this_thread::sleep_for(20ms);
  }
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (SumField(alerts, "vigil alerts dropped", "vigil.alerts.dropped").second < 1 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  REQUIRE(SumField(alerts, "vigil alerts dropped", "vigil.alerts.dropped").second >= 1);
  CHECK(agent->Log().find("vigil alerts dropped") != std::string::npos);

  // Unblock stdout, let the counts settle, then stop: the alerts' sum equals the sink's counter.
  std::atomic<bool> stop{false};
  std::thread drain([&] {
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    char buf[65536];
    while (!stop) {
      if (read(out[0], buf, sizeof buf) <= 0) std::this_thread::sleep_for(5ms);
    }
  });
  std::this_thread::sleep_for(2s);
  const uint64_t dropped = std::stoull("0" + MetricValue(port, "vigil_alerts_dropped_total{sink=\"stdout\"} "));
  CHECK(dropped > 0);
  const uint64_t file_dropped = std::stoull("0" + MetricValue(port, "vigil_alerts_dropped_total{sink=\"file\"} "));
  // The file sink may drop a few of the burst too on a loaded host; its drops
  // are reported the same way (in alerts it did keep).
  agent->Signal(SIGTERM);
  CHECK(agent->Wait() == 0);
  stop = true;
  drain.join();
  close(out[0]);
  const auto [reported, n_alerts] = SumField(alerts, "vigil alerts dropped", "vigil.alerts.dropped");
  INFO("stdout dropped " << dropped << ", file " << file_dropped << ", reported " << reported << " in " << n_alerts
                          << " alerts");
  CHECK(reported == dropped + file_dropped);
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}
