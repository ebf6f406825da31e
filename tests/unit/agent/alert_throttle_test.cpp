// SPDX-License-Identifier: Apache-2.0
// Alert throttling (issue 17: alert storms): a token bucket per (rule,
// executable), every suppressed alert counted in exactly one summary.
#include <catch2/catch.hpp>

#include "agent/alert_throttle.h"

using vigil::Alert;
using vigil::Priority;
using vigil::agent::AlertThrottle;
using vigil::agent::ThrottleOptions;
using namespace std::chrono_literals;

namespace {

Alert Make(const std::string& rule, const std::string& exe, Priority p = Priority::kWarning) {
  Alert a;
  a.rule = rule;
  a.priority = p;
  a.process.exepath = exe;
  return a;
}

uint64_t Suppressed(const Alert& a) {
  for (const auto& [k, v] : a.output_fields)
    if (k == "vigil.throttle.suppressed") return std::get<uint64_t>(v);
  FAIL("no vigil.throttle.suppressed");
  return 0;
}

}  // namespace

TEST_CASE("throttle: a burst passes, then the rate; the rest is summarised once per interval", "[unit]") {
  ThrottleOptions o;
  o.burst = 5;
  o.rate_per_s = 1;
  o.summary_interval = 10s;
  AlertThrottle t(o);
  const auto t0 = AlertThrottle::Clock::now();
  int passed = 0;
  for (int i = 0; i < 100; ++i) passed += t.Admit(Make("Storm", "/bin/x", Priority::kError), t0);
  CHECK(passed == 5);
  CHECK(t.suppressed_total() == 95);
  // Other rules and other programs have their own buckets.
  CHECK(t.Admit(Make("Other", "/bin/x"), t0));
  CHECK(t.Admit(Make("Storm", "/bin/y"), t0));
  auto first = t.Flush(t0);
  REQUIRE(first.size() == 1);
  CHECK(first[0].rule == "vigil alerts throttled");
  CHECK(first[0].priority == Priority::kError);  // the rule's own priority
  CHECK(Suppressed(first[0]) == 95);
  CHECK(first[0].output.find("rule 'Storm' fired 95 more times for /bin/x") != std::string::npos);
  // Three seconds later: three tokens back.
  passed = 0;
  for (int i = 0; i < 10; ++i) passed += t.Admit(Make("Storm", "/bin/x"), t0 + 3s);
  CHECK(passed == 3);
  CHECK(t.Flush(t0 + 3s).empty());  // within the summary interval
  auto second = t.Flush(t0 + 11s);
  REQUIRE(second.size() == 1);
  CHECK(Suppressed(second[0]) == 7);
  CHECK(t.Flush(t0 + 30s).empty());  // nothing pending
  CHECK(t.suppressed_total() == 102);
  CHECK(t.suppressed_by_rule().at("Storm") == 102);
}

TEST_CASE("throttle: enforced alerts and a disabled throttle always pass; exit flushes all", "[unit]") {
  ThrottleOptions o;
  o.burst = 1;
  AlertThrottle t(o);
  const auto t0 = AlertThrottle::Clock::now();
  Alert killed = Make("Kill it", "/bin/x");
  killed.enforcement = "kill";
  for (int i = 0; i < 10; ++i) CHECK(t.Admit(killed, t0));
  CHECK(t.Admit(Make("R", "/bin/x"), t0));
  CHECK_FALSE(t.Admit(Make("R", "/bin/x"), t0));
  CHECK(t.Flush(t0).size() == 1);
  CHECK_FALSE(t.Admit(Make("R", "/bin/x"), t0 + 1ms));
  auto at_exit = t.Flush(t0 + 2ms, /*all=*/true);
  REQUIRE(at_exit.size() == 1);
  CHECK(Suppressed(at_exit[0]) == 1);

  o.enabled = false;
  AlertThrottle off(o);
  for (int i = 0; i < 100; ++i) CHECK(off.Admit(Make("R", "/bin/x"), t0));
}

TEST_CASE("throttle: keys are bounded and an alert is never lost to the bound", "[unit]") {
  ThrottleOptions o;
  o.burst = 1;
  o.max_keys = 3;
  AlertThrottle t(o);
  const auto t0 = AlertThrottle::Clock::now();
  for (int i = 0; i < 3; ++i) {
    CHECK(t.Admit(Make("R", "/bin/" + std::to_string(i)), t0));
    CHECK_FALSE(t.Admit(Make("R", "/bin/" + std::to_string(i)), t0));  // all three keys have a pending count
  }
  CHECK(t.keys() == 3);
  CHECK(t.Admit(Make("R", "/bin/new"), t0));  // no key can be forgotten: not throttled
  CHECK(t.Admit(Make("R", "/bin/new"), t0));
  CHECK(t.keys() == 3);
  CHECK(t.Flush(t0).size() == 3);  // pending counts reported, keys now forgettable
  CHECK(t.Admit(Make("R", "/bin/new"), t0));
  CHECK_FALSE(t.Admit(Make("R", "/bin/new"), t0));  // tracked now
  CHECK(t.keys() == 3);
}
