#include "engine/event.h"

#include <algorithm>

namespace vigil {
namespace {

constexpr std::string_view kEventTypeNames[] = {
#define VIGIL_X(name) #name,
    VIGIL_EVENT_TYPES(VIGIL_X)
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

void ResetProcess(ProcessInfo& p) {
  auto name = std::move(p.name);
  auto exepath = std::move(p.exepath);
  auto argv = std::move(p.argv);
  auto cwd = std::move(p.cwd);
  auto cgroup = std::move(p.cgroup);
  auto container_id = std::move(p.container_id);
  name.clear();
  exepath.clear();
  ReleaseArgv(argv);
  cwd.clear();
  cgroup.clear();
  container_id.clear();
  p = ProcessInfo{};
  p.name = std::move(name);
  p.exepath = std::move(exepath);
  p.argv = std::move(argv);
  p.cwd = std::move(cwd);
  p.cgroup = std::move(cgroup);
  p.container_id = std::move(container_id);
}

}  // namespace

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

  // Keep string capacity in the argument blocks, reset everything else.
  auto keep = [](std::string& s) {
    std::string t = std::move(s);
    t.clear();
    return t;
  };
  {
    auto path = keep(file.path), abspath = keep(file.abspath), target = keep(file.target),
         target_abs = keep(file.target_abs), fstype = keep(file.fstype), source = keep(file.source);
    file = FileArgs{};
    file.path = std::move(path);
    file.abspath = std::move(abspath);
    file.target = std::move(target);
    file.target_abs = std::move(target_abs);
    file.fstype = std::move(fstype);
    file.source = std::move(source);
  }
  {
    auto unix_path = keep(net.unix_path);
    net = NetArgs{};
    net.unix_path = std::move(unix_path);
  }
  {
    auto prog_name = keep(bpf.prog_name), license = keep(bpf.license), map_name = keep(bpf.map_name),
         target = keep(bpf.target);
    bpf = BpfArgs{};
    bpf.prog_name = std::move(prog_name);
    bpf.license = std::move(license);
    bpf.map_name = std::move(map_name);
    bpf.target = std::move(target);
  }
  {
    auto name = keep(args.name);
    args = ProcArgs{};
    args.name = std::move(name);
  }
  enforcement.clear();
}

}  // namespace vigil
