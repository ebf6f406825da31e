// SPDX-License-Identifier: Apache-2.0
// Rules files: YAML -> items (rule / macro / list / required_engine_version /
// required_plugin_versions), merged in load order with Falco's semantics:
// a later definition of a name replaces the earlier one, `append: true` and
// `override: {key: append|replace}` extend or replace keys, lists may contain
// lists, macros may use macros.
//
// Contract: LoadRulesFiles() never throws; every problem becomes a located
// Diagnostic; the returned RuleDocument holds whatever loaded cleanly.
// Files larger than kMaxRulesFileBytes are refused (bounded memory).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/alert.h"
#include "engine/diagnostics.h"
#include "engine/rules/source_map.h"

namespace vigil::rules {

inline constexpr std::size_t kMaxRulesFileBytes = 16u << 20;

struct ListDef {
  std::string name;
  std::vector<std::string> items;  // as written (names of other lists not yet expanded)
  SourceLoc loc;
};

struct MacroDef {
  std::string name;
  std::string condition;
  PiecedSource condition_src;
  SourceLoc loc;
};

// One exception: fields/comps and rows of values. In the single-field form
// (`fields: proc.name`, `comps: in`) each row has one cell.
struct ExceptionDef {
  std::string name;
  std::vector<std::string> fields;
  std::vector<std::string> comps;
  struct Cell {
    std::vector<std::string> items;  // one item for a scalar cell
    bool is_list = false;
  };
  std::vector<std::vector<Cell>> rows;
  bool single_form = false;  // `fields:` was a scalar
  SourceLoc loc;
};

// A `tests:` case: field values and whether the rule must match. With
// `sequence:` the case is several events (each step's fields over the
// `event:` fields), run in order through a fresh correlation state: `expect:
// match` then means some step fired, and `alerts: N` (optional) that exactly
// N steps did.
struct RuleTestCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> fields;  // field -> value text
  std::vector<SourceLoc> field_locs;
  struct Step {
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<SourceLoc> field_locs;
  };
  std::vector<Step> sequence;
  int alerts = -1;  // -1: not given
  bool expect_match = true;
  SourceLoc loc;
};

// vigil's `correlate:` key: the rule fires once when its condition matched
// events with `count` distinct values of `distinct` under one `by` key within
// `window` (engine/correlate.h).
inline constexpr uint32_t kMaxCorrelateCount = 64;
inline constexpr int64_t kMaxCorrelateWindowNs = int64_t{3600} * 1000000000;
inline constexpr std::size_t kMaxCorrelateKeys = 1000000;
struct CorrelateDef {
  std::vector<std::string> by;  // field names, as written (`proc.apid[2]`)
  std::vector<SourceLoc> by_locs;
  std::string distinct;
  SourceLoc distinct_loc;
  uint32_t count = 0;
  int64_t window_ns = 0;
  std::size_t max_keys = 4096;
  SourceLoc loc;
};

struct RuleDef {
  std::string name;
  std::string desc;
  std::string condition;
  PiecedSource condition_src;
  std::string output;
  PiecedSource output_src;
  Priority priority = Priority::kWarning;
  std::vector<std::string> tags;
  bool enabled = true;
  std::vector<ExceptionDef> exceptions;
  std::string source = "syscall";
  bool warn_evttypes = true;
  bool skip_if_unknown_filter = false;
  std::string action = "alert";  // vigil: alert | deny | kill
  std::vector<RuleTestCase> tests;
  std::optional<CorrelateDef> correlate;
  SourceLoc loc;
};

struct PluginRequirement {
  std::string name;
  std::string version;
  SourceLoc loc;
};

struct RuleDocument {
  std::vector<std::string> files;  // in load order
  std::size_t sigma_rules = 0;        // Sigma rules read (engine/sigma)
  std::size_t sigma_unsupported = 0;  // ... of which vigil cannot express (each reported by a warning)
  std::vector<std::string> required_engine_versions;
  std::vector<PluginRequirement> required_plugins;
  std::vector<ListDef> lists;    // final definitions, first-definition order
  std::vector<MacroDef> macros;
  std::vector<RuleDef> rules;
};

// How files are read. sigma_fields: Sigma field name -> vigil field, over
// the built-in table (the agent config's sigma.fields).
struct LoadOptions {
  std::map<std::string, std::string> sigma_fields;
};

// Expands paths: a directory contributes its regular *.yaml / *.yml files
// (sorted, not recursive); a file is taken as given. Missing paths are errors.
// Directories without rules files are warned about only when no path gave
// any file at all (an empty drop-in directory beside the packaged rules is
// normal).
std::vector<std::string> ExpandRulesPaths(const std::vector<std::string>& paths, Diagnostics* diags);

// Loads files in order into one document. A file whose YAML is a map with
// `detection`/`logsource` is a Sigma rule file (engine/sigma), else Falco's format.
RuleDocument LoadRulesFiles(const std::vector<std::string>& files, Diagnostics* diags, const LoadOptions& opts = {});
// Loads one in-memory text (tests, fuzzing) as if it were a file named `name`.
void LoadRulesText(const std::string& name, std::string text, RuleDocument* doc, Diagnostics* diags,
                   const LoadOptions& opts = {});

}  // namespace vigil::rules
