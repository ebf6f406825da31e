// SPDX-License-Identifier: Apache-2.0
// Rule-test setters shared by several families, and those made from the
// member table (engine/event_members.h): a field named as the JSON key of a
// number, string, boolean or file-time member of the event or of the acting
// process sets that member, as a JSON line would.
#include <stdexcept>

#include "engine/event_members.h"
#include "engine/fields/family.h"

namespace vigil {

bool ParseI64(std::string_view t, int64_t* v) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

std::string SetBool(std::string_view t, bool* out) {
  if (t == "true") *out = true;
  else if (t == "false") *out = false;
  else return "expected true or false, got '" + std::string(t) + "'";
  return "";
}

std::string SetFileTime(int64_t* dst, std::string_view t) {
  if (t == "now") return *dst = kFileTimeNow, "";
  if (t == "omit") return *dst = kFileTimeOmit, "";
  int64_t v;
  if (!ParseI64(t, &v) || v < kFileTimeMin) return "expected ns since the epoch, now or omit";
  *dst = v;
  return "";
}

std::string SetFilePath(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.file.path = std::string(t);
  return "";
}

std::string SetFileAbspath(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.file.abspath = std::string(t);
  return "";
}

std::string SetFileTarget(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.file.target = std::string(t);
  return "";
}

std::string SetFdNum(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  return SetNumber(t, [&](int64_t v) { e.file.fd = e.net.fd = static_cast<int32_t>(v); });
}

std::string SetRawRes(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  return SetNumber(t, [&](int64_t v) { e.res = v; });
}

std::string SetMember(Event&, OwnedAncestors&, const FieldArg&, std::string_view) {
  throw std::logic_error("SetMember is a placeholder AllFields() replaces");
}

namespace {

template <typename T>
std::string SetMemberNum(T* v, std::string_view t) {
  return SetNumber(t, [&](int64_t x) { *v = static_cast<T>(x); });
}
std::string SetMemberStr(std::string* v, std::string_view t) {
  v->assign(t);
  return "";
}
std::string SetMemberBool(bool* v, std::string_view t) { return SetBool(t, v); }
std::string SetMemberFileTime(int64_t* v, std::string_view t) { return SetFileTime(v, t); }

#define VIGIL_MEMBER_SETTER(key, expr, codec)                                                        \
  {key, [](Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetMember##codec(&expr, t); }},
#define VIGIL_SETTER_Num(key, expr) VIGIL_MEMBER_SETTER(key, expr, Num)
#define VIGIL_SETTER_Str(key, expr) VIGIL_MEMBER_SETTER(key, expr, Str)
#define VIGIL_SETTER_Bool(key, expr) VIGIL_MEMBER_SETTER(key, expr, Bool)
#define VIGIL_SETTER_FileTime(key, expr) VIGIL_MEMBER_SETTER(key, expr, FileTime)
#define VIGIL_SETTER_Ip(key, expr)
#define VIGIL_SETTER_Array(key, expr)
#define VIGIL_SETTER_Helpers(key, expr)
#define VIGIL_SETTER_Argv(key, expr)
#define VIGIL_SETTER_Env(key, expr)
#define VIGIL_SETTER_Session(key, expr)
#define VIGIL_SETTER_Stdio(key, expr)
#define VIGIL_SETTER_ExeLayer(key, expr)
#define VIGIL_SETTER_Buffer(key, expr)  // buffer.cpp's SetBuffer
#define VIGIL_SETTER_Type(key, expr)
#define VIGIL_SETTER_WallTime(key, expr)
#define VIGIL_SETTER_Process(key, expr)
#define VIGIL_EVENT_SETTER(key, m, codec, when, anc) VIGIL_SETTER_##codec(key, e.m)
#define VIGIL_PROCESS_SETTER(key, m, codec, when, anc) VIGIL_SETTER_##codec(key, e.proc.m)
const std::pair<const char*, FieldSetter> kMemberSetters[] = {
    VIGIL_EVENT_MEMBERS(VIGIL_EVENT_SETTER) VIGIL_PROCESS_MEMBERS(VIGIL_PROCESS_SETTER)};
#undef VIGIL_EVENT_SETTER
#undef VIGIL_PROCESS_SETTER
#undef VIGIL_MEMBER_SETTER

}  // namespace

FieldSetter MemberSetter(std::string_view key) {
  for (const auto& [k, set] : kMemberSetters)
    if (key == k) return set;
  return nullptr;
}

}  // namespace vigil
