// SPDX-License-Identifier: Apache-2.0
// `- rule:` items: new rules, append/override of earlier ones, enable-only
// items, exceptions and vigil's `action:` / `tests:` keys.
#include <yaml-cpp/yaml.h>

#include <set>
#include <unordered_map>

#include "engine/rules/rules_file.h"

namespace vigil::rules {
namespace {

const std::set<std::string> kRuleKeys = {"rule", "desc", "condition", "output", "priority", "tags", "enabled",
                                         "exceptions", "source", "warn_evttypes", "skip-if-unknown-filter",
                                         "append", "override", "action", "tests", "required_engine_version",
                                         "correlate"};
const std::set<std::string> kAppendable = {"condition", "output", "desc", "tags", "exceptions"};
const std::set<std::string> kReplaceable = {"condition", "output", "desc", "priority", "tags", "exceptions",
                                            "enabled", "warn_evttypes", "skip-if-unknown-filter", "action",
                                            "tests", "source", "correlate"};
const std::set<std::string> kComps = {"=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains",
                                      "startswith", "bstartswith", "endswith", "glob", "iglob", "regex", "in",
                                      "intersects", "pmatch"};

class RuleLoader {
 public:
  RuleLoader(const std::shared_ptr<const FileText>& file, Diagnostics* d) : file_(file), d_(d) {}

  SourceLoc Loc(const YAML::Node& n) const { return NodeLoc(*file_, n); }
  ScalarSource Src(const YAML::Node& n) const { return NodeSource(file_, n); }
  bool Error(const YAML::Node& at, const std::string& key, std::string msg) {
    d_->Error(Loc(at), "rule", name_, key, std::move(msg));
    return false;
  }

  bool Str(const YAML::Node& n, const std::string& key, std::string* out) {
    if (!n.IsScalar()) return Error(n, key, "expected a string");
    *out = n.Scalar();
    return true;
  }
  bool Bool(const YAML::Node& n, const std::string& key, bool* out) {
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "true" || s == "True" || s == "yes") return *out = true, true;
    if (s == "false" || s == "False" || s == "no") return *out = false, true;
    return Error(n, key, "expected true or false");
  }
  bool StrList(const YAML::Node& n, const std::string& key, std::vector<std::string>* out) {
    if (n.IsNull()) return true;
    if (!n.IsSequence()) return Error(n, key, "expected a list of strings");
    for (const auto& i : n) {
      if (!i.IsScalar()) return Error(i, key, "expected a string item");
      out->push_back(i.Scalar());
    }
    return true;
  }
  // Reads the keys present in `item` into `r` (only those in `keys`).
  bool ReadKeys(const YAML::Node& item, const std::set<std::string>& keys, RuleDef* r);
  bool Exceptions(const YAML::Node& n, std::vector<ExceptionDef>* out);
  bool ExceptionShape(const YAML::Node& e, ExceptionDef* x);  // fields and comps
  bool ExceptionRow(const YAML::Node& row, const ExceptionDef& x, std::vector<ExceptionDef::Cell>* cells);
  bool Tests(const YAML::Node& n, std::vector<RuleTestCase>* out);
  bool TestFields(const YAML::Node& ev, bool skip_case_keys, std::vector<std::pair<std::string, std::string>>* fields,
                  std::vector<SourceLoc>* locs);
  bool Correlate(const YAML::Node& n, std::optional<CorrelateDef>* out);

  std::shared_ptr<const FileText> file_;
  Diagnostics* d_;
  std::string name_;
};

bool RuleLoader::ReadKeys(const YAML::Node& item, const std::set<std::string>& keys, RuleDef* r) {
  bool ok = true;
  for (const auto& kv : item) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (!keys.count(key)) continue;
    if (key == "desc") ok &= Str(v, key, &r->desc);
    else if (key == "condition") {
      if (!v.IsScalar()) ok = Error(v, key, "expected a string");
      else r->condition_src.Append(&r->condition, "", Src(v));
    } else if (key == "output") {
      if (!v.IsScalar()) ok = Error(v, key, "expected a string");
      else r->output_src.Append(&r->output, "", Src(v));
    } else if (key == "priority") {
      std::string p;
      if (!Str(v, key, &p)) ok = false;
      else if (!ParsePriority(p, &r->priority))
        ok = Error(v, key, "expected one of emergency, alert, critical, error, warning, notice, informational, "
                           "debug; got '" + p + "'");
    } else if (key == "tags") ok &= StrList(v, key, &r->tags);
    else if (key == "enabled") ok &= Bool(v, key, &r->enabled);
    else if (key == "exceptions") ok &= Exceptions(v, &r->exceptions);
    else if (key == "source") ok &= Str(v, key, &r->source);
    else if (key == "warn_evttypes") ok &= Bool(v, key, &r->warn_evttypes);
    else if (key == "skip-if-unknown-filter") ok &= Bool(v, key, &r->skip_if_unknown_filter);
    else if (key == "action") {
      if (Str(v, key, &r->action) && r->action != "alert" && r->action != "deny" && r->action != "kill")
        ok = Error(v, key, "expected alert, deny or kill; got '" + r->action + "'");
    } else if (key == "tests") ok &= Tests(v, &r->tests);
    else if (key == "correlate") ok &= Correlate(v, &r->correlate);
  }
  return ok;
}

// An exception's `fields` (a list, or one field: Falco's single form) and
// `comps` (default `=` per field, `in` for the single form), checked.
bool RuleLoader::ExceptionShape(const YAML::Node& e, ExceptionDef* x) {
  const auto& fields = e["fields"];
  if (fields) {
    if (fields.IsScalar()) {
      x->single_form = true;
      x->fields.push_back(fields.Scalar());
    } else if (!StrList(fields, "exceptions", &x->fields)) {
      return false;
    }
  }
  const auto& comps = e["comps"];
  if (comps) {
    if (comps.IsScalar()) x->comps.push_back(comps.Scalar());
    else if (!StrList(comps, "exceptions", &x->comps)) return false;
  }
  if (x->fields.empty()) return true;
  if (x->comps.empty()) x->comps.assign(x->fields.size(), x->single_form ? "in" : "=");
  if (x->comps.size() != x->fields.size())
    return Error(comps, "exceptions", "exception '" + x->name + "': " + std::to_string(x->fields.size()) +
                                          " fields but " + std::to_string(x->comps.size()) + " comps");
  bool ok = true;
  for (const auto& c : x->comps)
    if (!kComps.count(c)) ok = Error(comps, "exceptions", "exception '" + x->name + "': unknown comparison '" + c + "'");
  return ok;
}

// One row of `values`: a value (single form), or a list with one value or
// list of values per field. Every problem of the row is reported.
bool RuleLoader::ExceptionRow(const YAML::Node& row, const ExceptionDef& x, std::vector<ExceptionDef::Cell>* cells) {
  const std::string who = "exception '" + x.name + "': ";
  if (x.single_form || row.IsScalar()) {
    if (!row.IsScalar()) return Error(row, "exceptions", who + "expected a value");
    cells->push_back({{row.Scalar()}, false});
    return true;
  }
  if (!row.IsSequence()) return Error(row, "exceptions", who + "expected a list of values per row");
  bool ok = true;
  for (const auto& cell : row) {
    if (cell.IsScalar()) {
      cells->push_back({{cell.Scalar()}, false});
    } else if (cell.IsSequence()) {
      ExceptionDef::Cell c;
      c.is_list = true;
      for (const auto& i : cell) {
        if (i.IsScalar()) c.items.push_back(i.Scalar());
        else ok = Error(i, "exceptions", who + "expected a value");
      }
      cells->push_back(std::move(c));
    } else {
      ok = Error(cell, "exceptions", who + "expected a value or a list");
    }
  }
  if (!x.fields.empty() && cells->size() != x.fields.size())
    return Error(row, "exceptions", who + "a row has " + std::to_string(cells->size()) + " values for " +
                                        std::to_string(x.fields.size()) + " fields");
  return ok;
}

bool RuleLoader::Exceptions(const YAML::Node& n, std::vector<ExceptionDef>* out) {
  if (n.IsNull()) return true;
  if (!n.IsSequence()) return Error(n, "exceptions", "expected a list of exceptions");
  bool ok = true;
  std::set<std::string> names;
  for (const auto& e : n) {
    if (!e.IsMap()) {
      ok = Error(e, "exceptions", "expected an exception map {name, fields, comps, values}");
      continue;
    }
    ExceptionDef x;
    x.loc = Loc(e);
    if (!e["name"] || !e["name"].IsScalar() || e["name"].Scalar().empty()) {
      ok = Error(e, "exceptions", "expected key 'name'");
      continue;
    }
    x.name = e["name"].Scalar();
    if (!names.insert(x.name).second) {
      ok = Error(e, "exceptions", "duplicate exception name '" + x.name + "'");
      continue;
    }
    if (!ExceptionShape(e, &x)) {
      ok = false;
      continue;
    }
    const auto& values = e["values"];
    if (values && !values.IsNull()) {
      if (!values.IsSequence()) {
        ok = Error(values, "exceptions", "exception '" + x.name + "': expected a list of values");
        continue;
      }
      bool rows_ok = true;
      for (const auto& row : values) {
        std::vector<ExceptionDef::Cell> cells;
        if (ExceptionRow(row, x, &cells)) x.rows.push_back(std::move(cells));
        else rows_ok = false;
      }
      if (!rows_ok) {
        ok = false;
        continue;
      }
    }
    out->push_back(std::move(x));
  }
  return ok;
}

bool RuleLoader::Tests(const YAML::Node& n, std::vector<RuleTestCase>* out) {
  if (!n.IsSequence()) return Error(n, "tests", "expected a list of test cases");
  bool ok = true;
  int index = 0;
  for (const auto& t : n) {
    ++index;
    if (!t.IsMap()) {
      ok = Error(t, "tests", "expected a test case map {event: {...}, expect: match|no_match}");
      continue;
    }
    RuleTestCase c;
    c.loc = Loc(t);
    c.name = t["name"] && t["name"].IsScalar() ? t["name"].Scalar() : "case " + std::to_string(index);
    const auto& expect = t["expect"];
    std::string e = expect && expect.IsScalar() ? expect.Scalar() : "";
    if (e == "match") c.expect_match = true;
    else if (e == "no_match") c.expect_match = false;
    else {
      ok = Error(expect ? expect : t, "tests", "expected 'expect: match' or 'expect: no_match'");
      continue;
    }
    const bool has_event = static_cast<bool>(t["event"]);
    const YAML::Node& ev = has_event ? t["event"] : t;
    if (!ev.IsMap()) {
      ok = Error(ev, "tests", "expected 'event:' to be a map of field: value");
      continue;
    }
    if (!TestFields(ev, !has_event, &c.fields, &c.field_locs)) {
      ok = false;
      continue;
    }
    if (const auto& seq = t["sequence"]) {
      if (!seq.IsSequence() || seq.size() == 0) {
        ok = Error(seq, "tests", "'sequence:' expects a non-empty list of events (maps of field: value)");
        continue;
      }
      bool bad = false;
      for (const auto& step : seq) {
        RuleTestCase::Step st;
        if (!step.IsMap()) bad = !Error(step, "tests", "a sequence step must be a map of field: value");
        else if (!TestFields(step, false, &st.fields, &st.field_locs)) bad = true;
        c.sequence.push_back(std::move(st));
      }
      if (bad) {
        ok = false;
        continue;
      }
    }
    if (const auto& al = t["alerts"]) {
      int n = -1;
      if (al.IsScalar()) {
        try {
          n = std::stoi(al.Scalar());
        } catch (...) {
        }
      }
      if (n < 0 || c.sequence.empty() || n > static_cast<int>(c.sequence.size())) {
        ok = Error(al, "tests", c.sequence.empty() ? "'alerts:' needs a 'sequence:'"
                                                   : "'alerts:' expects a number from 0 to the sequence's length");
        continue;
      }
      c.alerts = n;
    }
    out->push_back(std::move(c));
  }
  return ok;
}

bool RuleLoader::TestFields(const YAML::Node& ev, bool skip_case_keys,
                            std::vector<std::pair<std::string, std::string>>* fields, std::vector<SourceLoc>* locs) {
  bool ok = true;
  for (const auto& kv : ev) {
    std::string k = kv.first.Scalar();
    if (skip_case_keys && (k == "name" || k == "expect" || k == "sequence" || k == "alerts")) continue;
    std::string value;
    if (kv.second.IsScalar()) {
      value = kv.second.Scalar();
    } else if (kv.second.IsSequence()) {
      for (const auto& i : kv.second) value += (value.empty() ? "" : " ") + (i.IsScalar() ? i.Scalar() : "");
    } else {
      ok = Error(kv.second, "tests", "field '" + k + "': expected a value");
      continue;
    }
    fields->emplace_back(k, value);
    locs->push_back(Loc(kv.first));
  }
  return ok;
}

// "60s", "500ms", "2m", "1h" -> ns; false when not a positive duration.
bool ParseDuration(const std::string& s, int64_t* ns) {
  std::size_t i = 0;
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < kMaxCorrelateWindowNs) v = v * 10 + (s[i++] - '0');
  if (i == 0) return false;
  const std::string unit = s.substr(i);
  int64_t mul = 0;
  if (unit == "ms") mul = 1000000;
  else if (unit == "s") mul = 1000000000;
  else if (unit == "m") mul = int64_t{60} * 1000000000;
  else if (unit == "h") mul = int64_t{3600} * 1000000000;
  else return false;
  if (v <= 0 || v > kMaxCorrelateWindowNs / mul) return false;
  *ns = v * mul;
  return true;
}

bool RuleLoader::Correlate(const YAML::Node& n, std::optional<CorrelateDef>* out) {
  if (!n.IsMap())
    return Error(n, "correlate", "expected a map {by: FIELD or [FIELDS], distinct: FIELD, count: N, window: DURATION}");
  CorrelateDef c;
  c.loc = Loc(n);
  bool ok = true;
  for (const auto& kv : n) {
    const std::string k = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (k == "by") {
      if (v.IsScalar()) {
        c.by.push_back(v.Scalar());
        c.by_locs.push_back(Loc(v));
      } else if (v.IsSequence() && v.size() > 0 && v.size() <= 8) {
        for (const auto& f : v) {
          if (!f.IsScalar()) ok = Error(f, "correlate", "by: expected a field name");
          else c.by.push_back(f.Scalar()), c.by_locs.push_back(Loc(f));
        }
      } else {
        ok = Error(v, "correlate", "by: expected a field or a list of 1 to 8 fields");
      }
    } else if (k == "distinct") {
      if (!v.IsScalar()) ok = Error(v, "correlate", "distinct: expected a field name");
      else c.distinct = v.Scalar(), c.distinct_loc = Loc(v);
    } else if (k == "count" || k == "max_keys") {
      const uint64_t hi = k == "count" ? kMaxCorrelateCount : kMaxCorrelateKeys;
      const uint64_t lo = k == "count" ? 2 : 1;
      uint64_t x = 0;
      const std::string t = v.IsScalar() ? v.Scalar() : "";
      bool num = !t.empty() && t.size() <= 9 && t.find_first_not_of("0123456789") == std::string::npos;
      if (num) x = std::stoull(t);
      if (!num || x < lo || x > hi) {
        ok = Error(v, "correlate", k + ": expected a whole number from " + std::to_string(lo) + " to " +
                                       std::to_string(hi) + ", got '" + t + "'");
      } else if (k == "count") {
        c.count = static_cast<uint32_t>(x);
      } else {
        c.max_keys = static_cast<std::size_t>(x);
      }
    } else if (k == "window") {
      if (!v.IsScalar() || !ParseDuration(v.Scalar(), &c.window_ns))
        ok = Error(v, "correlate", "window: expected a duration from 1ms to 1h such as 500ms, 60s, 5m or 1h, got '" +
                                       (v.IsScalar() ? v.Scalar() : std::string()) + "'");
    } else {
      ok = Error(kv.first, "correlate", "unknown key '" + k + "' (by, distinct, count, window, max_keys)");
    }
  }
  if (!ok) return false;
  for (const char* req : {"by", "distinct", "count", "window"}) {
    const std::string key(req);
    if (!n[key]) ok = Error(n, "correlate", "expected key '" + key + "'");
  }
  if (!ok) return false;
  *out = std::move(c);
  return true;
}

}  // namespace

namespace {

// The keys an `append: true` or `override:` item changes, each with its mode
// ("append" | "replace"); false (after a located error) when the item asks
// for a key that cannot be changed that way, or lists one it does not give.
bool PatchModes(RuleLoader& L, const YAML::Node& item, bool append, std::map<std::string, std::string>* modes) {
  if (append) {
    for (const auto& kv : item) {
      std::string k = kv.first.Scalar();
      if (k == "rule" || k == "append") continue;
      if (!kAppendable.count(k))
        return L.Error(kv.first, "append", "key '" + k + "' cannot be appended (condition, output, desc, tags, exceptions)");
      (*modes)[k] = "append";
    }
    return true;
  }
  const auto& ov = item["override"];
  if (!ov.IsMap()) return L.Error(ov, "override", "expected a map of key: append|replace");
  for (const auto& kv : ov) {
    std::string k = kv.first.Scalar(), m = kv.second.IsScalar() ? kv.second.Scalar() : "";
    if (m != "append" && m != "replace")
      return L.Error(kv.second, "override", "key '" + k + "': expected append or replace");
    if (!(m == "append" ? kAppendable : kReplaceable).count(k))
      return L.Error(kv.first, "override", "key '" + k + "' cannot be overridden with " + m);
    if (!item[k]) return L.Error(kv.first, "override", "key '" + k + "' is overridden but not given");
    (*modes)[k] = m;
  }
  for (const auto& kv : item) {
    std::string k = kv.first.Scalar();
    if (k != "rule" && k != "override" && !modes->count(k))
      return L.Error(kv.first, "override", "key '" + k + "' is given but not listed in override");
  }
  return true;
}

// Exceptions of a patch into the rule's: appended rows join the exception of
// the same name (which must have the same fields); others are added.
void MergeExceptions(std::vector<ExceptionDef>* into, std::vector<ExceptionDef>&& from, bool app,
                     const std::string& rule, Diagnostics* diags) {
  if (!app) into->clear();
  for (auto& x : from) {
    ExceptionDef* same = nullptr;
    for (auto& y : *into)
      if (y.name == x.name) same = &y;
    if (same != nullptr && app) {
      if (!x.fields.empty() && x.fields != same->fields) {
        diags->Error(x.loc, "rule", rule, "exceptions", "exception '" + x.name + "' is appended with different fields");
        continue;
      }
      same->rows.insert(same->rows.end(), x.rows.begin(), x.rows.end());
    } else {
      into->push_back(std::move(x));
    }
  }
}

// Applies each key of `patch` to the rule `r` in its mode.
void ApplyPatch(const std::map<std::string, std::string>& modes, RuleDef&& patch, RuleDef& r, Diagnostics* diags) {
  for (const auto& [k, m] : modes) {
    bool app = m == "append";
    if (k == "condition") {
      if (!app) r.condition.clear(), r.condition_src = {};
      for (const auto& p : patch.condition_src.pieces) r.condition_src.Append(&r.condition, app ? " " : "", p);
    } else if (k == "output") {
      if (!app) r.output.clear(), r.output_src = {};
      for (const auto& p : patch.output_src.pieces) r.output_src.Append(&r.output, app ? " " : "", p);
    } else if (k == "desc") {
      r.desc = app ? r.desc + " " + patch.desc : patch.desc;
    } else if (k == "tags") {
      if (!app) r.tags.clear();
      r.tags.insert(r.tags.end(), patch.tags.begin(), patch.tags.end());
    } else if (k == "exceptions") {
      MergeExceptions(&r.exceptions, std::move(patch.exceptions), app, r.name, diags);
    } else if (k == "priority") r.priority = patch.priority;
    else if (k == "enabled") r.enabled = patch.enabled;
    else if (k == "warn_evttypes") r.warn_evttypes = patch.warn_evttypes;
    else if (k == "skip-if-unknown-filter") r.skip_if_unknown_filter = patch.skip_if_unknown_filter;
    else if (k == "action") r.action = patch.action;
    else if (k == "tests") r.tests = std::move(patch.tests);
    else if (k == "correlate") r.correlate = std::move(patch.correlate);
    else if (k == "source") r.source = patch.source;
  }
}

// A new rule (or a later file's redefinition of one).
void DefineRule(RuleLoader& L, const YAML::Node& item, RuleDef* existing, RuleDocument* doc,
                std::unordered_map<std::string, std::size_t>* index, std::set<std::string>* defined_here) {
  if (!defined_here->insert("rule/" + L.name_).second) {
    L.Error(item, "", "duplicate rule name in this file (use append: true or override: to extend it)");
    return;
  }
  RuleDef r;
  r.name = L.name_;
  r.loc = L.Loc(item);
  bool ok = L.ReadKeys(item, kRuleKeys, &r);
  for (const char* req : {"condition", "output", "priority", "desc"}) {
    if (!item[req]) ok = L.Error(item, req, std::string("expected key '") + req + "'");
  }
  if (!ok) return;
  if (existing != nullptr) {
    *existing = std::move(r);  // a later file redefines the rule
  } else {
    (*index)[r.name] = doc->rules.size();
    doc->rules.push_back(std::move(r));
  }
}

}  // namespace

void LoadRuleItem(const YAML::Node& item, const std::shared_ptr<const FileText>& file, RuleDocument* doc,
                  std::unordered_map<std::string, std::size_t>* index, std::set<std::string>* defined_here,
                  Diagnostics* diags) {
  RuleLoader L(file, diags);
  const bool named = L.Str(item["rule"], "rule", &L.name_);
  if (named && L.name_.empty()) L.Error(item, "rule", "expected a non-empty rule name");
  if (!named || L.name_.empty()) {
    // The item is not loaded, but its other keys are still checked, so one
    // pass over the file shows every error.
    RuleDef unused;
    L.ReadKeys(item, kRuleKeys, &unused);
    return;
  }
  for (const auto& kv : item) {
    std::string k = kv.first.Scalar();
    if (!kRuleKeys.count(k)) diags->Warning(L.Loc(kv.first), "rule", L.name_, "", "unknown key '" + k + "' (ignored)");
  }
  bool append = false;
  if (item["append"] && !L.Bool(item["append"], "append", &append)) return;
  auto it = index->find(L.name_);
  RuleDef* existing = it == index->end() ? nullptr : &doc->rules[it->second];

  if (append || item["override"]) {
    if (existing == nullptr) {
      L.Error(item, "", "append/override of a rule that is not defined (earlier files first)");
      return;
    }
    std::map<std::string, std::string> modes;
    if (!PatchModes(L, item, append, &modes)) return;
    RuleDef patch;
    std::set<std::string> keys;
    for (const auto& [k, _] : modes) keys.insert(k);
    if (!L.ReadKeys(item, keys, &patch)) return;
    ApplyPatch(modes, std::move(patch), *existing, diags);
    return;
  }
  // `- rule: X / enabled: false` alone toggles an existing rule (Falco's legacy form).
  if (existing != nullptr && item.size() == 2 && item["enabled"]) {
    L.Bool(item["enabled"], "enabled", &existing->enabled);
    return;
  }
  DefineRule(L, item, existing, doc, index, defined_here);
}

}  // namespace vigil::rules
