/* SPDX-License-Identifier: Apache-2.0 */
// SelfMonitor: the parts of self-protection that work on every kernel, with or
// without BPF LSM (where the LSM `bpf` hook refuses access outright, see
// EnforcementManager::RegisterSelfIds).
//
// 1. Access by id. Another process can only act on vigil's BPF objects through
//    an fd, and the only way to get an fd for an object it did not create is
//    bpf(BPF_PROG/MAP/LINK_GET_FD_BY_ID) with the object's id (or
//    BPF_OBJ_GET on a pin: vigil pins nothing). ForeignAccess() recognises the
//    capture's bpf() event of such a call naming one of vigil's ids, from a
//    process other than vigil; the agent turns it into a built-in alert. So a
//    detach (BPF_LINK_DETACH), a program swap (BPF_LINK_UPDATE), a pin
//    (BPF_OBJ_PIN) or a map write on vigil's objects is always preceded by an
//    alerted GET_FD_BY_ID.
// 2. Integrity. Check() re-reads, through vigil's own fds, the info of every
//    watched link and compares it with what it was when watched: a link whose
//    program was replaced (BPF_LINK_UPDATE) or that was detached from its
//    target (BPF_LINK_DETACH: cgroup links lose their cgroup id) is reported
//    once. Programs and maps cannot disappear while vigil holds their fds.
//
// Contract: Watch() is a start-up/reload call (opens fds, allocates).
// ForeignAccess() is for the hot thread: no allocation, no throw, O(log n).
// Check() is for a periodic tick (one bpf() syscall per watched link).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/enforce/enforcement.h"
#include "engine/event.h"
#include "engine/non_copyable.h"

namespace vigil::enforce {

// bpf(2) command numbers (include/uapi/linux/bpf.h, enum bpf_cmd); stable ABI.
inline constexpr int32_t kBpfProgGetFdById = 13;
inline constexpr int32_t kBpfMapGetFdById = 14;
inline constexpr int32_t kBpfLinkGetFdById = 30;

// "BPF_PROG_GET_FD_BY_ID" etc. for the three commands above; "" otherwise.
const char* GetFdByIdName(int32_t cmd);

class SelfMonitor : NonCopyable {
 public:
  SelfMonitor();
  ~SelfMonitor();

  // Adds `ids` to the watched set (ids already watched are kept as they are).
  // Links are opened by id from this process and their info recorded.
  void Watch(const SelfIds& ids);
  // True when `ev` is a bpf() *_GET_FD_BY_ID naming a watched id and its
  // process is not `self_pid`.
  bool ForeignAccess(const Event& ev, uint32_t self_pid) const;
  // Problems found since the last call, each reported once ("link 12 (type
  // cgroup, program 40): detached from cgroup 1 ..."). Empty: all intact.
  std::vector<std::string> Check();

  std::size_t watched_progs() const { return progs_.size(); }
  std::size_t watched_maps() const { return maps_.size(); }
  std::size_t watched_links() const { return links_.size(); }

 private:
  struct Link;
  std::vector<uint32_t> progs_, maps_, links_;  // sorted
  std::vector<std::unique_ptr<Link>> watched_;
};

}  // namespace vigil::enforce
