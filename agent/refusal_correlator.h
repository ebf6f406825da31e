// SPDX-License-Identifier: Apache-2.0
// Matches the kernel's refusals (bpf/enforce: a deny or kill it made) with the
// alerts of the events that show them, so an alert says what the kernel did
// ("enforcement": "deny") and no refusal goes unreported.
//
// A refusal record and the captured event of the same call arrive on two ring
// buffers in either order. A refusal waits, keyed by thread, for the event
// that shows it (the syscall's EPERM, or the exec a kill interrupted): a rule
// alert on that thread claims it. One no alert claims within a whole poll
// round becomes an alert of its own, since the kernel can match what the
// engine sees differently (a script's path vs. its interpreter), and an
// enforcement action is never silent.
//
// Self-protection (rule "vigil self-protection", refused by the BPF LSM bpf
// hook) has its own alert built from the capture's bpf() event; when that
// alert came first, the thread is remembered so its record does not alert a
// second time.
//
// Contract: hot thread only, no locks. Bounded: at most kMaxPending refusals
// wait (a flood beyond that is logged with its count and the waiting ones are
// given up), at most kMaxPending covered threads are remembered, each for
// kCoveredRounds poll rounds.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/enforce/enforcement.h"
#include "engine/alert.h"
#include "engine/rule_engine.h"

namespace vigil::agent {

inline constexpr const char* kSelfProtectionRule = "vigil self-protection";

class RefusalCorrelator {
 public:
  static constexpr std::size_t kMaxPending = 4096;
  static constexpr int kCoveredRounds = 20;

  // A refusal record from EnforcementManager::PollRefusals(); logged here.
  void OnRefusal(const enforce::Refusal& r);
  // A rule fired on an event of thread `tid`: the kernel's action on that
  // thread ("deny" or "kill"), consumed, or "" when none waits.
  std::string ClaimForRule(uint32_t tid);
  // The self-protection alert for a bpf() event of thread `tid` is being made;
  // `refused_by_lsm`: its result is EPERM under BPF LSM (the record may not be
  // read yet). The kernel's action, or "" when it did not refuse.
  std::string ClaimForSelfProtection(uint32_t tid, bool refused_by_lsm);
  // Once per poll round, before polling new records: the refusals no alert
  // claimed for a whole round, as alerts (priority, tags and action from
  // their rule in `engine` when it has one).
  std::vector<Alert> Expire(const RuleEngine& engine);

  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    enforce::Refusal refusal;
    std::string rule;  // owned: Refusal::rule dies with the policy that named it
    int rounds = 0;
  };
  std::unordered_map<uint32_t, Pending> pending_;  // by thread
  std::unordered_map<uint32_t, int> covered_;      // thread -> rounds waited
};

}  // namespace vigil::agent
