/* SPDX-License-Identifier: Apache-2.0 */
// EnforcementManager: loads bpf/enforce/enforce.bpf.c, writes a compiled
// policy (engine/policy) into its maps, swaps policies atomically, and turns
// the kernel's refusal records into attributable values for the agent.
//
// Mechanisms, decided once at Create() from the kernel:
// - BPF LSM active ("bpf" in /sys/kernel/security/lsm; an attach alone proves
//   nothing, the hook may be a stub the kernel never calls): every hook class
//   is enforced by its LSM program (-EPERM; kill = SIGKILL + -EPERM).
// - Otherwise: exec `kill` by SIGKILL from sched_process_exec; connect `deny`
//   by cgroup connect4/6 on the cgroup v2 root; every other deny degrades per
//   EnforceOptions::degrade (kill where a kill path exists, else alert only).
//   Report() says, per rule, which mechanism applies and why.
//
// Contract:
// - Create() and Install() are start-up/reload calls (they allocate, log, and
//   need root). Install() is all-or-nothing: it writes the whole policy into
//   the inactive generation of every map and then flips one word; programs
//   read that word once per decision, so each decision sees exactly one
//   complete policy. The previous generation stays intact until the next
//   Install() (a decision in flight keeps a consistent view). On error the
//   active policy is unchanged.
// - PollRefusals() is for the agent's hot thread: no allocation beyond the
//   callback, no throw.
// - One EnforcementManager per process; destroying it detaches everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/object_ids.h"
#include "engine/non_copyable.h"
#include "engine/policy/policy.h"

namespace vigil::enforce {

enum class Degrade : uint8_t { kAlert, kKill };

struct EnforceOptions {
  Degrade degrade = Degrade::kAlert;  // what a deny becomes where the kernel cannot deny
  bool disable_lsm = false;           // test/bench switch: use the fallback path even with BPF LSM
  std::string cgroup_root;  // cgroup v2 mount for connect4/6; "" = the first cgroup2 mount in /proc/self/mounts
};

enum class Mechanism : uint8_t { kLsm, kTracepointKill, kCgroupConnect, kAlertOnly, kNotEnforced };
const char* MechanismName(Mechanism m);

// How one rule of the installed policy is enforced.
struct RuleEnforcement {
  std::string rule;
  policy::HookClass hook = policy::HookClass::kExec;
  policy::Action action = policy::Action::kDeny;  // as written
  Mechanism mechanism = Mechanism::kNotEnforced;
  std::string effective;  // "deny", "kill" or "alert"
  std::string reason;     // why this mechanism (empty when LSM enforces as written)
};

// Refusal::rule_id of a self-protection refusal (its rule is "vigil self-protection").
inline constexpr uint32_t kSelfProtectionRuleId = 0xFFFFFFFFu;

// One refusal the kernel made.
struct Refusal {
  uint64_t ts_ns = 0;  // CLOCK_MONOTONIC
  uint32_t pid = 0, tid = 0;
  policy::HookClass hook = policy::HookClass::kExec;
  uint32_t rule_id = 0;
  const char* rule = "";   // name in the policy that was active (valid until the second next Install)
  const char* action = "";  // "deny" or "kill": the value for Event::enforcement
  char comm[16] = {};
};

// Kernel ids of BPF objects that are vigil's own (self-protection).
using SelfIds = bpfobj::ObjectIds;

// `vigil probe`: one line per capability (hook class x action) with the mechanism this kernel
// gives it. Needs no loaded object; reads /sys/kernel/security/lsm and cgroup2.
struct CapabilityProbe {
  std::string capability;  // e.g. "exec deny"
  std::string mechanism;   // e.g. "BPF LSM bprm_check_security", "alert only (no BPF LSM)"
};
bool BpfLsmActive(std::string* lsm_list = nullptr);
// The cgroup v2 mount point ("" when none is mounted).
std::string FindCgroup2Root();
// BpfLsmActive() and an LSM program loads (start-up only; needs root).
bool BpfLsmUsable(std::string* lsm_list = nullptr);
std::vector<CapabilityProbe> ProbeEnforcement(const EnforceOptions& options = EnforceOptions{});

class EnforcementManager : NonCopyable {
 public:
  static std::unique_ptr<EnforcementManager> Create(const EnforceOptions& options, std::string* error);
  ~EnforcementManager();

  // Installs `spec` (all or nothing; see the contract above). nullopt on success.
  std::optional<std::string> Install(const policy::PolicySpec& spec);
  // Per rule of the installed policy, how it is enforced (also logged by Install()).
  const std::vector<RuleEnforcement>& Report() const { return report_; }
  bool lsm() const { return lsm_; }
  // LSM programs that loaded and attached, by hook name.
  const std::vector<std::string>& hooks() const { return hooks_; }

  // Self-protection. OwnIds(): the ids of this object's programs, maps and links (queried from the
  // kernel). RegisterSelfIds(): adds `ids` (e.g. the capture sensor's) to the set the LSM `bpf`
  // hook refuses to other processes (BPF_PROG/MAP/LINK_GET_FD_BY_ID -> EPERM + a refusal record
  // with rule "vigil self-protection"). Idempotent; the own ids are registered by Create().
  // Without BPF LSM the ids are stored but nothing refuses (the agent alerts instead). Start-up /
  // reload call; nullopt on success.
  SelfIds OwnIds() const;
  std::optional<std::string> RegisterSelfIds(const SelfIds& ids);
  // Integrity of what only vigil writes: ve_config (active generation, armed, agent pid) and the
  // active generation's per-hook rule masks, compared with what Install() wrote. A difference
  // means another process wrote vigil's policy maps (nullopt: intact). Cheap (9 map reads).
  std::optional<std::string> CheckPolicyIntegrity() const;

  // Calls `on` for each refusal record waiting (up to timeout_ms for the first). Returns the
  // number handled, or -errno.
  int PollRefusals(int timeout_ms, const std::function<void(const Refusal&)>& on);
  // Refusals the kernel made at `hook` (counter), and records the ring buffer dropped.
  uint64_t RefusalCount(policy::HookClass hook) const;
  uint64_t DroppedRecords() const;
  // Helper-id scans that could not read the program's instructions (the rule
  // then matched: fail closed).
  uint64_t HelperScanFailures() const;

 private:
  EnforcementManager() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool lsm_ = false;
  std::vector<std::string> hooks_;
  std::vector<RuleEnforcement> report_;
  Degrade options_degrade_ = Degrade::kAlert;

  RuleEnforcement Decide(const policy::PolicyRule& rule) const;
  // Create()'s two attach paths: the BPF LSM hooks (and the helper scan), or
  // the fallback (exec tracepoint + SIGKILL, cgroup connect hooks).
  void AttachLsm(bool have_loop, bool have_prog_load_hook);
  void AttachFallback(const EnforceOptions& options, const std::string& lsm_list);
};

}  // namespace vigil::enforce
