// SPDX-License-Identifier: Apache-2.0
#include "engine/interest.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "engine/fields/field_table.h"

namespace vigil {

compile::EventTypeSet StateEventTypes() {
  compile::EventTypeSet s;
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    if (IsStateEvent(static_cast<EventType>(i))) s.set(i);
  return s;
}

compile::EventTypeSet KernelEventTypes() {
  compile::EventTypeSet s;
  for (std::size_t i = 0; i < kKernelEventTypeCount; ++i) s.set(i);
  return s;
}

Interest DeriveInterest(const RuleEngine& engine) {
  Interest in;
  in.state_types = StateEventTypes();
  for (const auto& r : engine.rules()) {
    if (!r->enabled) continue;
    in.rule_types |= r->types;
    if (r->types.all() && in.unrestricted_rule.empty()) in.unrestricted_rule = r->name;
    if (r->needs_env && !in.env) {
      in.env = true;
      in.env_rule = r->name;
    }
    if (r->needs_buffer && !in.buffer) {
      in.buffer = true;
      in.buffer_rule = r->name;
    }
  }
  in.types = in.rule_types | in.state_types;
  return in;
}

bool IsOpenFamily(EventType type) {
  return type == EventType::open || type == EventType::openat || type == EventType::openat2 ||
         type == EventType::creat;
}

OpenClass OpenClassOf(EventType type, uint32_t flags) {
  return type == EventType::creat || (flags & kOpenWriteFlags) != 0 ? OpenClass::kWrite : OpenClass::kRead;
}

const char* OpenClassName(OpenClass c) { return c == OpenClass::kRead ? "read" : "write"; }

namespace {

// Fields whose value, for an open the kernel can check, starts with any of
// their prefixes only if the given path does (see the header).
bool KernelPathField(const compile::FieldAccessor& f) {
  if (!f.def || !f.transformers.empty() || f.arg.present) return false;
  const std::string_view name = f.def->name;
  return name == "fd.name" || name == "fd.directory";
}

// A compare leaf's key (engine/compile/checks.cpp CompareKey): the field as
// written, the operator and the values, each length-prefixed.
struct LeafKey {
  std::string_view field, op;
  std::vector<std::string_view> values;
};

bool ParseLeafKey(std::string_view key, LeafKey* out) {
  const std::size_t sep = key.find('\x1f');
  if (key.empty() || sep == std::string_view::npos || key[0] == '\x1c' || key[0] == '\x1d') return false;
  out->field = key.substr(0, sep);
  std::string_view rest = key.substr(sep + 1);
  const std::size_t v = rest.find('\x1e');
  out->op = rest.substr(0, v);
  rest = v == std::string_view::npos ? std::string_view() : rest.substr(v);
  while (!rest.empty()) {  // "\x1e" len ":" value
    const std::size_t colon = rest.find(':');
    if (rest[0] != '\x1e' || colon == std::string_view::npos) return false;
    const std::size_t n = std::strtoul(std::string(rest.substr(1, colon - 1)).c_str(), nullptr, 10);
    if (colon + 1 + n > rest.size()) return false;
    out->values.push_back(rest.substr(colon + 1, n));
    rest = rest.substr(colon + 1 + n);
  }
  return true;
}

// `field op value` with one boolean value: its result when the field is `is`.
std::optional<bool> BoolLeaf(const LeafKey& k, bool is) {
  if (k.values.size() != 1 || (k.op != "=" && k.op != "!=")) return std::nullopt;
  const std::string_view v = k.values[0];
  bool value;
  if (v == "true" || v == "TRUE" || v == "True") value = true;
  else if (v == "false" || v == "FALSE" || v == "False") value = false;
  else return std::nullopt;
  return (is == value) == (k.op == "=");
}

// A leaf's value on every open the kernel judges (not a 32-bit call: those
// are always sent), or nullopt.
std::optional<bool> NativeOpenLeaf(const compile::Check& c) {
  LeafKey k;
  if (!ParseLeafKey(c.key, &k)) return std::nullopt;
  if (k.field == "evt.is_compat" || k.field == "evt.is_compat_from_64bit") return BoolLeaf(k, false);
  return std::nullopt;
}

// A leaf's value on every such open of the read class, or nullopt.
std::optional<bool> ReadOpenLeaf(const compile::Check& c) {
  if (const std::optional<bool> v = NativeOpenLeaf(c)) return v;
  LeafKey k;
  if (!ParseLeafKey(c.key, &k)) return std::nullopt;
  if (k.field == "evt.is_open_write" || k.field == "evt.is_open_create" || k.field == "evt.is_open_exec")
    return BoolLeaf(k, false);
  if (k.field == "evt.is_open_read") return BoolLeaf(k, true);
  if (k.field != "evt.arg.flags" || k.op != "contains" || k.values.size() != 1) return std::nullopt;
  // The names a read-class open's flags can render (RenderOpenFlags): a
  // needle inside none of them (and without the '|' that joins them) is in
  // no such rendering.
  const std::string_view needle = k.values[0];
  if (needle.empty() || needle.find('|') != std::string_view::npos) return std::nullopt;
  std::string names;
  RenderOpenFlags(~kOpenWriteFlags, &names);
  for (std::size_t at = 0; at <= names.size();) {
    std::size_t bar = names.find('|', at);
    if (bar == std::string::npos) bar = names.size();
    if (std::string_view(names).substr(at, bar - at).find(needle) != std::string_view::npos) return std::nullopt;
    at = bar + 1;
  }
  return false;
}

// ftruncate on a read-class descriptor fails: success checks are false.
std::optional<bool> FailedCallLeaf(const compile::Check& c) {
  LeafKey k;
  if (!ParseLeafKey(c.key, &k) || k.values.size() != 1) return std::nullopt;
  if (k.field == "evt.rawres" && (k.op == "=" || k.op == ">=") && k.values[0] == "0") return false;
  if (k.field == "evt.res" && k.op == "=" && k.values[0] == "SUCCESS") return false;
  return std::nullopt;
}

// Whether a leaf's key or an output field's text names a field made from the
// name the descriptor table sets (fd.name and the fields made from it;
// fd.name.resolved stays the kernel's path).
bool NamesFdName(std::string key) {
  for (std::size_t at; (at = key.find("fd.name.resolved")) != std::string::npos;) key.erase(at, 16);
  for (const char* f : {"fd.name", "fd.directory", "fd.filename", "fs.path"})
    if (key.find(f) != std::string::npos) return true;
  return false;
}

// The same for a leaf; a leaf without a key is assumed to read it.
bool ReadsFdName(const compile::Check& c) { return c.key.empty() || NamesFdName(c.key); }

void AddUnbounded(OpenPathFilter* f, const std::string& name, const std::string& why) {
  if (f->unbounded_rule.empty()) f->unbounded_rule = name + why;
  if (std::find(f->unbounded_rules.begin(), f->unbounded_rules.end(), name) == f->unbounded_rules.end())
    f->unbounded_rules.push_back(name);
}

// Rules on calls whose fd.name comes from the open (see the header).
void FdNameRules(const compile::Program& program, OpenPathFilters* out) {
  for (std::size_t t = 0; t < kEventTypeCount; ++t) {
    const auto type = static_cast<EventType>(t);
    if (!NamesFdFromOpen(type)) continue;
    const auto& entries = program.entries(type);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto* rule = static_cast<const CompiledRule*>(entries[i].rule);
      // The output counts too: an alert must name the file as the process
      // opened it (docs/state.md "Descriptors"), which only the open tells.
      bool reads = rule->correlate != nullptr;
      program.ForEachLeaf(type, i, [&](const compile::Check& c) { reads = reads || ReadsFdName(c); });
      rule->output.ForEachField([&](const std::string& f) { reads = reads || NamesFdName(f); });
      if (!reads) continue;
      const std::string why = " (on " + std::string(EventTypeName(type)) + ", whose fd.name comes from the open)";
      AddUnbounded(&out->cls[static_cast<std::size_t>(OpenClass::kWrite)], rule->name, why);
      if (type != EventType::ftruncate || program.CanHold(type, i, FailedCallLeaf))
        AddUnbounded(&out->cls[static_cast<std::size_t>(OpenClass::kRead)], rule->name, why);
    }
  }
}

// The shortest of each chain of `all` into f->prefixes; f->active when
// nothing turned it off.
void FinishClass(std::vector<std::string> all, OpenPathFilter* f) {
  if (!f->unbounded_rules.empty()) return;
  for (std::string& p : all)
    if (p.size() > kOpenPathWindow) p.resize(kOpenPathWindow);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  // Sorted, a prefix comes right before the strings it is a prefix of.
  for (const std::string& p : all) {
    if (p.empty()) {
      f->unbounded_rule = "(a built-in reader of opens)";
      f->prefixes.clear();
      return;
    }
    if (!f->prefixes.empty() && p.starts_with(f->prefixes.back())) continue;
    f->prefixes.push_back(p);
  }
  if (f->prefixes.size() > kOpenPrefixesMax) {
    f->unbounded_rule = "(more than " + std::to_string(kOpenPrefixesMax) + " path prefixes)";
    f->prefixes.clear();
    return;
  }
  f->active = true;
}

// ---- the resolved test (see the header)

using Constraints = compile::Program::Constraints;

// A constraint: its kind letter, then its text.
std::string Tagged(char tag, std::string_view text) {
  std::string out(1, tag);
  out.append(text);
  return out;
}

bool ResolvedField(const compile::FieldAccessor& f) {
  return f.def != nullptr && f.transformers.empty() && !f.arg.present && std::string_view(f.def->name) == "fd.name.resolved";
}

// Endings of fd.name.resolved as leaf constraints: "L" + an exact name, "l" +
// a suffix; nullopt when one bounds nothing.
std::optional<Constraints> LeafConstraints(const std::vector<std::string>& endings) {
  Constraints out;
  for (const std::string& s : endings) {
    const std::size_t slash = s.rfind('/');
    const std::string name = slash == std::string::npos ? s : s.substr(slash + 1);
    if (name.empty()) return std::nullopt;
    out.push_back(Tagged(slash == std::string::npos ? 'l' : 'L', name));
  }
  return out;
}

// Beginnings of fd.name.resolved as top constraints: "T" + an exact first
// component, "t" + a prefix of it.
std::optional<Constraints> TopConstraints(const std::vector<std::string>& beginnings) {
  Constraints out;
  for (const std::string& p : beginnings) {
    if (p.size() < 2 || p[0] != '/' || p[1] == '/') return std::nullopt;
    const std::size_t slash = p.find('/', 1);
    out.push_back(slash == std::string::npos ? Tagged('t', std::string_view(p).substr(1))
                                             : Tagged('T', std::string_view(p).substr(1, slash - 1)));
  }
  return out;
}

// How much a bound lets through (lower is tighter): an exact leaf name, then
// a given-path prefix or leaf suffix of some length, then a top name.
std::size_t ConstraintCost(const Constraints& cs) {
  std::size_t worst = 0;
  for (const std::string& c : cs) {
    const std::size_t len = c.size() - 1;
    std::size_t cost = 4;
    if (c[0] == 'L') cost = 1;
    else if (c[0] == 'l' || c[0] == 'P') cost = len >= 3 ? 2 : 6;
    else if (c[0] == 'T') cost = 3;
    worst = std::max(worst, cost);
  }
  return worst;
}

// A leaf's bound: "P" + a given-path prefix (fd.name, fd.directory), or the
// tighter of its fd.name.resolved endings and beginnings.
std::optional<Constraints> ResolvedLeafBound(const compile::Check& c) {
  const compile::FieldAccessor* field = nullptr;
  std::vector<std::string> v;
  if (c.PrefixGuard(&field, &v) && field != nullptr && KernelPathField(*field)) {
    Constraints out;
    for (const std::string& p : v) {
      if (p.empty()) return std::nullopt;
      out.push_back(Tagged('P', p));
    }
    return out;
  }
  std::optional<Constraints> best;
  field = nullptr;
  if (c.SuffixGuard(&field, &v) && field != nullptr && ResolvedField(*field)) best = LeafConstraints(v);
  field = nullptr;
  if (c.PrefixGuard(&field, &v) && field != nullptr && ResolvedField(*field)) {
    std::optional<Constraints> top = TopConstraints(v);
    if (top && (!best || ConstraintCost(*top) < ConstraintCost(*best))) best = std::move(top);
  }
  return best;
}

// A rule's constraints into the class: given-path prefixes into `all`, the
// others into f's sets.
void AddResolvedBound(const Constraints& cs, std::vector<std::string>* all, OpenPathFilter* f) {
  for (const std::string& c : cs) {
    const std::string v = c.substr(1);
    switch (c[0]) {
      case 'P': all->push_back(v); break;
      case 'T': f->top_names.push_back(v); break;
      case 't': f->top_prefixes.push_back(v); break;
      case 'L': f->leaf_names.push_back(v); break;
      default: f->leaf_suffixes.push_back(v); break;
    }
  }
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// After FinishClass: the resolved sets tidied, the class off when they need
// more keys than the kernel takes.
void FinishResolved(OpenPathFilter* f) {
  if (!f->active) {  // off: every open of the class is sent, nothing to test
    OpenPathFilter off;
    off.unbounded_rule = f->unbounded_rule;
    off.unbounded_rules = f->unbounded_rules;
    *f = std::move(off);
    return;
  }
  if (!f->resolved) return;
  for (auto* v : {&f->top_names, &f->top_prefixes, &f->leaf_names, &f->leaf_suffixes, &f->resolved_rules})
    SortUnique(v);
  if (OpenResolvedKeys(*f).size() > kResolvedKeysMax) {
    OpenPathFilter off;
    off.unbounded_rule = "(more than " + std::to_string(kResolvedKeysMax) + " resolved-path keys)";
    *f = std::move(off);
  }
}

// One rule's bound on one class: P prefixes into `all`, or the resolved sets
// (f->resolved set), or false.
bool BoundRule(const compile::Program& program, EventType t, std::size_t i, OpenClass cls,
               std::vector<std::string>* all, OpenPathFilter* f) {
  const std::function<bool(const compile::FieldAccessor&)> keep = KernelPathField;
  std::vector<std::string> prefixes;
  if (program.PrefixBound(t, i, keep, &prefixes) &&
      std::none_of(prefixes.begin(), prefixes.end(), [](const auto& p) { return p.empty(); })) {
    all->insert(all->end(), prefixes.begin(), prefixes.end());
    return true;
  }
  Constraints cs;
  if (!program.LeafBound(t, i, cls == OpenClass::kRead ? ReadOpenLeaf : NativeOpenLeaf, ResolvedLeafBound,
                         ConstraintCost, &cs))
    return false;
  AddResolvedBound(cs, all, f);
  if (std::any_of(cs.begin(), cs.end(), [](const std::string& c) { return c[0] != 'P'; })) {
    f->resolved = true;
    f->resolved_rules.push_back(static_cast<const CompiledRule*>(program.entries(t)[i].rule)->name);
  }
  return true;
}

}  // namespace

std::vector<ResolvedKey> OpenResolvedKeys(const OpenPathFilter& f) {
  std::vector<ResolvedKey> out;
  const auto cut = [](std::string s) {
    if (s.size() > kResolvedNameWindow) s.resize(kResolvedNameWindow);
    return s;
  };
  const auto reversed = [](std::string s) {
    std::reverse(s.begin(), s.end());
    return s;
  };
  for (const std::string& t : f.top_names)
    out.push_back({ResolvedKind::kTop, t.size() < kResolvedNameWindow ? t + '\0' : cut(t)});
  for (const std::string& p : f.top_prefixes) out.push_back({ResolvedKind::kTop, cut(p)});
  // A longer leaf is always sent: no key needed.
  for (const std::string& l : f.leaf_names)
    if (l.size() < kResolvedNameWindow) out.push_back({ResolvedKind::kLeaf, reversed(l) + '\0'});
  for (const std::string& s : f.leaf_suffixes)
    if (s.size() < kResolvedNameWindow) out.push_back({ResolvedKind::kLeaf, reversed(s)});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool ResolvedPathPasses(const OpenPathFilter& f, std::string_view resolved) {
  if (resolved.size() < 2 || resolved[0] != '/') return true;
  const std::size_t top_end = resolved.find('/', 1);
  const std::string_view top = resolved.substr(1, top_end == std::string_view::npos ? top_end : top_end - 1);
  const std::string_view leaf = resolved.substr(resolved.rfind('/') + 1);
  if (top.empty() || leaf.empty() || leaf.size() >= kResolvedNameWindow) return true;
  const std::string top_key = std::string(top.substr(0, kResolvedNameWindow)) + '\0';
  std::string leaf_key(leaf.rbegin(), leaf.rend());
  leaf_key += '\0';
  // Linear: tests and tools call this, the kernel looks the keys up in its LPM trie.
  for (const ResolvedKey& k : OpenResolvedKeys(f))
    if ((k.kind == ResolvedKind::kTop ? top_key : leaf_key).starts_with(k.bytes)) return true;
  return false;
}

OpenPathFilters DeriveOpenPathFilters(const RuleEngine& engine, const std::vector<std::string>& extra) {
  OpenPathFilters out;
  const compile::Program& program = engine.program();
  FdNameRules(program, &out);
  for (std::size_t c = 0; c < kOpenClassCount; ++c) {
    const auto cls = static_cast<OpenClass>(c);
    OpenPathFilter& f = out.cls[c];
    std::vector<std::string> all = extra;
    std::vector<const void*> seen;
    for (EventType t : {EventType::open, EventType::openat, EventType::openat2, EventType::creat}) {
      if (t == EventType::creat && cls == OpenClass::kRead) continue;  // creat is always a write
      const auto& entries = program.entries(t);
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (!program.CanHold(t, i, cls == OpenClass::kRead ? ReadOpenLeaf : NativeOpenLeaf)) continue;
        if (!BoundRule(program, t, i, cls, &all, &f)) {
          AddUnbounded(&f, static_cast<const CompiledRule*>(entries[i].rule)->name, "");
          continue;
        }
        if (std::find(seen.begin(), seen.end(), entries[i].rule) == seen.end()) seen.push_back(entries[i].rule);
      }
    }
    FinishClass(std::move(all), &f);
    FinishResolved(&f);
    if (f.active) f.bounded_rules = seen.size();
  }
  return out;
}

bool OpenPathKernelCheckable(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > kOpenPathWindow) return false;
  for (std::size_t i = 0; i + 1 < path.size(); ++i)
    if (path[i] == '/' && (path[i + 1] == '/' || path[i + 1] == '.')) return false;
  return true;
}

bool OpenPathPasses(const OpenPathFilters& filters, EventType type, uint32_t flags, std::string_view path) {
  return OpenPathPasses(filters.of(OpenClassOf(type, flags)), path);
}

bool OpenPathPasses(const OpenPathFilters& filters, const Event& e) {
  if (e.compat) return true;
  const OpenPathFilter& f = filters.of(OpenClassOf(e.type, e.file.flags));
  if (OpenPathPasses(f, e.file.path)) return true;
  return f.resolved && (e.res < 0 || ResolvedPathPasses(f, e.file.resolved));
}

bool OpenPathPasses(const OpenPathFilter& filter, std::string_view path) {
  if (!filter.active || !OpenPathKernelCheckable(path)) return true;
  // Linear: tests and tools call this, the kernel looks the path up in its LPM trie.
  for (const std::string& p : filter.prefixes)
    if (path.starts_with(p)) return true;
  return false;
}

std::string EventTypeNames(const compile::EventTypeSet& set) {
  std::string out;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    if (!set.test(i)) continue;
    if (!out.empty()) out += ", ";
    out += EventTypeName(static_cast<EventType>(i));
  }
  return out;
}

}  // namespace vigil
