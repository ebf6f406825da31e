// SPDX-License-Identifier: Apache-2.0
// The rules engine facade: load rules files, compile them once, evaluate
// events, build alerts.
//
// Contract:
// - Load() reads and compiles everything; it reports every problem to
//   `diags` (errors and warnings, located) and keeps the rules that compiled.
//   Callers that must refuse a bad ruleset check diags->HasErrors().
// - Match() is the hot path: it does not throw, allocate (beyond `fired`
//   growing to the largest number of rules one event fires, and the keys of
//   rules with `correlate:`) or look names up. It evaluates only the enabled
//   rules that can match the event's type, each as a program specialised for
//   that type with the subtrees rules share evaluated once per event
//   (engine/compile/program.h), and reports every rule that fires (not just
//   the first), in rule order. A rule with `correlate:` fires only on the event
//   that completes a burst (engine/correlate.h); its state lives in the
//   engine and is dropped with it (a reload starts afresh).
// - One RuleEngine is evaluated by one thread at a time (compiled checks own
//   scratch buffers). Alerts are built only for rules that fired.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/alert.h"
#include "engine/compile/checks.h"
#include "engine/compile/compiler.h"
#include "engine/compile/output_template.h"
#include "engine/compile/program.h"
#include "engine/correlate.h"
#include "engine/diagnostics.h"
#include "engine/fields/field_table.h"
#include "engine/rules/rules_file.h"

namespace vigil {

struct CompiledRule {
  CompiledRule() = default;
  // The rule's identity (name, text, place, tests) from its definition;
  // nothing compiled yet.
  explicit CompiledRule(const rules::RuleDef& def);

  std::string name;
  std::string desc;
  Priority priority = Priority::kWarning;
  std::vector<std::string> tags;
  std::string source;
  std::string action;
  bool enabled = true;
  SourceLoc loc;
  std::string condition;  // after appends, for `rules list` / explain
  // The condition parsed once at load (macros are references into
  // RuleEngine::macros(), lists not expanded): the kernel policy compiler
  // (engine/policy) walks this tree rather than parsing the text again.
  std::unique_ptr<condition::Node> condition_ast;
  std::unique_ptr<compile::Check> check;      // condition and not exceptions
  const compile::Check* condition_check = nullptr;   // explain: the condition part of `check`
  const compile::Check* exceptions_check = nullptr;  // explain: the exceptions part; null when none
  compile::OutputTemplate output;
  compile::EventTypeSet types;
  std::set<std::string> na_fields;  // fields referenced (condition or output) that are <NA> here
  std::set<std::string> na_condition_fields;  // the subset used by the condition/exceptions
  // The condition, exceptions, output or correlation reads proc.env (or
  // proc.aenv, proc.env_truncated): the capture copies environments at exec
  // while such a rule is enabled (engine/interest.h).
  bool needs_env = false;
  // The same for evt.buffer: the capture copies the send/recv family's payload.
  bool needs_buffer = false;
  // Non-empty when the rule can never fire in vigil, whatever the event: why
  // ("'fd.name_changed' is always <NA> in vigil; evt.type recvfrom is never
  // captured by vigil"). Load warns about each enabled such rule.
  std::string never_fires;
  std::vector<rules::RuleTestCase> tests;
  // `correlate:` (null when the rule has none): the key and value fields and
  // the burst state. The state is changed through a const rule by Match():
  // one engine is evaluated by one thread.
  struct Correlation {
    std::vector<std::unique_ptr<compile::FieldAccessor>> by;
    std::unique_ptr<compile::FieldAccessor> distinct;
    std::unique_ptr<Correlator> state;
    uint32_t count = 0;
    int64_t window_ns = 0;
  };
  std::unique_ptr<Correlation> correlate;
};

// Correlation state of one rule with `correlate:`, for metrics.
struct CorrelationStats {
  std::string rule;
  std::size_t keys = 0;
  uint64_t evicted_expired = 0, evicted_pressure = 0;
};

struct EngineStats {
  std::size_t rules_defined = 0;   // rule items after merging
  std::size_t rules_loaded = 0;    // compiled without error
  std::size_t rules_enabled = 0;   // loaded and enabled (evaluated per event)
  std::size_t rules_with_na = 0;   // loaded rules referencing fields that are <NA> here
  std::size_t rules_with_na_condition = 0;  // ... in their condition (not only the output)
  std::size_t rules_never_fire = 0;  // enabled rules that can never fire here (CompiledRule::never_fires)
  std::size_t rules_skipped = 0;   // other sources, skip-if-unknown-filter, unsupported Sigma rules
  std::size_t sigma_rules = 0;     // Sigma rules read
  std::size_t sigma_unsupported = 0;  // ... that vigil cannot express (in rules_skipped; each has a warning)
  std::size_t macros = 0, lists = 0;
};

// What every alert about an event carries, from the event: its type and
// result, the acting process (with parent and exec id), container, file path
// and network endpoints. MakeAlert uses it; so do vigil's built-in alerts.
void FillAlertContext(const Event& event, Alert* alert);

class RuleEngine {
 public:
  // `paths`: files and directories, in order (see rules::ExpandRulesPaths).
  static std::unique_ptr<RuleEngine> Load(const std::vector<std::string>& paths, Diagnostics* diags,
                                          HostInfo host = HostInfo::FromSystem(),
                                          const rules::LoadOptions& opts = {});
  // In-memory files (name, text), for tests and fuzzing.
  static std::unique_ptr<RuleEngine> LoadTexts(const std::vector<std::pair<std::string, std::string>>& files,
                                               Diagnostics* diags, HostInfo host = HostInfo{},
                                               const rules::LoadOptions& opts = {});
  static std::unique_ptr<RuleEngine> FromDocument(rules::RuleDocument doc, Diagnostics* diags, HostInfo host);

  // Appends every enabled rule that matches `event` to *fired (cleared first).
  void Match(const Event& event, std::vector<const CompiledRule*>* fired) const;
  // Evaluates one rule's condition regardless of its event-type index or
  // enabled flag (no correlation: explain and single-event tests).
  bool Matches(const CompiledRule& rule, const Event& event) const;
  // Matches(), then for a rule with `correlate:` whether this event completes
  // a burst (updating the rule's state). What Match() does per rule.
  bool Fires(const CompiledRule& rule, const Event& event) const;
  // Forgets every rule's correlation state (inline tests, replays of
  // separate streams through one engine).
  void ResetCorrelation() const;
  std::vector<CorrelationStats> correlation_stats() const;
  Alert MakeAlert(const CompiledRule& rule, const Event& event) const;
  // Which sub-conditions were true or false for `event`, one per line.
  std::string Explain(const CompiledRule& rule, const Event& event) const;

  const std::vector<std::unique_ptr<CompiledRule>>& rules() const { return rules_; }
  const CompiledRule* FindRule(std::string_view name) const;
  const EngineStats& stats() const { return stats_; }
  const compile::Program& program() const { return program_; }
  const rules::RuleDocument& document() const { return doc_; }
  // The macros parsed and the lists resolved once at load, for every
  // compiler of these rules (the enforcement policy compiler reads them too).
  const std::map<std::string, compile::MacroEntry>& macros() const { return macros_; }
  const std::map<std::string, compile::ListEntry>& lists() const { return lists_; }
  const HostInfo& host() const { return host_; }

 private:
  RuleEngine() = default;
  bool Correlate(const CompiledRule& rule, const FieldContext& ctx) const;
  HostInfo host_;
  rules::RuleDocument doc_;
  std::map<std::string, compile::MacroEntry> macros_;  // locate into doc_
  std::map<std::string, compile::ListEntry> lists_;
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  // Per event type, the enabled rules that can match it, as programs (engine/compile/program.h).
  compile::Program program_;
  EngineStats stats_;
  mutable uint64_t event_num_ = 0;
  mutable std::vector<FieldCacheSlot> cache_;
  mutable std::string correlate_key_, correlate_value_;  // scratch, reused  // one slot per distinct field; see FieldCacheSlot
};

}  // namespace vigil
