// SPDX-License-Identifier: Apache-2.0
#include "engine/interest.h"

#include <algorithm>

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

namespace {

// Fields whose value, for an open the kernel can check, starts with any of
// their prefixes only if the given path does (see the header).
bool KernelPathField(const compile::FieldAccessor& f) {
  if (!f.def || !f.transformers.empty() || f.arg.present) return false;
  const std::string_view name = f.def->name;
  return name == "fd.name" || name == "fd.directory";
}

}  // namespace

OpenPathFilter DeriveOpenPathFilter(const RuleEngine& engine, const std::vector<std::string>& extra) {
  OpenPathFilter out;
  const compile::Program& program = engine.program();
  const std::function<bool(const compile::FieldAccessor&)> keep = KernelPathField;
  // An enabled rule on a call whose fd.name comes from the descriptor
  // table: an open left in the kernel would change the name it sees.
  for (const auto& r : engine.rules()) {
    if (!r->enabled) continue;
    for (std::size_t i = 0; i < kEventTypeCount; ++i) {
      if (!r->types.test(i) || !NamesFdFromOpen(static_cast<EventType>(i))) continue;
      if (out.unbounded_rule.empty())
        out.unbounded_rule = r->name + " (on " + std::string(EventTypeName(static_cast<EventType>(i))) +
                             ", whose fd.name comes from the open)";
      out.unbounded_rules.push_back(r->name);
      break;
    }
  }
  std::vector<std::string> all = extra;
  std::vector<const void*> seen;
  for (EventType t : {EventType::open, EventType::openat, EventType::openat2, EventType::creat}) {
    const auto& entries = program.entries(t);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      std::vector<std::string> prefixes;
      const bool bounded = program.PrefixBound(t, i, keep, &prefixes) &&
                           std::none_of(prefixes.begin(), prefixes.end(), [](const auto& p) { return p.empty(); });
      if (!bounded) {
        const std::string& name = static_cast<const CompiledRule*>(entries[i].rule)->name;
        if (out.unbounded_rule.empty()) out.unbounded_rule = name;
        if (std::find(out.unbounded_rules.begin(), out.unbounded_rules.end(), name) == out.unbounded_rules.end())
          out.unbounded_rules.push_back(name);
        continue;
      }
      if (std::find(seen.begin(), seen.end(), entries[i].rule) == seen.end()) seen.push_back(entries[i].rule);
      all.insert(all.end(), prefixes.begin(), prefixes.end());
    }
  }
  if (!out.unbounded_rules.empty()) return out;
  for (std::string& p : all)
    if (p.size() > kOpenPathWindow) p.resize(kOpenPathWindow);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  // Sorted, a prefix comes right before the strings it is a prefix of.
  for (const std::string& p : all) {
    if (p.empty()) {
      out.unbounded_rule = "(a built-in reader of opens)";
      out.prefixes.clear();
      return out;
    }
    if (!out.prefixes.empty() && p.starts_with(out.prefixes.back())) continue;
    out.prefixes.push_back(p);
  }
  if (out.prefixes.size() > kOpenPrefixesMax) {
    out.unbounded_rule = "(more than " + std::to_string(kOpenPrefixesMax) + " path prefixes)";
    out.prefixes.clear();
    return out;
  }
  out.active = true;
  out.bounded_rules = seen.size();
  return out;
}

bool OpenPathKernelCheckable(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > kOpenPathWindow) return false;
  for (std::size_t i = 0; i + 1 < path.size(); ++i)
    if (path[i] == '/' && (path[i + 1] == '/' || path[i + 1] == '.')) return false;
  return true;
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
