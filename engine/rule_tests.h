// Inline rule tests (`tests:` on a rule, a vigil extension): each case
// describes an event by field values and says whether the rule must match.
#pragma once

#include <string>
#include <vector>

#include "engine/rule_engine.h"

namespace vigil {

// Builds the event a test case describes. `evt.type` defaults to the first
// event type the rule can match. Returns an error message or "".
// `proc.is_host_{mnt,pid,net}_ns: true|false` sets the event's namespace to
// (or away from) `host`'s.
std::string BuildTestEvent(const CompiledRule& rule, const rules::RuleTestCase& tc, const HostInfo& host,
                           Event* event, OwnedAncestors* ancestors);

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
