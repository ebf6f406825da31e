// SPDX-License-Identifier: Apache-2.0
// proc.env, proc.env[NAME], proc.aenv[N|NAME] and proc.env_truncated: the
// environment an image was exec'd with (ProcessInfo::env), as libsinsp's
// fields read it. Captured only while a loaded rule or output reads one of
// these fields (FieldNeedsEnv, engine/interest.h): otherwise `<NA>`.
#include <charconv>
#include <string>

#include "engine/fields/family.h"

namespace vigil {
namespace {

enum EnvId : uint16_t { kEnv, kAenv, kEnvTruncated };

// libsinsp's proc.aenv[NAME] searches at most this many ancestors.
constexpr int kMaxEnvAncestors = 20;

// A bracket argument that is a level (digits only: an environment variable
// name does not start with a digit).
bool ArgLevel(const FieldArg& a, int* level) {
  if (a.key.empty()) return false;
  auto r = std::from_chars(a.key.data(), a.key.data() + a.key.size(), *level);
  return r.ec == std::errc() && r.ptr == a.key.data() + a.key.size() && *level >= 0 && *level <= 64;
}

// The whole environment, space-separated, or with [NAME] one variable's value
// ("" when the captured environment lacks it, as libsinsp).
bool EnvOf(const ProcessInfo& p, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  if (!p.env) return false;
  if (a.present) {
    std::string_view v;
    o->str = FindEnv(*p.env, a.key, &v) ? v : std::string_view();
    return true;
  }
  JoinEnv(*p.env, &s.buf);
  o->str = s.buf;
  return true;
}

bool GetEnv(const FieldDef&, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  return EnvOf(c.event->proc, a, s, o);
}

// proc.aenv[N]: the Nth ancestor's environment (0: the process); proc.aenv[NAME]:
// the value in the nearest ancestor (from the parent) whose environment has
// NAME, "" when none of the first 20 has it. Without an argument: <NA> (see
// docs/fields.md).
bool GetAEnv(const FieldDef&, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  if (!a.present) return false;
  int level = 0;
  if (ArgLevel(a, &level)) {
    const ProcessInfo* p = AncestorAt(c, level);
    return p != nullptr && EnvOf(*p, FieldArg{}, s, o);
  }
  bool any = false;
  for (int l = 1; l <= kMaxEnvAncestors; ++l) {
    const ProcessInfo* p = AncestorAt(c, l);
    if (p == nullptr) break;
    if (!p->env) continue;
    any = true;
    std::string_view v;
    if (FindEnv(*p->env, a.key, &v)) {
      o->str = v;
      return true;
    }
  }
  o->str = std::string_view();
  return any;
}

bool GetEnvTruncated(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  if (!c.event->proc.env) return false;
  o->boolean = c.event->proc.env_truncated;
  return true;
}

// Rule tests: proc.env as "NAME=value NAME2=value2" (entries split on spaces);
// proc.env[NAME] sets (or adds) one variable.
std::string SetEnv(Event& e, OwnedAncestors&, const FieldArg& a, std::string_view t) {
  std::string env = e.proc.env ? *e.proc.env : std::string();
  if (!a.present) {
    env.clear();
    std::size_t i = 0;
    while (i <= t.size()) {
      std::size_t end = t.find(' ', i);
      if (end == std::string_view::npos) end = t.size();
      if (end > i) env.append(t.substr(i, end - i)).push_back('\0');
      i = end + 1;
    }
  } else {
    std::string_view old;
    if (FindEnv(env, a.key, &old)) return "proc.env[" + a.key + "] is set twice";
    env.append(a.key).append("=").append(t).push_back('\0');
  }
  e.proc.env = std::make_shared<const std::string>(std::move(env));
  return "";
}

std::string SetEnvTruncated(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  std::string error = SetBool(t, &e.proc.env_truncated);
  if (error.empty() && !e.proc.env) e.proc.env = std::make_shared<const std::string>();
  return error;
}

constexpr FieldDef kRows[] = {
    {kEnv, "proc.env", T::kString, A::kAny, true,
     "Environment of the image as exec'd, space-separated (\"HOME=/root PATH=/usr/bin\"); [NAME] one "
     "variable's value (\"\" when unset). Captured only while a loaded rule or output reads it.",
     GetEnv, SetEnv},
    {kAenv, "proc.aenv", T::kString, A::kAny, true,
     "Ancestor environment: [N] the Nth ancestor's (0 self, 1 parent); [NAME] the value in the nearest "
     "of 20 ancestors (from the parent) that has it. Without an argument: <NA>.",
     GetAEnv, nullptr},
    {kEnvTruncated, "proc.env_truncated", T::kBool, A::kNone, true,
     "vigil: the environment was longer than the capture keeps (4096 bytes): proc.env has its first "
     "entries only.",
     GetEnvTruncated, SetEnvTruncated},
};
static_assert(IdsInOrder(kRows));

}  // namespace

bool FieldNeedsEnv(const FieldDef& def) {
  return def.get == GetEnv || def.get == GetAEnv || def.get == GetEnvTruncated;
}

std::span<const FieldDef> EnvFields() { return kRows; }

}  // namespace vigil
