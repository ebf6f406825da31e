// SPDX-License-Identifier: Apache-2.0
// RefusalCorrelator: the kernel's refusals matched with the alerts that show
// them, and the ones no alert claims turned into alerts of their own.
#include <catch2/catch.hpp>

#include <cstring>

#include "agent/refusal_correlator.h"

using vigil::Alert;
using vigil::Diagnostics;
using vigil::Priority;
using vigil::RuleEngine;
using vigil::agent::RefusalCorrelator;
using vigil::enforce::Refusal;

namespace {

Refusal MakeRefusal(uint32_t tid, const char* rule, const char* action, uint32_t rule_id = 0) {
  Refusal r;
  r.pid = tid;
  r.tid = tid;
  r.hook = vigil::policy::HookClass::kExec;
  r.rule_id = rule_id;
  r.rule = rule;
  r.action = action;
  std::strncpy(r.comm, "nc", sizeof r.comm - 1);
  return r;
}

std::unique_ptr<RuleEngine> Engine() {
  Diagnostics d;
  auto e = RuleEngine::LoadTexts({{"r.yaml", R"Y(
- rule: No netcat
  desc: d
  condition: evt.type = execve and proc.name = nc
  output: "nc run (proc.pid=%proc.pid)"
  priority: WARNING
  tags: [t1, network]
  action: kill
)Y"}},
                                 &d);
  INFO(d.ToString());
  REQUIRE(e != nullptr);
  return e;
}

}  // namespace

TEST_CASE("A rule alert on the refused thread claims the refusal once", "[unit]") {
  RefusalCorrelator c;
  CHECK(c.ClaimForRule(42).empty());
  c.OnRefusal(MakeRefusal(42, "No netcat", "kill"));
  CHECK(c.ClaimForRule(7).empty());  // another thread
  CHECK(c.ClaimForRule(42) == "kill");
  CHECK(c.ClaimForRule(42).empty());  // consumed
  auto engine = Engine();
  CHECK(c.Expire(*engine).empty());
  CHECK(c.Expire(*engine).empty());
}

TEST_CASE("A refusal no alert claims for a whole round becomes its own alert", "[unit]") {
  auto engine = Engine();
  struct Case {
    const char* rule;
    uint32_t rule_id;
    Priority priority;
    const char* action;
    std::vector<std::string> tags;
  };
  const Case cases[] = {
      // Named in the ruleset: its priority, tags and action.
      {"No netcat", 3, Priority::kWarning, "kill", {"t1", "network"}},
      // Gone from the ruleset (a reload between refusal and expiry): Critical, the defaults.
      {"Removed rule", 4, Priority::kCritical, "alert", {"vigil"}},
      // The built-in self-protection asks for deny.
      {"vigil self-protection", vigil::enforce::kSelfProtectionRuleId, Priority::kCritical, "deny", {"vigil"}},
  };
  for (const auto& k : cases) {
    INFO(k.rule);
    RefusalCorrelator c;
    c.OnRefusal(MakeRefusal(42, k.rule, "kill", k.rule_id));
    CHECK(c.Expire(*engine).empty());  // the round it came in
    auto alerts = c.Expire(*engine);
    REQUIRE(alerts.size() == 1);
    const Alert& a = alerts[0];
    CHECK(a.rule == k.rule);
    CHECK(a.priority == k.priority);
    CHECK(a.action == k.action);
    CHECK(a.tags == k.tags);
    CHECK(a.enforcement == "kill");
    CHECK(a.source == "syscall");
    CHECK(a.process.pid == 42);
    CHECK(a.process.name == "nc");
    CHECK(a.output == std::string("vigil kill exec by pid 42 (nc): rule '") + k.rule + "' matched in the kernel");
    CHECK(c.pending() == 0);
    CHECK(c.ClaimForRule(42).empty());
  }
}

TEST_CASE("Self-protection: the built-in alert and the kernel's record alert once together", "[unit]") {
  auto engine = Engine();
  const uint32_t self_id = vigil::enforce::kSelfProtectionRuleId;
  SECTION("record first: the alert takes its action") {
    RefusalCorrelator c;
    c.OnRefusal(MakeRefusal(9, "vigil self-protection", "deny", self_id));
    CHECK(c.ClaimForSelfProtection(9, false) == "deny");
    CHECK(c.pending() == 0);
  }
  SECTION("a rule's refusal on that thread is not the self-protection one") {
    RefusalCorrelator c;
    c.OnRefusal(MakeRefusal(9, "No netcat", "kill", 3));
    CHECK(c.ClaimForSelfProtection(9, false).empty());
    CHECK(c.ClaimForRule(9) == "kill");
  }
  SECTION("EPERM under BPF LSM first: the record that follows is dropped") {
    RefusalCorrelator c;
    CHECK(c.ClaimForSelfProtection(9, true) == "deny");
    c.OnRefusal(MakeRefusal(9, "vigil self-protection", "deny", self_id));
    CHECK(c.pending() == 0);
    CHECK(c.Expire(*engine).empty());
    CHECK(c.Expire(*engine).empty());
  }
  SECTION("not refused: nothing is remembered, the record alerts on its own") {
    RefusalCorrelator c;
    CHECK(c.ClaimForSelfProtection(9, false).empty());
    c.OnRefusal(MakeRefusal(9, "vigil self-protection", "deny", self_id));
    c.Expire(*engine);
    CHECK(c.Expire(*engine).size() == 1);
  }
  SECTION("a covered thread is forgotten after kCoveredRounds rounds") {
    RefusalCorrelator c;
    CHECK(c.ClaimForSelfProtection(9, true) == "deny");
    for (int i = 0; i <= RefusalCorrelator::kCoveredRounds; ++i) CHECK(c.Expire(*engine).empty());
    c.OnRefusal(MakeRefusal(9, "vigil self-protection", "deny", self_id));
    CHECK(c.pending() == 1);
  }
}

TEST_CASE("A refusal flood is bounded: past kMaxPending the waiting ones are given up", "[unit]") {
  RefusalCorrelator c;
  for (uint32_t tid = 1; tid <= RefusalCorrelator::kMaxPending; ++tid) c.OnRefusal(MakeRefusal(tid, "No netcat", "kill"));
  CHECK(c.pending() == RefusalCorrelator::kMaxPending);
  c.OnRefusal(MakeRefusal(100000, "No netcat", "kill"));
  CHECK(c.pending() == 1);
  CHECK(c.ClaimForRule(100000) == "kill");
}
