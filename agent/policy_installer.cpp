// SPDX-License-Identifier: Apache-2.0
#include "agent/policy_installer.h"

#include <spdlog/spdlog.h>

namespace vigil::agent {

bool PolicyInstaller::Install(const policy::PolicySpec& spec) {
  if (spec.rules.empty() && !manager_ && !lsm_self_protection_) return true;
  if (!manager_) {
    enforce::EnforceOptions eo;
    eo.degrade = degrade_;
    std::string error;
    manager_ = enforce::EnforcementManager::Create(eo, &error);
    if (!manager_) {
      spdlog::error("enforcement: {}", error);
      return false;
    }
  }
  if (auto err = manager_->Install(spec)) {
    spdlog::error("enforcement: {}", *err);
    return false;
  }
  for (const auto& r : manager_->Report())
    spdlog::info("enforcement: rule '{}': {} via {}{}{}", r.rule, r.effective, enforce::MechanismName(r.mechanism),
                 r.reason.empty() ? "" : ": ", r.reason);
  return true;
}

}  // namespace vigil::agent
