// SPDX-License-Identifier: Apache-2.0
// One Sigma document -> one RuleDef (see sigma.h).
#include <algorithm>
#include <set>

#include "engine/sigma/logsource.h"
#include "engine/sigma/sigma.h"
#include "engine/sigma/sigma_condition.h"
#include "engine/sigma/values.h"
#include "engine/yaml_text.h"

namespace vigil::sigma {
namespace {

using rules::FileText;
using rules::NodeLoc;
using rules::NodeSource;

// Why a rule did not become a vigil rule.
struct Problem {
  bool unsupported = false;
  std::string reason_class;
  std::string key;  // the Sigma key it is about: logsource, detection, condition, ...
  std::string message;
  SourceLoc loc;
};

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string Scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

class RuleTranslator {
 public:
  RuleTranslator(std::shared_ptr<const FileText> file, const YAML::Node& root, const rules::LoadOptions& opts)
      : file_(std::move(file)), root_(root), opts_(opts) {}

  // The rule, or the problem that stopped it (problem()).
  bool Translate(rules::RuleDef* out);
  const Problem& problem() const { return problem_; }

 private:
  bool Fail(const YAML::Node& at, std::string key, const ValueProblem& p) {
    problem_ = {p.unsupported, p.reason_class, std::move(key), p.message, NodeLoc(*file_, at)};
    return false;
  }
  bool Fail(const YAML::Node& at, std::string key, std::string message) {
    return Fail(at, std::move(key), ValueProblem{false, "", std::move(message)});
  }

  bool Search(const YAML::Node& node, std::string* out);
  bool SearchMap(const YAML::Node& map, std::string* out);
  bool FieldItem(const YAML::Node& key, const YAML::Node& value, bool syscall_named, std::string* out);
  bool Values(const YAML::Node& value, std::vector<SigmaValue>* out);
  bool Keywords(const YAML::Node& at, const Modifiers& mods, const std::vector<SigmaValue>& values, std::string* out);
  void Metadata(rules::RuleDef* r);

  std::shared_ptr<const FileText> file_;
  const YAML::Node& root_;
  const rules::LoadOptions& opts_;
  Logsource ls_;
  Problem problem_;
};

bool RuleTranslator::Values(const YAML::Node& value, std::vector<SigmaValue>* out) {
  if (value.IsNull()) {
    out->push_back({"", true});
    return true;
  }
  if (value.IsScalar()) {
    out->push_back({value.Scalar(), false});
    return true;
  }
  if (!value.IsSequence()) return Fail(value, "detection", "expected a value or a list of values");
  for (const auto& v : value) {
    if (v.IsNull()) out->push_back({"", true});
    else if (v.IsScalar()) out->push_back({v.Scalar(), false});
    else return Fail(v, "detection", "expected a value (a list item may not be a list or a map)");
  }
  if (out->empty()) return Fail(value, "detection", "expected at least one value");
  return true;
}

// Bare values are searched for in the command line (what a log line of a
// process event holds); other logsources have no text to search.
bool RuleTranslator::Keywords(const YAML::Node& at, const Modifiers& mods, const std::vector<SigmaValue>& values,
                              std::string* out) {
  if (!ls_.keywords)
    return Fail(at, "detection", ValueProblem{true, "keywords outside process events",
                                              "keywords (values without a field) search a log line; " + ls_.name +
                                                  " events have none"});
  Modifiers m = mods;
  if (!m.re && !m.startswith && !m.endswith && !m.exists) m.contains = true;
  if (m.base64offset) m.contains = true;
  TargetField f{"proc.argv", FieldType::kString};
  if (auto p = BuildFieldCheck(f, m, values, out)) return Fail(at, "detection", *p);
  return true;
}

bool RuleTranslator::FieldItem(const YAML::Node& key, const YAML::Node& value, bool syscall_named,
                               std::string* out) {
  std::string k = Scalar(key);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t bar = k.find('|', start);
    parts.push_back(k.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  std::string field = parts[0];
  Modifiers mods;
  if (auto p = ParseModifiers({parts.begin() + 1, parts.end()}, &mods)) return Fail(key, "detection", *p);
  std::vector<SigmaValue> values;
  if (!Values(value, &values)) return false;
  if (field.empty()) return Keywords(key, mods, values, out);
  std::optional<ValueProblem> special;
  if (SpecialFieldCheck(ls_, field, mods, values, syscall_named, out, &special)) return special ? Fail(key, "detection", *special) : true;
  TargetField target;
  if (auto p = MapField(ls_, field, opts_.sigma_fields, &target)) return Fail(key, "detection", *p);
  if (auto p = BuildFieldCheck(target, mods, values, out)) return Fail(value, "detection", *p);
  return true;
}

bool RuleTranslator::SearchMap(const YAML::Node& map, std::string* out) {
  std::vector<std::string> checks, fields;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) return Fail(kv.first, "detection", "expected a field name");
    fields.push_back(kv.first.Scalar().substr(0, kv.first.Scalar().find('|')));
  }
  bool syscall_named = std::find(fields.begin(), fields.end(), "SYSCALL") != fields.end();
  if (ls_.source == Source::kAuditd)
    if (std::string implied = AuditdImpliedEvents(fields); !implied.empty()) checks.push_back(implied);
  for (const auto& kv : map) {
    std::string c;
    if (!FieldItem(kv.first, kv.second, syscall_named, &c)) return false;
    checks.push_back(std::move(c));
  }
  if (checks.empty()) return Fail(map, "detection", "expected at least one field");
  *out = checks.size() == 1 ? checks[0] : "(";
  for (std::size_t i = 0; checks.size() > 1 && i < checks.size(); ++i) *out += (i ? " and " : "") + checks[i];
  if (checks.size() > 1) *out += ")";
  return true;
}

// A search identifier's value: a map (AND of fields), a list of maps (OR),
// or keywords (a value or a list of values: OR).
bool RuleTranslator::Search(const YAML::Node& node, std::string* out) {
  if (node.IsMap()) return SearchMap(node, out);
  bool maps = node.IsSequence() && node.size() > 0 && node[0].IsMap();
  if (!maps) {
    std::vector<SigmaValue> values;
    if (!Values(node, &values)) return false;
    return Keywords(node, Modifiers{}, values, out);
  }
  std::vector<std::string> alts;
  for (const auto& m : node) {
    if (!m.IsMap()) return Fail(m, "detection", "expected a map like the list's other items");
    alts.emplace_back();
    if (!SearchMap(m, &alts.back())) return false;
  }
  *out = alts.size() == 1 ? alts[0] : "(";
  for (std::size_t i = 0; alts.size() > 1 && i < alts.size(); ++i) *out += (i ? " or " : "") + alts[i];
  if (alts.size() > 1) *out += ")";
  return true;
}

bool RuleTranslator::Translate(rules::RuleDef* r) {
  r->loc = NodeLoc(*file_, root_);
  const YAML::Node title = root_["title"];
  if (!title || !title.IsScalar() || title.Scalar().empty()) return Fail(root_, "title", "expected a non-empty title");
  r->name = title.Scalar();
  if (root_["correlation"])
    return Fail(root_["correlation"], "correlation",
                ValueProblem{true, "correlation rule", "correlation rules (events counted over time) are not supported"});
  const YAML::Node ls = root_["logsource"];
  if (!ls) return Fail(root_, "logsource", "expected key 'logsource'");
  if (auto p = ResolveLogsource(ls, &ls_)) return Fail(ls, "logsource", *p);
  const YAML::Node det = root_["detection"];
  if (!det || !det.IsMap()) return Fail(det ? det : root_, "detection", "expected a map 'detection'");
  std::vector<std::pair<std::string, std::string>> idents;
  YAML::Node cond;
  bool has_cond = false;
  for (const auto& kv : det) {
    std::string name = Scalar(kv.first);
    if (name == "condition") {
      cond = kv.second;
      has_cond = true;
      continue;
    }
    if (name == "timeframe")
      return Fail(kv.first, "detection",
                  ValueProblem{true, "timeframe", "timeframe (matches counted over time) is not supported"});
    if (name.empty()) return Fail(kv.first, "detection", "expected a search identifier");
    idents.emplace_back(name, "");
    if (!Search(kv.second, &idents.back().second)) return false;
  }
  if (!has_cond) return Fail(det, "condition", "expected key 'condition' in detection");
  std::vector<YAML::Node> conds;
  if (cond.IsScalar()) conds.push_back(cond);
  else if (cond.IsSequence())
    for (const auto& c : cond) conds.push_back(c);
  if (conds.empty()) return Fail(cond, "condition", "expected a condition string (or a list of them)");
  std::string text;
  for (const auto& c : conds) {  // a list of conditions: any of them
    if (!c.IsScalar()) return Fail(c, "condition", "expected a condition string");
    auto res = TranslateCondition(c.Scalar(), idents);
    if (res.text.empty()) {
      auto src = NodeSource(file_, c);
      problem_ = {res.unsupported, res.unsupported ? "aggregation" : "", "condition", res.error,
                  src.Locate(res.error_offset)};
      return false;
    }
    text += (text.empty() ? "" : " or ") + (conds.size() > 1 ? "(" + res.text + ")" : res.text);
  }
  std::string full = ls_.base.empty() ? text : ls_.base + " and " + (conds.size() > 1 ? "(" + text + ")" : text);
  auto csrc = NodeSource(file_, conds.front());
  csrc.value = full;  // generated: errors in it are located at the Sigma condition
  r->condition_src.Append(&r->condition, "", csrc);
  std::string title_text;
  for (char c : r->name) title_text += c == '%' ? ' ' : c;  // '%' starts a field in an output template
  auto osrc = NodeSource(file_, title);
  osrc.value = title_text + " (" + ls_.output + ")";
  r->output_src.Append(&r->output, "", osrc);
  Metadata(r);
  return true;
}

Priority LevelPriority(const std::string& level, bool* known) {
  *known = true;
  if (level == "informational") return Priority::kInformational;
  if (level == "low") return Priority::kNotice;
  if (level == "medium") return Priority::kWarning;
  if (level == "high") return Priority::kError;
  if (level == "critical") return Priority::kCritical;
  *known = false;
  return Priority::kWarning;
}

// attack.t1059.004 -> T1059.004; attack.privilege-escalation -> mitre_privilege_escalation.
std::string MitreTag(const std::string& tag) {
  std::string t = Lower(tag);
  if (t.rfind("attack.", 0) != 0) return t;
  std::string rest = t.substr(7);
  if (rest.size() > 1 && rest[0] == 't' && rest[1] >= '0' && rest[1] <= '9') {
    rest[0] = 'T';
    return rest;
  }
  if (rest.size() > 1 && (rest[0] == 'g' || rest[0] == 's') && rest[1] >= '0' && rest[1] <= '9') {
    rest[0] = static_cast<char>(rest[0] - 'a' + 'A');  // groups and software: G0032, S0002
    return rest;
  }
  for (char& c : rest)
    if (c == '-') c = '_';
  return "mitre_" + rest;
}

void RuleTranslator::Metadata(rules::RuleDef* r) {
  std::string id = Scalar(root_["id"]);
  std::string status = Lower(Scalar(root_["status"]));
  std::string desc = Scalar(root_["description"]);
  while (!desc.empty() && (desc.back() == '\n' || desc.back() == ' ')) desc.pop_back();
  std::string fp;
  if (const auto& f = root_["falsepositives"]; f && f.IsSequence()) {
    for (const auto& x : f)
      if (x.IsScalar()) fp += (fp.empty() ? "" : "; ") + x.Scalar();
  } else if (f && f.IsScalar()) {
    fp = f.Scalar();
  }
  r->desc = desc;
  if (!fp.empty())
    r->desc += (r->desc.empty() ? "" : " ") + std::string("False positives: ") + fp + (fp.back() == '.' ? "" : ".");
  r->desc += std::string(r->desc.empty() ? "" : " ") + "(Sigma" + (id.empty() ? "" : " " + id) +
             (status.empty() ? "" : ", status " + status) + ")";
  bool known = true;
  std::string level = Lower(Scalar(root_["level"]));
  r->priority = LevelPriority(level, &known);
  r->tags.push_back("sigma");
  if (const auto& t = root_["tags"]; t && t.IsSequence())
    for (const auto& x : t)
      if (x.IsScalar()) r->tags.push_back(MitreTag(x.Scalar()));
  // Deprecated and unsupported rules stay loadable but off, as SigmaHQ ships them.
  r->enabled = status != "deprecated" && status != "unsupported";
  r->source = "syscall";
}

}  // namespace

bool IsSigmaDocument(const YAML::Node& root) {
  return root.IsMap() && (root["detection"] || root["logsource"] || root["correlation"]);
}

void LoadSigmaFile(const std::shared_ptr<const FileText>& file, const rules::LoadOptions& opts,
                   rules::RuleDocument* doc, Diagnostics* diags) {
  std::vector<YAML::Node> docs;
  try {
    docs = LoadAllDocuments(file->text);
  } catch (const YAML::Exception& e) {
    SourceLoc loc{file->path, static_cast<uint32_t>(e.mark.line + 1), static_cast<uint32_t>(e.mark.column + 1)};
    if (e.mark.is_null()) loc.line = loc.col = 0;
    diags->Error(loc, "", "", "", "invalid YAML: " + YamlErrorText(e));
    return;
  }
  std::set<std::string> names;
  for (const auto& r : doc->rules) names.insert(r.name);
  for (const auto& root : docs) {
    if (root.IsNull()) continue;
    if (!root.IsMap()) {
      diags->Error(NodeLoc(*file, root), "", "", "", "expected a Sigma rule (a map with title, logsource, detection)");
      continue;
    }
    ++doc->sigma_rules;
    std::string title = Scalar(root["title"]);
    if (root["action"]) {
      ++doc->sigma_unsupported;
      diags->Warning(NodeLoc(*file, root["action"]), "rule", title, "action",
                     "unsupported (rule collection): Sigma rule collections (action: global/reset/repeat) are not "
                     "read; write each rule whole; document skipped");
      continue;
    }
    rules::RuleDef r;
    RuleTranslator t(file, root, opts);
    if (!t.Translate(&r)) {
      const Problem& p = t.problem();
      if (p.unsupported) {
        ++doc->sigma_unsupported;
        diags->Warning(p.loc, "rule", title, p.key,
                       "unsupported (" + p.reason_class + "): " + p.message + "; rule skipped");
      } else {
        diags->Error(p.loc, "rule", title, p.key, p.message);
      }
      continue;
    }
    if (!names.insert(r.name).second) {
      // Sigma titles need not be unique; a Falco-style redefinition would drop one silently.
      std::string id = Scalar(root["id"]);
      std::string renamed = r.name + " [" + (id.empty() ? file->path : id.substr(0, 8)) + "]";
      diags->Warning(r.loc, "rule", r.name, "title", "another rule has this name; loaded as '" + renamed + "'");
      r.name = renamed;
      names.insert(r.name);
    }
    doc->rules.push_back(std::move(r));
  }
}

}  // namespace vigil::sigma
