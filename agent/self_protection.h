// SPDX-License-Identifier: Apache-2.0
// vigil's built-in self-protection, as `vigil run` wires it: not a rule, so
// editing the rules files cannot turn it off. Under BPF LSM the enforcement
// object refuses other processes' GET_FD_BY_ID on vigil's ids; on every kernel
// the capture's bpf() events of such calls become a Critical alert, and a
// periodic check reports vigil's links detached or re-pointed and its policy
// maps rewritten (bpf/enforce/self_protect.h has the mechanisms).
//
// Access to the process itself: another process that ptrace-attaches or
// -seizes vigil, takes one of its fds with pidfd_getfd(2), reads or writes its
// memory with process_vm_readv/writev(2), or opens /proc/<vigil>/mem (when
// the capture sends opens) is a Critical alert on every kernel; under BPF LSM
// the enforcement object's ptrace_access_check hook refuses each of them
// (PTRACE_MODE_ATTACH) first.
//
// Contract:
// - Watch() is a start-up/reload call: it registers the capture's ids with the
//   enforcement object (when there is one) and watches both objects' ids.
// - ForeignAccess(), AccessAlert(), TargetsSelf() and TargetAlert() are for
//   the hot thread (TargetsSelf() may stat /proc/self/task/<n> for the rare
//   call that names another pid).
// - AccessAlert() gives at most one alert per (process, bpf command) in
//   kAlertInterval; the calls it holds back are counted in the next one
//   (`bpftool prog show` opens every program by id: ~100 alerts otherwise).
//   TargetAlert() likewise, per (process, event type).
// - CheckIntegrity() is for a periodic tick; each problem is reported once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bpf/enforce/self_protect.h"
#include "engine/alert.h"
#include "engine/compile/checks.h"
#include "engine/event.h"

namespace vigil::capture {
class Sensor;
}

namespace vigil::agent {

// Event types self-protection reads whatever the rules ask (the capture must
// send them): bpf, ptrace, pidfd_getfd, process_vm_readv, process_vm_writev.
compile::EventTypeSet SelfProtectionEventTypes();

// ptrace(2) requests that attach (include/uapi/linux/ptrace.h).
inline constexpr int64_t kPtraceAttach = 16;
inline constexpr int64_t kPtraceSeize = 0x4206;

class SelfProtection {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kAlertInterval{5};

  explicit SelfProtection(uint32_t self_pid) : self_pid_(self_pid) {}

  // `sensor` and `enforcer` may each be null (no capture; nothing enforced).
  void Watch(const capture::Sensor* sensor, enforce::EnforcementManager* enforcer);
  // `ev` is another process's bpf() *_GET_FD_BY_ID naming one of vigil's ids.
  bool ForeignAccess(const Event& ev) const { return monitor_.ForeignAccess(ev, self_pid_); }
  // `ev` is another process's ptrace attach/seize, pidfd_getfd, process_vm_*
  // or /proc/<pid>/mem open aimed at vigil (pid or thread).
  bool TargetsSelf(const Event& ev) const;
  // The alert for such an event (rule "vigil self-protection", Critical);
  // nullopt while held back. `enforced`, `lsm`: as for AccessAlert().
  std::optional<Alert> TargetAlert(const Event& ev, const std::string& enforced, bool lsm, Clock::time_point now);
  // The alert for a ForeignAccess() event; nullopt while held back. `enforced`: what the
  // kernel did ("deny"/"kill", "" if nothing: RefusalCorrelator); `lsm`: vigil
  // asks the kernel to refuse these calls (BPF LSM).
  std::optional<Alert> AccessAlert(const Event& ev, const std::string& enforced, bool lsm, Clock::time_point now);
  // Problems found since the last call: links, and the policy maps of
  // `enforcer` (may be null).
  std::vector<std::string> CheckIntegrity(const enforce::EnforcementManager* enforcer);

 private:
  enforce::SelfMonitor monitor_;
  uint32_t self_pid_;
  // (pid << 32 | bpf command) -> last alert, calls held back since.
  std::unordered_map<uint64_t, std::pair<Clock::time_point, uint64_t>> alerted_;
  std::string last_policy_problem_;

  bool IsSelf(int64_t pid) const;
  // Rate limit shared by both alerts: true when the alert for `key` is held
  // back; else *suppressed is the number held back since the last one.
  bool HoldBack(uint64_t key, Clock::time_point now, uint64_t* suppressed);
};

}  // namespace vigil::agent
