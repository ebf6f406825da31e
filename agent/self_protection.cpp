// SPDX-License-Identifier: Apache-2.0
#include "agent/self_protection.h"

#include <spdlog/spdlog.h>

#include "agent/refusal_correlator.h"
#include "agent/self_alerts.h"
#include "bpf/sensor.h"
#include "engine/rule_engine.h"

namespace vigil::agent {

void SelfProtection::Watch(const capture::Sensor* sensor, enforce::EnforcementManager* enforcer) {
  const auto cap = sensor ? sensor->ObjectIds() : capture::OwnObjectIds{};
  const enforce::SelfIds capture_ids{cap.progs, cap.maps, cap.links, cap.link_fds};
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
  const uint64_t key = (uint64_t{ev.proc.pid} << 32) | static_cast<uint32_t>(ev.bpf.cmd);
  if (alerted_.size() > 4096) alerted_.clear();  // bounded; at worst one more alert per process
  auto& [last, suppressed] = alerted_[key];
  if (last.time_since_epoch().count() != 0 && now - last < kAlertInterval) {
    ++suppressed;
    return std::nullopt;
  }
  last = now;
  Alert a = SelfAlert(kSelfProtectionRule, Priority::kCritical,
                      fmt::format("bpf({}) on vigil's own id {} by pid {} ({}, {}){}{}",
                                  enforce::GetFdByIdName(ev.bpf.cmd), ev.bpf.id, ev.proc.pid, ev.proc.name,
                                  ev.proc.exepath, enforced.empty() ? "" : "; refused by the kernel",
                                  suppressed ? fmt::format("; {} more such calls by this process before", suppressed)
                                             : std::string()));
  suppressed = 0;
  a.source = "syscall";
  a.action = lsm ? "deny" : "alert";  // only under BPF LSM does vigil ask the kernel to refuse
  a.enforcement = enforced;
  FillAlertContext(ev, &a);
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
