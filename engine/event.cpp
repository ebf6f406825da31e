// SPDX-License-Identifier: Apache-2.0
#include "engine/event.h"

#include <algorithm>

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

// Every member back to its default, in place: a string or vector keeps its
// capacity (argv's elements go to the pool). Assigning a fresh struct and
// moving the buffers back in was an eighth of `vigil events`' time at a few
// hundred thousand events per second. tests/unit/event_model_test.cpp fails
// when a member is added to one of these structs and not cleared here.
void ResetProcess(ProcessInfo& p) {
  p.pid = p.tid = p.ppid = p.vpid = p.pidns_level = 0;
  p.uid = p.gid = p.euid = p.egid = 0;
  p.loginuid = kNoLoginUid;
  p.cap_effective = p.cap_permitted = 0;
  p.start_ns = p.exec_ns = 0;
  p.name.clear();
  p.exepath.clear();
  ReleaseArgv(p.argv);
  p.argv_truncated = false;
  p.env.reset();
  p.env_truncated = false;
  p.exe_32bit = false;
  p.cwd.clear();
  p.cgroup_id = 0;
  p.cgroup.clear();
  p.container_id.clear();
  p.ns = Namespaces{};
  p.tty = 0;
  p.sid = p.pgid = p.vsid = p.vpgid = 0;
  p.session_known = false;
  p.stdio = {};
  p.stdin_name.clear();
}

void ResetFile(FileArgs& f) {
  f.fd = -1;
  f.path.clear();
  f.abspath.clear();
  f.resolved.clear();
  f.target.clear();
  f.target_abs.clear();
  f.flags = f.mode = 0;
  f.owner_uid = f.owner_gid = 0xffffffffu;
  f.fstype.clear();
  f.source.clear();
  f.length = 0;
  f.xattr_name.clear();
  f.atime = f.mtime = kFileTimeUnset;
}

void ResetNet(NetArgs& n) {
  n.fd = -1;
  n.family = 0;
  n.type = n.protocol = 0;
  n.local_addr = IpAddr{};
  n.local_port = 0;
  n.remote_addr = IpAddr{};
  n.remote_port = 0;
  n.unix_path.clear();
  n.backlog = n.sockopt_level = n.sockopt_name = 0;
  n.size = 0;
}

void ResetBpf(BpfArgs& b) {
  b.cmd = -1;
  b.prog_type = b.expected_attach_type = b.attach_type = b.insn_cnt = b.prog_flags = b.attach_btf_id = 0;
  b.prog_name.clear();
  b.license.clear();
  b.helpers = {};
  b.helpers_complete = false;
  b.map_type = 0;
  b.map_name.clear();
  b.id = 0;
  b.target_fd = -1;
  b.target.clear();
}

void ResetArgs(ProcArgs& a) {
  a.flags = 0;
  a.target_pid = 0;
  a.request = 0;
  a.fd = a.oldfd = a.newfd = -1;
  a.ids[0] = a.ids[1] = a.ids[2] = 0xffffffffu;
  a.caps[0] = a.caps[1] = a.caps[2] = 0;
  a.name.clear();
  a.exit_code = a.exit_signal = 0;
}

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
  type = EventType::execve;
  ts_ns = wall_ns = 0;
  res = 0;
  ResetProcess(proc);
  ancestors = nullptr;
  container.reset();
  ResetFile(file);
  ResetNet(net);
  ResetBpf(bpf);
  ResetArgs(args);
  enforcement.clear();
  compat = compat_from_64bit = false;
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

}  // namespace vigil
