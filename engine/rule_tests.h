// SPDX-License-Identifier: Apache-2.0
// Inline rule tests (`tests:` on a rule, a vigil extension): each case
// describes an event by field values and says whether the rule must match.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/rule_engine.h"

namespace vigil {

// Builds the event a test case describes. `evt.type` defaults to the first
// event type the rule can match. Returns an error message or "".
// `proc.is_host_{mnt,pid,net}_ns: true|false` sets the event's namespace to
// (or away from) `host`'s; `proc.is_vigil_self: true|false` sets its pid to
// (or away from) `host.sensor_pid` (an error when the engine has none).
std::string BuildTestEvent(const CompiledRule& rule, const rules::RuleTestCase& tc, const HostInfo& host,
                           Event* event, OwnedAncestors* ancestors);

// The fields a test case may name that have no setter because they compare
// the event with host facts (the ones BuildTestEvent handles itself).
bool IsHostFactTestField(std::string_view base);

struct RuleTestResult {
  std::string rule;
  std::string name;
  SourceLoc loc;
  bool passed = false;
  std::string detail;  // why it failed (with the explain trace)
};

struct RuleTestReport {
  std::vector<RuleTestResult> results;
  std::size_t passed = 0, failed = 0;
};

// Runs every case of every loaded rule (enabled or not).
RuleTestReport RunRuleTests(const RuleEngine& engine);

}  // namespace vigil
