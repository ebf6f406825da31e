// SPDX-License-Identifier: Apache-2.0
#include "agent/self_protection.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <charconv>
#include <string_view>

#include "agent/refusal_correlator.h"
#include "agent/self_alerts.h"
#include "bpf/sensor.h"
#include "engine/rule_engine.h"

namespace vigil::agent {

namespace {

// "/proc/<n>/mem" or "/proc/<n>/task/<m>/mem": the pid whose memory it is
// (the thread's for task/), else -1. Not environ or maps: procps-ng 4's
// `ps aux` opens /proc/<pid>/environ of every process (strace on Debian 12),
// and both are PTRACE_MODE_READ, which the LSM hook leaves alone too.
int64_t ProcMemoryFilePid(std::string_view path, std::string_view* what) {
  auto number = [&path]() -> int64_t {
    int64_t n = -1;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), n);
    if (ec != std::errc() || end == path.data() || end == path.data() + path.size() || *end != '/') return -1;
    path.remove_prefix(static_cast<std::size_t>(end - path.data()) + 1);
    return n;
  };
  if (!path.starts_with("/proc/")) return -1;
  path.remove_prefix(6);
  int64_t pid = number();
  if (pid < 0) return -1;
  if (path.starts_with("task/")) {
    path.remove_prefix(5);
    pid = number();
    if (pid < 0) return -1;
  }
  if (path != "mem") return -1;
  *what = path;
  return pid;
}

std::string_view OpenedPath(const Event& ev) { return ev.file.abspath.empty() ? ev.file.path : ev.file.abspath; }

const char* PtraceRequestName(int64_t request) {
  return request == kPtraceAttach ? "PTRACE_ATTACH" : request == kPtraceSeize ? "PTRACE_SEIZE" : "?";
}

// What every access alert says: `what` was done by the event's process; the
// kernel refused it (`enforced`); calls held back since the last alert.
Alert AccessAlertBase(const Event& ev, const std::string& what, const std::string& enforced, bool lsm,
                      uint64_t suppressed) {
  Alert a = SelfAlert(kSelfProtectionRule, Priority::kCritical,
                      fmt::format("{} by pid {} ({}, {}){}{}", what, ev.proc.pid, ev.proc.name, ev.proc.exepath,
                                  enforced.empty() ? "" : "; refused by the kernel",
                                  suppressed ? fmt::format("; {} more such calls by this process before", suppressed)
                                             : std::string()));
  a.source = "syscall";
  a.action = lsm ? "deny" : "alert";  // only under BPF LSM does vigil ask the kernel to refuse
  a.enforcement = enforced;
  FillAlertContext(ev, &a);
  return a;
}

}  // namespace

compile::EventTypeSet SelfProtectionEventTypes() {
  compile::EventTypeSet t;
  for (EventType e : {EventType::bpf, EventType::ptrace, EventType::pidfd_getfd, EventType::process_vm_readv,
                      EventType::process_vm_writev})
    t.set(static_cast<std::size_t>(e));
  return t;
}

bool SelfProtection::IsSelf(int64_t pid) const {
  if (pid <= 0) return false;
  if (pid == self_pid_) return true;
  // One of vigil's threads (pidfds, ptrace and /proc/<tid> name threads too).
  char path[48];
  std::snprintf(path, sizeof path, "/proc/self/task/%lld", static_cast<long long>(pid));
  struct stat st{};
  return ::stat(path, &st) == 0;
}

bool SelfProtection::TargetsSelf(const Event& ev) const {
  if (ev.proc.pid == self_pid_) return false;
  switch (ev.type) {
    case EventType::ptrace:
      return (ev.args.request == kPtraceAttach || ev.args.request == kPtraceSeize) && IsSelf(ev.args.target_pid);
    case EventType::pidfd_getfd:
    case EventType::process_vm_readv:
    case EventType::process_vm_writev: return IsSelf(ev.args.target_pid);
    case EventType::open:
    case EventType::openat:
    case EventType::openat2: {
      std::string_view what;
      const int64_t pid = ProcMemoryFilePid(OpenedPath(ev), &what);
      return pid >= 0 && IsSelf(pid);
    }
    default: return false;
  }
}

bool SelfProtection::HoldBack(uint64_t key, Clock::time_point now, uint64_t* suppressed) {
  if (alerted_.size() > 4096) alerted_.clear();  // bounded; at worst one more alert per process
  auto& [last, held] = alerted_[key];
  if (last.time_since_epoch().count() != 0 && now - last < kAlertInterval) {
    ++held;
    return true;
  }
  last = now;
  *suppressed = held;
  held = 0;
  return false;
}

std::optional<Alert> SelfProtection::TargetAlert(const Event& ev, const std::string& enforced, bool lsm,
                                                 Clock::time_point now) {
  // Keys of the bpf() alerts hold a bpf command below 2^16; these use 2^16 + event type.
  const uint64_t key = (uint64_t{ev.proc.pid} << 32) | (0x10000u + static_cast<uint32_t>(ev.type));
  uint64_t suppressed = 0;
  if (HoldBack(key, now, &suppressed)) return std::nullopt;
  std::string what;
  std::string_view file;
  switch (ev.type) {
    case EventType::ptrace:
      what = fmt::format("ptrace({}) of vigil (pid {})", PtraceRequestName(ev.args.request), ev.args.target_pid);
      break;
    case EventType::pidfd_getfd:
      what = fmt::format("pidfd_getfd of vigil's fd {} (pid {})", ev.args.oldfd, ev.args.target_pid);
      break;
    case EventType::process_vm_readv:
    case EventType::process_vm_writev:
      what = fmt::format("{} of vigil's memory (pid {})", EventTypeName(ev.type), ev.args.target_pid);
      break;
    default:
      file = OpenedPath(ev);
      what = fmt::format("open of {}", file);
      break;
  }
  Alert a = AccessAlertBase(ev, what, enforced, lsm, suppressed);
  a.output_fields = {{"proc.pid", uint64_t{ev.proc.pid}},
                     {"proc.name", ev.proc.name},
                     {"proc.exepath", ev.proc.exepath},
                     {"evt.type", std::string(EventTypeName(ev.type))},
                     {"evt.res", int64_t{ev.res}}};
  if (file.empty()) a.output_fields.emplace_back("evt.arg.pid", int64_t{ev.args.target_pid});
  else a.output_fields.emplace_back("fd.name", std::string(file));
  if (ev.type == EventType::ptrace)
    a.output_fields.emplace_back("evt.arg.request", std::string(PtraceRequestName(ev.args.request)));
  if (ev.type == EventType::pidfd_getfd) a.output_fields.emplace_back("evt.arg.targetfd", int64_t{ev.args.oldfd});
  return a;
}

void SelfProtection::Watch(const capture::Sensor* sensor, enforce::EnforcementManager* enforcer) {
  // one type: bpfobj::ObjectIds
  const enforce::SelfIds capture_ids = sensor ? sensor->ObjectIds() : capture::OwnObjectIds{};
  if (enforcer) {
    if (auto err = enforcer->RegisterSelfIds(capture_ids))
      spdlog::error("self-protection: capture ids not registered with the kernel: {}", *err);
    monitor_.Watch(enforcer->OwnIds());
  }
  monitor_.Watch(capture_ids);  // last: its own fds on the links mark the registration done
  spdlog::info("self-protection: watching {} programs, {} maps, {} links ({})", monitor_.watched_progs(),
               monitor_.watched_maps(), monitor_.watched_links(),
               enforcer && enforcer->lsm() ? "BPF LSM refuses access by id" : "alert on access by id");
}

std::optional<Alert> SelfProtection::AccessAlert(const Event& ev, const std::string& enforced, bool lsm,
                                                 Clock::time_point now) {
  const uint64_t key = (uint64_t{ev.proc.pid} << 32) | (static_cast<uint32_t>(ev.bpf.cmd) & 0xffffu);
  uint64_t suppressed = 0;
  if (HoldBack(key, now, &suppressed)) return std::nullopt;
  Alert a = AccessAlertBase(
      ev, fmt::format("bpf({}) on vigil's own id {}", enforce::GetFdByIdName(ev.bpf.cmd), ev.bpf.id), enforced,
      lsm, suppressed);
  a.output_fields = {{"proc.pid", uint64_t{ev.proc.pid}}, {"proc.name", ev.proc.name},
                     {"proc.exepath", ev.proc.exepath}, {"bpf.cmd", int64_t{ev.bpf.cmd}},
                     {"bpf.id", uint64_t{ev.bpf.id}},   {"evt.res", int64_t{ev.res}}};
  return a;
}

std::vector<std::string> SelfProtection::CheckIntegrity(const enforce::EnforcementManager* enforcer) {
  std::vector<std::string> problems = monitor_.Check();
  std::string policy_problem;
  if (enforcer)
    if (auto p = enforcer->CheckPolicyIntegrity()) policy_problem = *p;
  // The policy check compares with what was written, so a rewrite stays
  // visible until the next install: report it once, not every second.
  if (!policy_problem.empty() && policy_problem != last_policy_problem_) problems.push_back(policy_problem);
  last_policy_problem_ = policy_problem;
  return problems;
}

}  // namespace vigil::agent
