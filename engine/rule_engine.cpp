// SPDX-License-Identifier: Apache-2.0
#include "engine/rule_engine.h"

#include <functional>

#include "engine/compile/compiler.h"
#include "engine/condition/parser.h"
#include "engine/rule_tests.h"
#include "engine/state/dns_cache.h"

namespace vigil {

CompiledRule::CompiledRule(const rules::RuleDef& def)
    : name(def.name), desc(def.desc), priority(def.priority), tags(def.tags), source(def.source),
      action(def.action), enabled(def.enabled), loc(def.loc), condition(def.condition), tests(def.tests) {}

using compile::ItemContext;
using compile::ListEntry;
using compile::MacroEntry;

namespace {

constexpr int kMaxListDepth = 32;

bool IsListComp(const std::string& c) { return c == "in" || c == "intersects" || c == "pmatch"; }

std::string Quote(const std::string& v) {
  std::string s = "\"";
  for (char c : v) {
    if (c == '\\' || c == '"') s.push_back('\\');
    s.push_back(c);
  }
  return s + "\"";
}

// Falco builds exceptions as condition text; so do we, then parse it like any condition.
std::string ExceptionsText(const std::vector<rules::ExceptionDef>& excs, const std::map<std::string, ListEntry>& lists) {
  auto value = [&](const rules::ExceptionDef::Cell& cell, const std::string& comp) {
    if (IsListComp(comp)) {
      std::string s = "(";
      for (std::size_t i = 0; i < cell.items.size(); ++i) {
        if (i) s += ", ";
        const auto& v = cell.items[i];
        s += lists.count(v) ? v : Quote(v);  // a bare list name expands
      }
      return s + ")";
    }
    return Quote(cell.items.empty() ? std::string() : cell.items[0]);
  };
  std::vector<std::string> parts;
  for (const auto& x : excs) {
    if (x.fields.empty() || x.rows.empty()) continue;
    if (x.single_form) {
      const std::string& f = x.fields[0];
      const std::string& c = x.comps[0];
      if (IsListComp(c)) {
        rules::ExceptionDef::Cell all;
        for (const auto& row : x.rows)
          for (const auto& cell : row) all.items.insert(all.items.end(), cell.items.begin(), cell.items.end());
        parts.push_back(f + " " + c + " " + value(all, c));
      } else {
        for (const auto& row : x.rows) parts.push_back(f + " " + c + " " + value(row[0], c));
      }
      continue;
    }
    for (const auto& row : x.rows) {
      std::string conj;
      for (std::size_t i = 0; i < row.size() && i < x.fields.size(); ++i) {
        if (i) conj += " and ";
        conj += x.fields[i] + " " + x.comps[i] + " " + value(row[i], x.comps[i]);
      }
      parts.push_back("(" + conj + ")");
    }
  }
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? " or " : "") + parts[i];
  return text;
}

// Falco pastes list items into the condition text, so an item written with
// quotes ('"10.0.0.0/8"') is a quoted value there: strip and unescape them.
std::string Unquote(const std::string& item) {
  if (item.size() < 2 || (item.front() != '"' && item.front() != '\'') || item.back() != item.front()) return item;
  condition::Lexer lex(item);
  std::string out;
  if (lex.ReadQuoted(&out) && lex.AtEnd()) return out;
  return item;
}

void ResolveLists(const rules::RuleDocument& doc, std::map<std::string, ListEntry>* out, Diagnostics* diags) {
  std::map<std::string, const rules::ListDef*> defs;
  for (const auto& l : doc.lists) defs[l.name] = &l;
  std::map<std::string, int> state;  // 1 resolving, 2 done
  std::set<std::string> too_big;     // past kMaxListItems (reported)
  std::function<void(const std::string&, int)> resolve = [&](const std::string& name, int depth) {
    const auto* def = defs[name];
    state[name] = 1;
    ListEntry e;
    e.ctx.kind = "list";
    e.ctx.name = name;
    e.ctx.key = "items";
    SourceLoc loc = def->loc;
    e.ctx.locate = [loc](uint32_t) { return loc; };
    for (const auto& item : def->items) {
      auto d = defs.find(item);
      if (d == defs.end()) {
        e.items.push_back(Unquote(item));
        continue;
      }
      if (state[item] == 1 || depth >= kMaxListDepth) {
        diags->Error(loc, "list", name, "items", "list '" + item + "' refers back to '" + name + "'");
        continue;
      }
      if (state[item] != 2) resolve(item, depth + 1);
      auto& sub = (*out)[item];
      sub.used = true;
      if (too_big.count(item) || e.items.size() + sub.items.size() > compile::kMaxListItems) {
        // Nested lists double at each level: a 500-byte file reached 6.6 GB.
        // Reported once, at the first list too big; those using it say nothing more.
        if (!too_big.count(item))
          diags->Error(loc, "list", name, "items",
                       "expands to more than " + std::to_string(compile::kMaxListItems) + " items (at list '" +
                           item + "')");
        too_big.insert(name);
        break;
      }
      e.items.insert(e.items.end(), sub.items.begin(), sub.items.end());
    }
    bool used = (*out)[name].used;
    (*out)[name] = std::move(e);
    (*out)[name].used = used;
    state[name] = 2;
  };
  for (const auto& l : doc.lists)
    if (state[l.name] != 2) resolve(l.name, 0);
}

ItemContext MakeContext(std::string kind, std::string name, std::string key, std::string text,
                        std::function<SourceLoc(uint32_t)> locate) {
  ItemContext c;
  c.kind = std::move(kind);
  c.name = std::move(name);
  c.key = std::move(key);
  c.text = std::move(text);
  c.locate = std::move(locate);
  return c;
}

// "proc.apid[2]" -> name and argument, as a condition would spell it.
condition::FieldRef FieldRefFromText(const std::string& text) {
  condition::FieldRef ref;
  const auto open = text.find('[');
  ref.name = text.substr(0, open);
  if (open != std::string::npos && text.back() == ']') {
    ref.has_arg = true;
    ref.arg = text.substr(open + 1, text.size() - open - 2);
  }
  return ref;
}

// Resolves the fields of a rule's `correlate:` key; each unknown one is a
// located error.
std::unique_ptr<CompiledRule::Correlation> CompileCorrelation(const rules::RuleDef& r, compile::Compiler* compiler,
                                                             Diagnostics* diags, std::set<std::string>* na_fields) {
  const rules::CorrelateDef& c = *r.correlate;
  auto out = std::make_unique<CompiledRule::Correlation>();
  bool ok = true;
  auto resolve = [&](const std::string& text, const SourceLoc& loc) -> std::unique_ptr<compile::FieldAccessor> {
    std::string error;
    bool unknown = false;
    auto acc = compiler->ResolveField(FieldRefFromText(text), &error, &unknown);
    if (!acc) {
      diags->Error(loc, "rule", r.name, "correlate", error);
      ok = false;
    } else if (!acc->def->available) {
      na_fields->insert(text);
    }
    return acc;
  };
  for (std::size_t i = 0; i < c.by.size(); ++i) out->by.push_back(resolve(c.by[i], c.by_locs[i]));
  out->distinct = resolve(c.distinct, c.distinct_loc);
  if (!ok) return nullptr;
  out->count = c.count;
  out->window_ns = c.window_ns;
  out->state = std::make_unique<Correlator>(c.count, c.window_ns, c.max_keys);
  return out;
}

std::string JoinReasons(const std::vector<std::string>& reasons) {
  std::string s;
  for (const auto& r : reasons) s += (s.empty() ? "" : "; ") + r;
  return s;
}

// Why a rule (condition and not exceptions) is false for every event vigil
// captures, or "" when it may fire.
std::string NeverFiresReason(const compile::KonstInfo& cond, const compile::KonstInfo& exc,
                             const compile::EventTypeSet& types) {
  if (cond.konst == compile::Konst::kFalse) return JoinReasons(cond.reasons);
  if (exc.konst == compile::Konst::kTrue) return "its exceptions hold for every event: " + JoinReasons(exc.reasons);
  if (types.none()) return "its condition allows no event type vigil captures";
  return "";
}

}  // namespace

std::unique_ptr<RuleEngine> RuleEngine::Load(const std::vector<std::string>& paths, Diagnostics* diags, HostInfo host,
                                             const rules::LoadOptions& opts) {
  auto files = rules::ExpandRulesPaths(paths, diags);
  return FromDocument(rules::LoadRulesFiles(files, diags, opts), diags, std::move(host));
}

std::unique_ptr<RuleEngine> RuleEngine::LoadTexts(const std::vector<std::pair<std::string, std::string>>& files,
                                                  Diagnostics* diags, HostInfo host, const rules::LoadOptions& opts) {
  rules::RuleDocument doc;
  for (const auto& [name, text] : files) rules::LoadRulesText(name, text, &doc, diags, opts);
  return FromDocument(std::move(doc), diags, std::move(host));
}

namespace {

std::map<std::string, MacroEntry> ParseMacros(const rules::RuleDocument& d, Diagnostics* diags) {
  std::map<std::string, MacroEntry> macros;
  for (const auto& m : d.macros) {
    MacroEntry e;
    const rules::PiecedSource* src = &m.condition_src;
    e.ctx = MakeContext("macro", m.name, "condition", m.condition, [src](uint32_t off) { return src->Locate(off); });
    auto parsed = condition::ParseCondition(m.condition);
    if (!parsed.root) diags->Error(src->Locate(parsed.error_offset), "macro", m.name, "condition", parsed.error);
    e.ast = std::move(parsed.root);
    macros[m.name] = std::move(e);
  }
  return macros;
}

// Compiles a rule's exceptions into *check (left null when it has none);
// false when they have errors (reported).
bool CompileExceptions(const rules::RuleDef& r, const std::map<std::string, ListEntry>& lists,
                       compile::Compiler* compiler, Diagnostics* diags, CompiledRule* rule,
                       std::unique_ptr<compile::Check>* check, compile::KonstInfo* konst) {
  std::string exc_text = ExceptionsText(r.exceptions, lists);
  if (exc_text.empty()) return true;
  SourceLoc exc_loc = r.exceptions.empty() ? r.loc : r.exceptions.front().loc;
  auto ectx = MakeContext("rule", r.name, "exceptions", exc_text, [exc_loc](uint32_t) { return exc_loc; });
  auto eparsed = condition::ParseCondition(exc_text);
  if (!eparsed.root) {
    diags->Error(exc_loc, "rule", r.name, "exceptions", "invalid exception: " + eparsed.error);
    return false;
  }
  auto eres = compiler->Compile(*eparsed.root, ectx);
  if (!eres.ok) return false;
  rule->na_fields.insert(eres.na_fields.begin(), eres.na_fields.end());
  *konst = std::move(eres.konst);
  *check = std::move(eres.check);
  (*check)->text = "exceptions: " + (*check)->text;
  return true;
}

// Test cases must name fields a test can set; false (reported) otherwise.
bool CheckTestFields(const rules::RuleDef& r, Diagnostics* diags) {
  bool ok = true;
  auto check = [&](const rules::RuleTestCase& t, const std::vector<std::pair<std::string, std::string>>& fs,
                   const std::vector<SourceLoc>& locs) {
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const std::string& f = fs[i].first;
      std::string base = f.substr(0, f.find('['));
      const FieldDef* def = FindField(base);
      if (def == nullptr) {
        diags->Error(locs[i], "rule", r.name, "tests", "test '" + t.name + "': unknown field '" + f + "'");
        ok = false;
      } else if (def->set == nullptr && !IsHostFactTestField(base)) {
        diags->Error(locs[i], "rule", r.name, "tests", "test '" + t.name + "': field '" + f + "' cannot be set in a test");
        ok = false;
      }
    }
  };
  for (const auto& t : r.tests) {
    check(t, t.fields, t.field_locs);
    for (const auto& st : t.sequence) check(t, st.fields, st.field_locs);
  }
  return ok;
}

// The output template and `correlate:` of a rule; false when either has errors (reported).
bool CompileOutputAndCorrelation(const rules::RuleDef& r, compile::Compiler* compiler, Diagnostics* diags,
                                 CompiledRule* rule) {
  const rules::PiecedSource* osrc = &r.output_src;
  auto octx = MakeContext("rule", r.name, "output", r.output, [osrc](uint32_t o) { return osrc->Locate(o); });
  bool ok = rule->output.Build(r.output, compiler, octx, diags, &rule->na_fields);
  if (r.correlate && r.action != "alert") {
    // The kernel decides on one event; a burst is only known in user space.
    diags->Error(r.correlate->loc, "rule", r.name, "correlate",
                 "a rule with correlate: can only alert (action: " + r.action + " cannot be enforced per event)");
    ok = false;
  } else if (r.correlate) {
    rule->correlate = CompileCorrelation(r, compiler, diags, &rule->na_fields);
    ok = rule->correlate != nullptr && ok;
  }
  return ok;
}

// The rule's checks: `check` is condition and not exceptions.
void FinishRule(std::unique_ptr<compile::Check> cond_check, std::unique_ptr<compile::Check> exc_check,
                CompiledRule* rule) {
  rule->condition_check = cond_check.get();
  rule->exceptions_check = exc_check.get();
  if (!exc_check) {
    rule->check = std::move(cond_check);
    return;
  }
  std::vector<std::unique_ptr<compile::Check>> both;
  both.push_back(std::move(cond_check));
  both.push_back(compile::MakeNot(std::move(exc_check)));
  rule->check = compile::MakeAnd(std::move(both));
}

// Compiles one syscall rule: nullptr when it has errors (reported) or is
// skipped (skip-if-unknown-filter: counted in stats->rules_skipped).
std::unique_ptr<CompiledRule> CompileRule(const rules::RuleDef& r, const std::map<std::string, ListEntry>& lists,
                                          compile::Compiler* compiler, Diagnostics* diags, EngineStats* stats) {
  const rules::PiecedSource* csrc = &r.condition_src;
  auto ctx = MakeContext("rule", r.name, "condition", r.condition, [csrc](uint32_t o) { return csrc->Locate(o); });
  auto parsed = condition::ParseCondition(r.condition);
  if (!parsed.root) {
    diags->Error(csrc->Locate(parsed.error_offset), "rule", r.name, "condition", parsed.error);
    return nullptr;
  }
  auto rule = std::make_unique<CompiledRule>(r);
  const std::size_t env_refs_before = compiler->env_refs();
  const std::size_t buffer_refs_before = compiler->buffer_refs();
  auto res = compiler->Compile(*parsed.root, ctx, r.skip_if_unknown_filter);
  if (!res.ok && res.unknown_field && r.skip_if_unknown_filter) {
    ++stats->rules_skipped;
    return nullptr;
  }
  bool ok = res.ok;  // keep going: the exceptions, output and tests get checked too
  rule->na_fields = res.na_fields;
  rule->types = res.types;
  std::unique_ptr<compile::Check> exc_check;
  compile::KonstInfo exc_konst;
  ok = CompileExceptions(r, lists, compiler, diags, rule.get(), &exc_check, &exc_konst) && ok;
  rule->na_condition_fields = rule->na_fields;
  ok = CompileOutputAndCorrelation(r, compiler, diags, rule.get()) && ok;
  rule->needs_env = compiler->env_refs() != env_refs_before;  // condition, exceptions, output, correlate
  rule->needs_buffer = compiler->buffer_refs() != buffer_refs_before;
  ok = CheckTestFields(r, diags) && ok;
  if (!ok) return nullptr;

  if (rule->types.all() && r.warn_evttypes)
    diags->Warning(r.loc, "rule", r.name, "condition",
                   "condition matches every event type: add an evt.type check so it is not evaluated for every event");
  rule->never_fires = NeverFiresReason(res.konst, exc_konst, rule->types);
  if (!rule->never_fires.empty() && r.enabled) {
    diags->Warning(r.loc, "rule", r.name, "condition", "rule can never fire in vigil: " + rule->never_fires);
    ++stats->rules_never_fire;
  }
  FinishRule(std::move(res.check), std::move(exc_check), rule.get());
  rule->condition_ast = std::move(parsed.root);
  return rule;
}

void WarnUnused(const rules::RuleDocument& d, const std::map<std::string, MacroEntry>& macros,
                const std::map<std::string, ListEntry>& lists, Diagnostics* diags) {
  for (const auto& [name, m] : macros) {
    if (!m.used && m.ast) {
      for (const auto& def : d.macros)
        if (def.name == name) diags->Warning(def.loc, "macro", name, "", "macro is never used");
    }
  }
  for (const auto& [name, l] : lists) {
    if (!l.used) {
      for (const auto& def : d.lists)
        if (def.name == name) diags->Warning(def.loc, "list", name, "", "list is never used");
    }
  }
}

}  // namespace

std::unique_ptr<RuleEngine> RuleEngine::FromDocument(rules::RuleDocument doc, Diagnostics* diags, HostInfo host) {
  std::unique_ptr<RuleEngine> eng(new RuleEngine());
  eng->host_ = std::move(host);
  if (eng->host_.dns == nullptr) eng->host_.dns = std::make_shared<DnsCache>(DnsCache::SystemResolver());
  eng->doc_ = std::move(doc);
  const auto& d = eng->doc_;

  auto& lists = eng->lists_;
  ResolveLists(d, &lists, diags);
  auto& macros = eng->macros_;
  macros = ParseMacros(d, diags);
  compile::Compiler compiler(&macros, &lists, diags);
  compiler.set_dns(eng->host_.dns.get());
  EngineStats& stats = eng->stats_;
  stats.rules_defined = d.rules.size();
  stats.sigma_rules = d.sigma_rules;
  stats.sigma_unsupported = d.sigma_unsupported;
  stats.rules_skipped = d.sigma_unsupported;
  for (const auto& r : d.rules) {
    if (r.source != "syscall") {
      diags->Warning(r.loc, "rule", r.name, "source",
                     "source '" + r.source + "' is not an event source vigil has; rule skipped");
      ++stats.rules_skipped;
      continue;
    }
    auto rule = CompileRule(r, lists, &compiler, diags, &stats);
    if (!rule) continue;
    ++stats.rules_loaded;
    if (!rule->na_fields.empty()) ++stats.rules_with_na;
    if (!rule->na_condition_fields.empty()) ++stats.rules_with_na_condition;
    if (rule->enabled) {
      ++stats.rules_enabled;
      for (std::size_t t = 0; t < kEventTypeCount; ++t)
        if (rule->types.test(t)) eng->program_.Add(static_cast<EventType>(t), *rule->check, rule.get());
    }
    eng->rules_.push_back(std::move(rule));
  }
  eng->program_.Finish();
  WarnUnused(d, macros, lists, diags);
  eng->cache_.resize(compiler.cache_slots());
  stats.macros = d.macros.size();
  stats.lists = d.lists.size();
  return eng;
}

const CompiledRule* RuleEngine::FindRule(std::string_view name) const {
  for (const auto& r : rules_)
    if (r->name == name) return r.get();
  return nullptr;
}

void RuleEngine::Match(const Event& event, std::vector<const CompiledRule*>* fired) const {
  fired->clear();
  FieldContext ctx{&event, &host_, ++event_num_, cache_.data()};
  program_.ForEachCandidate(event.type, ctx, [&](const compile::Program::Entry& e) {
    const auto* r = static_cast<const CompiledRule*>(e.rule);
    if (program_.Eval(e.root, ctx) && (!r->correlate || Correlate(*r, ctx))) fired->push_back(r);
  });
}

bool RuleEngine::Correlate(const CompiledRule& rule, const FieldContext& ctx) const {
  const CompiledRule::Correlation& c = *rule.correlate;
  std::string& key = correlate_key_;
  key.clear();
  FieldValueRef v;
  for (const auto& f : c.by) {
    if (!f->Get(ctx, &v)) return false;  // an event with no key is not counted
    RenderFieldValue(f->type, v, &key);
    key.push_back('\x1f');
  }
  if (!c.distinct->Get(ctx, &v)) return false;
  correlate_value_.clear();
  RenderFieldValue(c.distinct->type, v, &correlate_value_);
  const Event& e = *ctx.event;
  const uint64_t t = e.wall_ns != 0 ? e.wall_ns : e.ts_ns;
  return c.state->Observe(key, correlate_value_, static_cast<int64_t>(t));
}

bool RuleEngine::Fires(const CompiledRule& rule, const Event& event) const {
  FieldContext ctx{&event, &host_, ++event_num_, cache_.data()};
  if (!rule.types.test(static_cast<std::size_t>(event.type)) || !rule.check->Eval(ctx)) return false;
  return !rule.correlate || Correlate(rule, ctx);
}

void RuleEngine::ResetCorrelation() const {
  for (const auto& r : rules_)
    if (r->correlate) r->correlate->state->Clear();
}

std::vector<CorrelationStats> RuleEngine::correlation_stats() const {
  std::vector<CorrelationStats> out;
  for (const auto& r : rules_) {
    if (!r->correlate) continue;
    const Correlator& c = *r->correlate->state;
    out.push_back({r->name, c.keys(), c.evicted_expired(), c.evicted_pressure()});
  }
  return out;
}

bool RuleEngine::Matches(const CompiledRule& rule, const Event& event) const {
  FieldContext ctx{&event, &host_, ++event_num_, cache_.data()};
  return rule.types.test(static_cast<std::size_t>(event.type)) && rule.check->Eval(ctx);
}

std::string RuleEngine::Explain(const CompiledRule& rule, const Event& event) const {
  FieldContext ctx{&event, &host_, ++event_num_, cache_.data()};
  std::string out;
  bool indexed = rule.types.test(static_cast<std::size_t>(event.type));
  out += "rule '" + rule.name + "': " + (Matches(rule, event) ? "MATCH" : "no match") + "\n";
  if (!indexed)
    out += "  (evt.type " + std::string(EventTypeName(event.type)) + " is not among the event types this rule uses)\n";
  rule.condition_check->Explain(ctx, 1, &out);
  if (rule.exceptions_check) rule.exceptions_check->Explain(ctx, 1, &out);
  return out;
}

}  // namespace vigil
