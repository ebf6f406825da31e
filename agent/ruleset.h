// SPDX-License-Identifier: Apache-2.0
// What `vigil run` loads at start and on every SIGHUP: the configuration, the
// rules it names, and the enforcement policy compiled from the rules with
// action deny|kill; and how a loaded ruleset narrows what the kernel sends.
//
// Contract:
// - LoadAll() logs every diagnostic (config, rules, policy) as it goes and
//   never throws. It returns null when anything is in error: a ruleset with
//   one bad rule is refused whole, so a reload never half-applies.
// - SummariseErrors() bounds what an alert carries (the log has them all).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config.h"
#include "engine/policy/policy.h"
#include "engine/rule_engine.h"

namespace vigil::capture {
class Sensor;
}

namespace vigil::agent {

// `vigil run`'s command line.
struct RunOptions {
  std::string config;
  std::vector<std::string> rules;
  std::vector<std::string> overrides;
  bool dry_run = false;
};

struct Loaded {
  AgentConfig config;
  std::unique_ptr<RuleEngine> engine;
  policy::PolicySpec policy;  // the rules with action deny|kill, compiled for the kernel
};

// Null on any error; `problems` (when given) then says which (SummariseErrors).
std::unique_ptr<Loaded> LoadAll(const RunOptions& options, std::string* problems = nullptr);

// The first three errors, joined by "; ", stopping early past 800 characters;
// the rest counted ("; and 4 more").
std::string SummariseErrors(const std::vector<std::string>& errors);

// Starts resolving the DNS names `engine`'s rules compare fd.*ip.name with
// (engine/state/dns_cache.h) on their own thread, first taking over what
// `previous` (the ruleset a reload replaces, or null) knew of the same names;
// logs the names, and each name's first failure to resolve (a warning).
void StartDnsNames(const RuleEngine& engine, const RuleEngine* previous);

// Narrows what the kernel sends to what `engine`'s rules, the process table
// and vigil's own checks can use (engine/interest.h), and logs what is left
// out and why in one line.
void ApplyInterest(capture::Sensor* sensor, const RuleEngine& engine);

}  // namespace vigil::agent
