// SPDX-License-Identifier: Apache-2.0
// The hot thread's counters as /metrics and the stats line see them, for an
// agent running without capture (enforcement only) with one file sink.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "agent/run_metrics.h"
#include "engine/rule_engine.h"
#include "outputs/fanout.h"
#include "outputs/outputs.h"

using vigil::EventType;
using vigil::agent::HotCounters;

namespace {

std::unique_ptr<vigil::RuleEngine> TwoRules() {
  vigil::Diagnostics d;
  auto e = vigil::RuleEngine::LoadTexts({{"r.yaml", R"(
- rule: A
  desc: d
  condition: evt.type = execve
  output: o
  priority: WARNING
- rule: B
  desc: d
  condition: evt.type = openat
  output: o
  priority: WARNING
)"}},
                                        &d);
  INFO(d.ToString());
  REQUIRE(e);
  return e;
}

}  // namespace

TEST_CASE("A snapshot carries the hot counters by type and rule, the sinks and the ruleset", "[unit]") {
  char path[] = "/tmp/vigil-run-metrics-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  vigil::outputs::OutputsConfig oc;
  oc.stdout_sink.enabled = false;
  oc.file.enabled = true;
  oc.file.path = path;
  vigil::outputs::FanOut fanout;
  REQUIRE_FALSE(vigil::outputs::BuildOutputs(oc, &fanout));

  HotCounters h;
  h.events = 12;
  h.alerts = 3;
  h.by_type[static_cast<std::size_t>(EventType::execve)] = 10;
  h.by_type[static_cast<std::size_t>(EventType::openat)] = 2;
  h.by_rule = {{"A", 2}, {"B", 1}};
  h.throttled_by_rule = {{"A", 5}};
  h.reloads_ok = 1;
  h.reloads_failed = 2;
  auto engine = TwoRules();

  const auto m = vigil::agent::Snapshot(h, nullptr, fanout, *engine, nullptr);
  CHECK(m.events_total == 12);
  using Pairs = std::vector<std::pair<std::string, uint64_t>>;
  CHECK(m.events_by_type == Pairs{{"execve", 10}, {"openat", 2}});  // types never seen are left out
  CHECK(m.rule_matches == Pairs{{"A", 2}, {"B", 1}});
  CHECK(m.alerts_throttled == Pairs{{"A", 5}});
  CHECK(m.kernel_counters.empty());  // no capture, nothing enforced
  CHECK(m.bpf_programs_attached == 0);
  CHECK(m.rules_loaded == 2);
  CHECK(m.reloads_ok == 1);
  CHECK(m.reloads_failed == 2);
  REQUIRE(m.sinks.size() == 1);
  CHECK(m.sinks[0].name == "file");

  vigil::agent::MetricsSnapshot with_containers = m;
  vigil::agent::AddContainerMetrics(nullptr, nullptr, {}, {}, &with_containers);
  // Metadata off: only the container-event series (vigil makes container
  // events from the cgroup id alone; container_removed ones need the cache,
  // so that series stays 0), none of the cache's.
  REQUIRE(with_containers.container_meta.size() == 7);
  CHECK(with_containers.container_meta[0].first == "container_events");
  CHECK(with_containers.container_meta[4].first == "container_removed_events");

  CHECK(vigil::agent::StatsLine(nullptr, fanout, 12, 3) ==
        "stats: events=12 alerts=3 capture=off file.sent=0 file.failed=0 file.spooled=0 file.dropped=0");
  fanout.Stop();
  std::remove(path);
}
