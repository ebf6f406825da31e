// SPDX-License-Identifier: Apache-2.0
#include "agent/refusal_correlator.h"

#include <spdlog/spdlog.h>

#include "agent/self_alerts.h"

namespace vigil::agent {

void RefusalCorrelator::OnRefusal(const enforce::Refusal& r) {
  if (pending_.size() >= kMaxPending) {
    // Each of them was logged when it came; say how many go unattributed.
    spdlog::warn("enforcement: {} refusals were not attributed to alerts (more than {} pending)", pending_.size(),
                 kMaxPending);
    pending_.clear();
  }
  spdlog::info("enforcement: {} {} (pid {}, {}) by rule '{}'", r.action, policy::HookClassName(r.hook), r.pid, r.comm,
               r.rule);
  if (r.rule_id == enforce::kSelfProtectionRuleId && covered_.erase(r.tid) != 0) return;  // already alerted
  pending_[r.tid] = Pending{r, r.rule, 0};
}

std::string RefusalCorrelator::ClaimForRule(uint32_t tid) {
  if (pending_.empty()) return "";
  auto it = pending_.find(tid);
  if (it == pending_.end()) return "";
  std::string action = it->second.refusal.action;
  pending_.erase(it);
  return action;
}

std::string RefusalCorrelator::ClaimForSelfProtection(uint32_t tid, bool refused_by_lsm) {
  std::string action = refused_by_lsm ? "deny" : "";
  if (auto it = pending_.find(tid); it != pending_.end() && it->second.rule == kSelfProtectionRule) {
    action = it->second.refusal.action;
    pending_.erase(it);
  } else if (!action.empty() && covered_.size() < kMaxPending) {
    covered_[tid] = 0;
  }
  return action;
}

std::vector<Alert> RefusalCorrelator::Expire(const RuleEngine& engine) {
  for (auto it = covered_.begin(); it != covered_.end();)
    it = ++it->second > kCoveredRounds ? covered_.erase(it) : std::next(it);
  std::vector<Alert> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (++it->second.rounds < 2) {
      ++it;
      continue;
    }
    const auto& r = it->second.refusal;
    const std::string& rule_name = it->second.rule;
    Alert a = SelfAlert(rule_name, Priority::kCritical,
                        fmt::format("vigil {} {} by pid {} ({}): rule '{}' matched in the kernel", r.action,
                                    policy::HookClassName(r.hook), r.pid, r.comm, rule_name));
    if (const CompiledRule* rule = engine.FindRule(rule_name)) {
      a.priority = rule->priority;
      a.tags = rule->tags;
      a.action = rule->action;
    } else if (r.rule_id == enforce::kSelfProtectionRuleId) {
      a.action = "deny";  // what the built-in self-protection asks
    }
    a.source = "syscall";
    a.enforcement = r.action;
    a.process.pid = r.pid;
    a.process.name = r.comm;
    out.push_back(std::move(a));
    it = pending_.erase(it);
  }
  return out;
}

}  // namespace vigil::agent
