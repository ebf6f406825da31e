// SPDX-License-Identifier: Apache-2.0
#include "engine/rule_tests.h"

namespace vigil {

bool IsHostFactTestField(std::string_view base) {
  return base == "proc.is_host_mnt_ns" || base == "proc.is_host_pid_ns" || base == "proc.is_host_net_ns" ||
         base == "proc.is_vigil_self";
}

std::string BuildTestEvent(const CompiledRule& rule, const rules::RuleTestCase& tc, const HostInfo& host,
                           Event* event, OwnedAncestors* ancestors) {
  event->Reset();
  ancestors->chain.clear();
  ancestors->peers = {};
  bool typed = false;
  for (const auto& [name, value] : tc.fields) typed = typed || name == "evt.type";
  if (!typed) {
    for (std::size_t t = 0; t < kEventTypeCount; ++t) {
      if (rule.types.test(t)) {
        event->type = static_cast<EventType>(t);
        break;
      }
    }
  }
  for (const auto& [name, value] : tc.fields) {
    auto bracket = name.find('[');
    std::string base = name.substr(0, bracket);
    std::string arg;
    if (bracket != std::string::npos) {
      auto close = name.find(']', bracket);
      arg = name.substr(bracket + 1, close == std::string::npos ? std::string::npos : close - bracket - 1);
    }
    if (IsHostFactTestField(base)) {
      if (value != "true" && value != "false") return "field '" + name + "': expected true or false";
      if (base == "proc.is_vigil_self") {
        if (host.sensor_pid == 0) return "field '" + name + "': this engine evaluates no live sensor's events";
        if (value == "true") {
          event->proc.pid = host.sensor_pid;
        } else if (event->proc.pid == host.sensor_pid) {
          event->proc.pid = host.sensor_pid + 1;
        }
        continue;
      }
      uint64_t* ns = base == "proc.is_host_mnt_ns"   ? &event->proc.ns.mnt
                     : base == "proc.is_host_pid_ns" ? &event->proc.ns.pid
                                                     : &event->proc.ns.net;
      uint64_t h = base == "proc.is_host_mnt_ns"   ? host.host_ns.mnt
                   : base == "proc.is_host_pid_ns" ? host.host_ns.pid
                                                   : host.host_ns.net;
      // A test engine without host facts still gets a definite answer.
      if (h == 0) h = 4026531840ull;
      *ns = value == "true" ? h : h + 1;
      continue;
    }
    const FieldDef* def = FindField(base);
    if (def == nullptr) return "unknown field '" + name + "'";
    if (def->set == nullptr) return "field '" + name + "' cannot be set in a test";
    FieldArg fa;
    std::string err = ParseFieldArg(*def, arg, bracket != std::string::npos, &fa);
    if (err.empty()) err = def->set(*event, *ancestors, fa, value);
    if (!err.empty()) return "field '" + name + "': " + err;
  }
  if (!ancestors->chain.empty() || ancestors->peers[0] || ancestors->peers[1]) event->ancestors = ancestors;
  return "";
}

namespace {

// Runs a `sequence:` case through a fresh correlation state: how many steps fired.
std::string RunSequence(const RuleEngine& engine, const CompiledRule& rule, const rules::RuleTestCase& tc,
                        Event* event, OwnedAncestors* ancestors, int* fired, std::string* trace) {
  engine.ResetCorrelation();
  *fired = 0;
  rules::RuleTestCase step_case;
  for (std::size_t i = 0; i < tc.sequence.size(); ++i) {
    step_case.fields = tc.fields;
    const auto& st = tc.sequence[i];
    step_case.fields.insert(step_case.fields.end(), st.fields.begin(), st.fields.end());
    std::string err = BuildTestEvent(rule, step_case, engine.host(), event, ancestors);
    if (!err.empty()) return "step " + std::to_string(i + 1) + ": " + err;
    const bool hit = engine.Fires(rule, *event);
    *fired += hit;
    *trace += "  step " + std::to_string(i + 1) + ": condition " + (engine.Matches(rule, *event) ? "true" : "false") +
              (hit ? ", fired" : "") + "\n";
  }
  engine.ResetCorrelation();
  return "";
}

}  // namespace

RuleTestReport RunRuleTests(const RuleEngine& engine) {
  RuleTestReport report;
  Event event;
  OwnedAncestors ancestors;
  for (const auto& rule : engine.rules()) {
    for (const auto& tc : rule->tests) {
      RuleTestResult r;
      r.rule = rule->name;
      r.name = tc.name;
      r.loc = tc.loc;
      if (!tc.sequence.empty()) {
        int fired = 0;
        std::string trace;
        std::string err = RunSequence(engine, *rule, tc, &event, &ancestors, &fired, &trace);
        if (!err.empty()) {
          r.detail = err;
        } else {
          r.passed = (fired > 0) == tc.expect_match && (tc.alerts < 0 || fired == tc.alerts);
          if (!r.passed)
            r.detail = std::string("expected ") + (tc.expect_match ? "match" : "no match") +
                       (tc.alerts >= 0 ? " with " + std::to_string(tc.alerts) + " alerts" : std::string()) +
                       ", the rule fired " + std::to_string(fired) + " times over " +
                       std::to_string(tc.sequence.size()) + " events\n" + trace;
        }
        (r.passed ? report.passed : report.failed)++;
        report.results.push_back(std::move(r));
        continue;
      }
      std::string err = BuildTestEvent(*rule, tc, engine.host(), &event, &ancestors);
      if (!err.empty()) {
        r.detail = err;
      } else {
        // A single event tests the condition (which events a correlation counts).
        bool matched = engine.Matches(*rule, event);
        r.passed = matched == tc.expect_match;
        if (!r.passed)
          r.detail = std::string("expected ") + (tc.expect_match ? "match" : "no match") + ", got " +
                     (matched ? "match" : "no match") + "\n" + engine.Explain(*rule, event);
      }
      (r.passed ? report.passed : report.failed)++;
      report.results.push_back(std::move(r));
    }
  }
  return report;
}

}  // namespace vigil
