// SPDX-License-Identifier: Apache-2.0
#include "engine/event.h"

#include <algorithm>

#include "engine/event_members.h"

namespace vigil {
namespace {

constexpr std::string_view kEventTypeNames[] = {
#define VG_EVENT(num, TYPE, name, kind, hook, families) #name,
#include "bpf/vigil_events.def"
#define VIGIL_X(name) #name,
    VIGIL_SYNTHESIZED_EVENT_TYPES(VIGIL_X)
#undef VIGIL_X
};
static_assert(std::size(kEventTypeNames) == kEventTypeCount);

// Buffers of argv strings released by Reset(), reused by AssignArgv and
// AppendArgv on the same thread; bounded so one huge argv does not pin memory.
constexpr std::size_t kSpareArgs = 256;
thread_local std::vector<std::string> g_spare_args;

void ReleaseArgv(std::vector<std::string>& argv) {
  for (auto& a : argv) {
    if (g_spare_args.size() >= kSpareArgs) break;
    a.clear();
    g_spare_args.push_back(std::move(a));
  }
  argv.clear();
}

// StdioType's names, by value (StdioTypeName).
constexpr std::string_view kStdioTypeNames[] = {"", "none", "file", "pipe", "socket", "char", "directory", "block",
                                                "other"};

// Every member back to its default, in place, by the table of members
// (engine/event_members.h): a string or vector keeps its capacity (argv's
// elements go to the pool). Assigning a fresh struct and moving the buffers
// back in was an eighth of `vigil events`' time at a few hundred thousand
// events per second. tests/unit/event_model_test.cpp fails when a member is
// added to one of these structs and not to the table.
template <typename T, typename C>
void ClearNum(T& v, const T& d, C&) { v = d; }
template <typename C>
void ClearStr(std::string& v, const std::string& d, C&) { v.assign(d); }
template <typename C>
void ClearBool(bool& v, bool d, C&) { v = d; }
template <typename C>
void ClearIp(IpAddr& v, const IpAddr& d, C&) { v = d; }
template <typename C>
void ClearFileTime(int64_t& v, int64_t d, C&) { v = d; }
template <typename T, std::size_t N, typename C>
void ClearArray(T (&v)[N], const T (&d)[N], C&) { std::copy(d, d + N, v); }
template <typename C>
void ClearHelpers(std::array<uint64_t, 4>& v, const std::array<uint64_t, 4>& d, C&) { v = d; }
void ClearArgv(std::vector<std::string>& v, const std::vector<std::string>&, ProcessInfo&) { ReleaseArgv(v); }
template <typename T>
void ClearEnv(T&, const T&, ProcessInfo& p) {
  p.env.reset();
  p.env_truncated = false;
}
template <typename T>
void ClearSession(T&, const T&, ProcessInfo& p) {
  p.sid = p.pgid = p.vsid = p.vpgid = 0;
  p.session_known = false;
}
template <typename T>
void ClearStdio(T&, const T&, ProcessInfo& p) {
  p.stdio = {};
  p.stdin_name.clear();
}
template <typename C>
void ClearExeLayer(ExeLayer& v, ExeLayer d, C&) { v = d; }
void ClearBuffer(DataBuffer& v, const DataBuffer&, Event&) {
  v.bytes.clear();  // keeps its capacity
  v.captured = false;
  v.cut = false;
}
void ClearType(EventType& v, EventType d, Event&) { v = d; }
void ClearWallTime(uint64_t& v, uint64_t d, Event&) { v = d; }

void ResetProcess(ProcessInfo& p) {
  static const ProcessInfo d;
#define VIGIL_CLEAR(key, m, codec, when, anc) Clear##codec(p.m, d.m, p);
  VIGIL_PROCESS_MEMBERS(VIGIL_CLEAR)
#undef VIGIL_CLEAR
}
void ClearProcess(ProcessInfo& v, const ProcessInfo&, Event&) { ResetProcess(v); }

}  // namespace

std::string_view StdioTypeName(StdioType t) {
  auto i = static_cast<std::size_t>(t);
  return i < std::size(kStdioTypeNames) ? kStdioTypeNames[i] : std::string_view();
}

bool StdioTypeFromName(std::string_view name, StdioType* t) {
  for (std::size_t i = 1; i < std::size(kStdioTypeNames); ++i) {
    if (kStdioTypeNames[i] == name) {
      *t = static_cast<StdioType>(i);
      return true;
    }
  }
  return false;
}

std::string_view EventTypeName(EventType type) {
  auto i = static_cast<std::size_t>(type);
  return i < kEventTypeCount ? kEventTypeNames[i] : std::string_view("unknown");
}

bool EventTypeFromName(std::string_view name, EventType* out) {
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    if (kEventTypeNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

void AppendArgv(std::vector<std::string>* dst, std::string_view arg) {
  if (g_spare_args.empty()) {
    dst->emplace_back(arg);
    return;
  }
  dst->push_back(std::move(g_spare_args.back()));
  g_spare_args.pop_back();
  dst->back().assign(arg);
}

void AssignArgv(std::vector<std::string>* dst, const std::vector<std::string>& src) {
  if (dst == &src) return;
  ReleaseArgv(*dst);
  for (const auto& a : src) AppendArgv(dst, a);
}

std::string ProcessInfo::ExecId() const {
  return std::to_string(pid) + ":" + std::to_string(start_ns);
}

void Event::Reset() {
  static const Event d;
#define VIGIL_CLEAR(key, m, codec, when, anc) Clear##codec(m, d.m, *this);
  VIGIL_EVENT_MEMBERS(VIGIL_CLEAR)
#undef VIGIL_CLEAR
  ancestors = nullptr;  // not written: the producer points it at the event's view
  container.reset();    // not written: the runtime's metadata, looked up again on replay
}

void JoinEnv(std::string_view env, std::string* out) {
  out->clear();
  std::size_t i = 0;
  while (i < env.size()) {
    std::size_t end = env.find('\0', i);
    if (end == std::string_view::npos) end = env.size();
    if (end > i) {
      if (!out->empty()) out->push_back(' ');
      out->append(env.substr(i, end - i));
    }
    i = end + 1;
  }
}

bool FindEnv(std::string_view env, std::string_view name, std::string_view* value) {
  std::size_t i = 0;
  while (i < env.size()) {
    std::size_t end = env.find('\0', i);
    if (end == std::string_view::npos) end = env.size();
    std::string_view entry = env.substr(i, end - i);
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.substr(0, name.size()) == name) {
      *value = entry.substr(name.size() + 1);
      return true;
    }
    i = end + 1;
  }
  return false;
}

std::shared_ptr<const std::string> MakeEnv(std::string_view bytes, bool truncated) {
  if (truncated) {
    std::size_t last = bytes.rfind('\0');
    bytes = last == std::string_view::npos ? std::string_view() : bytes.substr(0, last + 1);
  }
  auto env = std::make_shared<std::string>(bytes);
  if (!env->empty() && env->back() != '\0') env->push_back('\0');
  return env;
}

void AppendHex(std::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out->push_back(kDigits[b >> 4]);
    out->push_back(kDigits[b & 15]);
  }
}

bool ParseHex(std::string_view hex, std::string* out) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace vigil
