// SPDX-License-Identifier: Apache-2.0
// The `correlate:` extension (issue 17, discovery bursts): the Correlator's
// window, distinct counting, quiet period and bounded keys; the rule key
// through the engine (Match fires once per burst, the alert names the
// values, a reset forgets); `sequence:` inline cases.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/correlate.h"
#include "engine/rule_engine.h"
#include "engine/rule_tests.h"

namespace {

constexpr int64_t kSec = 1000000000;

struct Obs {
  const char* key;
  const char* value;
  int64_t t_s;
  bool fires;
};

// Observations fed in order to one fresh correlator, under a name for the report.
struct Scenario {
  const char* name;
  std::vector<Obs> obs;
};

}  // namespace

TEST_CASE("correlator: distinct values within the window, one alert per burst", "[unit]") {
  const std::vector<Scenario> scenarios = {
      {"three distinct within the window fire on the third",
       {{"k", "a", 0, false}, {"k", "b", 1, false}, {"k", "c", 2, true}}},
      {"repeats are one value", {{"k", "a", 0, false}, {"k", "a", 1, false}, {"k", "a", 2, false}, {"k", "b", 3, false}}},
      {"a value older than the window no longer counts",
       {{"k", "a", 0, false}, {"k", "b", 5, false}, {"k", "c", 12, false}, {"k", "d", 13, true}}},
      {"a repeat refreshes its time",
       {{"k", "a", 0, false}, {"k", "b", 5, false}, {"k", "a", 9, false}, {"k", "c", 12, true}}},
      {"keys count apart", {{"x", "a", 0, false}, {"y", "b", 1, false}, {"x", "c", 2, false}, {"y", "d", 3, false}}},
      {"the rest of a burst is quiet for a window, then counts afresh",
       {{"k", "a", 0, false}, {"k", "b", 1, false}, {"k", "c", 2, true}, {"k", "d", 3, false}, {"k", "e", 4, false},
        {"k", "f", 5, false}, {"k", "a", 13, false}, {"k", "b", 14, false}, {"k", "c", 15, true}}},
      {"an event earlier than the key's last counts as the last",
       {{"k", "a", 100, false}, {"k", "b", 50, false}, {"k", "c", 101, true}}},
  };
  for (const auto& s : scenarios) {
    INFO(s.name);
    vigil::Correlator cor(3, 10 * kSec, 16);
    for (std::size_t i = 0; i < s.obs.size(); ++i) {
      INFO("observation " << i + 1);
      CHECK(cor.Observe(s.obs[i].key, s.obs[i].value, s.obs[i].t_s * kSec) == s.obs[i].fires);
    }
  }
}

TEST_CASE("correlator: the burst's values, first seen first, long values cut", "[unit]") {
  vigil::Correlator cor(2, 10 * kSec, 16);
  const std::string long_value(1000, 'x');
  CHECK_FALSE(cor.Observe("k", "uname", 0));
  CHECK(cor.last_burst().empty());
  CHECK(cor.Observe("k", long_value, kSec));
  REQUIRE(cor.last_burst().size() == 2);
  CHECK(cor.last_burst()[0] == "uname");
  CHECK(cor.last_burst()[1].size() == vigil::Correlator::kMaxValueBytes);
  CHECK_FALSE(cor.Observe("k", "id", 2 * kSec));
  CHECK(cor.last_burst().empty());
}

TEST_CASE("correlator: keys are bounded, expired ones go first, pressure is counted", "[unit]") {
  vigil::Correlator cor(2, 10 * kSec, 3);
  CHECK_FALSE(cor.Observe("a", "1", 0));
  CHECK_FALSE(cor.Observe("b", "1", 1 * kSec));
  CHECK_FALSE(cor.Observe("c", "1", 2 * kSec));
  CHECK(cor.keys() == 3);
  // Past a's and b's window: both expire, nothing is evicted under pressure.
  CHECK_FALSE(cor.Observe("d", "1", 11500000000));
  CHECK(cor.keys() == 2);
  CHECK(cor.evicted_expired() == 2);
  CHECK(cor.evicted_pressure() == 0);
  // c and d live, e new, then f: the table is full of live keys, the least
  // recently used (c) goes and is counted; its burst is lost.
  CHECK_FALSE(cor.Observe("e", "1", 12 * kSec));
  CHECK(cor.keys() == 3);
  CHECK_FALSE(cor.Observe("f", "1", 12 * kSec));
  CHECK(cor.keys() == 3);
  CHECK(cor.evicted_pressure() == 1);
  CHECK_FALSE(cor.Observe("c", "2", 12 * kSec));  // c starts again: one value only
  CHECK(cor.evicted_pressure() == 2);             // and pushed d out
  CHECK(cor.Observe("e", "2", 12 * kSec));        // e kept its first value
  // Many keys never grow the table past its bound.
  for (int i = 0; i < 1000; ++i) cor.Observe("k" + std::to_string(i), "v", 13 * kSec);
  CHECK(cor.keys() == 3);
  cor.Clear();
  CHECK(cor.keys() == 0);
}

namespace {

const char* kRule = R"YAML(
- rule: Burst
  desc: d
  condition: evt.type = execve and proc.name in (uname, id, whoami, ps)
  correlate: {by: [proc.ppid, user.uid], distinct: proc.name, count: 3, window: 60s}
  output: "burst (parent=%proc.ppid)"
  priority: NOTICE
  tests:
    - name: three from one parent
      event: {proc.ppid: 7, proc.pname: sh}
      sequence:
        - {proc.name: uname, evt.rawtime: 1000000000}
        - {proc.name: id, evt.rawtime: 2000000000}
        - {proc.name: whoami, evt.rawtime: 3000000000}
        - {proc.name: ps, evt.rawtime: 4000000000}
      expect: match
      alerts: 1
    - name: deliberately wrong count
      event: {proc.ppid: 7, proc.pname: sh}
      sequence:
        - {proc.name: uname}
        - {proc.name: id}
        - {proc.name: whoami}
      expect: match
      alerts: 0
    - name: single events test the condition
      event: {proc.name: id}
      expect: match
)YAML";

vigil::Event Exec(uint32_t ppid, const char* name, int64_t t_s) {
  vigil::Event e;
  e.type = vigil::EventType::execve;
  e.proc.pid = e.proc.tid = 1000 + static_cast<uint32_t>(t_s);
  e.proc.ppid = ppid;
  e.proc.name = name;
  e.proc.argv = {name};
  e.wall_ns = static_cast<uint64_t>(t_s * kSec);
  return e;
}

}  // namespace

TEST_CASE("correlate: the rule fires once per burst and its alert names the commands", "[unit]") {
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::LoadTexts({{"c.yaml", kRule}}, &diags);
  INFO(diags.ToString());
  REQUIRE(eng != nullptr);
  REQUIRE(diags.ErrorCount() == 0);
  std::vector<const vigil::CompiledRule*> fired;
  int alerts = 0;
  std::string output;
  const std::vector<vigil::Event> stream = {Exec(7, "uname", 1), Exec(8, "id", 2), Exec(7, "id", 3),
                                            Exec(7, "id", 4),    Exec(7, "ps", 5), Exec(7, "whoami", 6),
                                            Exec(8, "ps", 7),    Exec(8, "uname", 8)};
  for (const auto& e : stream) {
    eng->Match(e, &fired);
    for (const auto* r : fired) {
      ++alerts;
      auto a = eng->MakeAlert(*r, e);
      output += a.output + "\n";
    }
  }
  CHECK(alerts == 2);  // parent 7 at ps, parent 8 at uname
  CHECK(output.find("burst (parent=7) (3 distinct proc.name in the window: uname,id,ps)") != std::string::npos);
  CHECK(output.find("burst (parent=8) (3 distinct proc.name in the window: id,ps,uname)") != std::string::npos);
  const auto stats = eng->correlation_stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].keys == 2);
  CHECK(stats[0].evicted_pressure == 0);
  eng->ResetCorrelation();
  CHECK(eng->correlation_stats()[0].keys == 0);
}

TEST_CASE("correlate: sequence cases run through a fresh state and count alerts", "[unit]") {
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::LoadTexts({{"c.yaml", kRule}}, &diags);
  REQUIRE(eng != nullptr);
  REQUIRE(diags.ErrorCount() == 0);
  const auto report = vigil::RunRuleTests(*eng);
  REQUIRE(report.results.size() == 3);
  CHECK(report.results[0].passed);
  CHECK_FALSE(report.results[1].passed);  // the wrong count is caught, with the steps
  CHECK(report.results[1].detail.find("expected match with 0 alerts, the rule fired 1 times over 3 events") !=
        std::string::npos);
  CHECK(report.results[1].detail.find("step 3: condition true, fired") != std::string::npos);
  CHECK(report.results[2].passed);
}
