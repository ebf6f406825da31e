// SPDX-License-Identifier: Apache-2.0
// Sigma rules -> vigil rules. A Sigma file (a YAML map with `logsource` and
// `detection`, possibly several `---` documents) is translated into the same
// RuleDef items a Falco-format file yields, so the compiler, the event-type
// index, outputs and `vigil rules test/validate/explain` treat both alike.
//
// Per rule: title -> name, level -> priority, tags attack.* -> MITRE tags,
// description/falsepositives/id/status -> desc, logsource -> the events
// (logsource.h), detection + condition -> condition text (values.h,
// sigma_condition.h). docs/sigma.md is the user's view of the mapping.
//
// Contract: never throws. A rule vigil cannot express is reported as a
// located warning "unsupported (<reason class>): ...; rule skipped" and
// counted in RuleDocument::sigma_unsupported, never dropped silently; a
// malformed rule is a located error. Both name the rule and its file:line:col.
#pragma once

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "engine/diagnostics.h"
#include "engine/rules/rules_file.h"

namespace vigil::sigma {

// True when `root` (a file's first YAML document) is a Sigma rule rather than
// a Falco-format list: a map with a `detection` or `logsource` key.
bool IsSigmaDocument(const YAML::Node& root);

// Translates every document of `file` into doc->rules.
void LoadSigmaFile(const std::shared_ptr<const rules::FileText>& file, const rules::LoadOptions& opts,
                   rules::RuleDocument* doc, Diagnostics* diags);

// The rules of `doc` as a Falco-format rules file (`vigil rules import-sigma`):
// loading it back yields the same names, conditions, outputs, priorities,
// tags and enabled flags. `header` lines are written first as comments.
std::string ExportRulesYaml(const rules::RuleDocument& doc, const std::string& header);

}  // namespace vigil::sigma
