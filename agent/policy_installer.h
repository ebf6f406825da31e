// SPDX-License-Identifier: Apache-2.0
// The enforcement object of `vigil run`: loaded when some rule asks for
// enforcement (action deny|kill), and under BPF LSM always (its bpf hook
// refuses other processes access to vigil's own objects). Once loaded it
// stays for the life of the process; later policies are installed into it.
//
// Contract: Install() is a start-up/reload call. It logs, per rule of the
// installed policy, how it is enforced (a rule that asks and cannot be
// enforced as configured is reported, not refused), and every failure.
#pragma once

#include <memory>

#include "bpf/enforce/enforcement.h"
#include "engine/policy/policy.h"

namespace vigil::agent {

class PolicyInstaller {
 public:
  // `degrade`: enforcement.degrade (read at start only: a restart applies a
  // change). `lsm_self_protection`: BPF LSM is usable here.
  PolicyInstaller(enforce::Degrade degrade, bool lsm_self_protection)
      : degrade_(degrade), lsm_self_protection_(lsm_self_protection) {}

  // Loads the enforcement object when needed, then installs `spec` (all or
  // nothing). False on any failure: the previously installed policy stays.
  bool Install(const policy::PolicySpec& spec);
  // Null while nothing needed enforcement.
  enforce::EnforcementManager* manager() const { return manager_.get(); }

 private:
  enforce::Degrade degrade_;
  bool lsm_self_protection_;
  std::unique_ptr<enforce::EnforcementManager> manager_;
};

}  // namespace vigil::agent
