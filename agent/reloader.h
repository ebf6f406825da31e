// SPDX-License-Identifier: Apache-2.0
// A SIGHUP reload of `vigil run`: the configuration and the rules are read
// again and replace the running ones only when all of it loads and its
// enforcement policy is installed in the kernel; otherwise the running
// ruleset stays and a "vigil rules reload failed" alert says why.
//
// Contract:
// - Reload() runs the steps in order: load, install the new policy (only when
//   the load succeeded), rewatch (always: a first enforcing rule creates the
//   enforcement object, whose ids self-protection must then watch).
// - On success the outcome holds the new configuration and ruleset for the
//   caller to switch to, and the keys that changed but that only a restart
//   applies (logged as a warning; the running values stay).
// - On failure it holds no ruleset and the alert; the refused ruleset's
//   memory is returned to the system (malloc_trim: a large refused ruleset
//   kept RSS up otherwise).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/ruleset.h"
#include "engine/alert.h"

namespace vigil::agent {

struct ReloadSteps {
  // LoadAll() with `vigil run`'s options; null on error, `problems` then says why.
  std::function<std::unique_ptr<Loaded>(std::string* problems)> load;
  // PolicyInstaller::Install().
  std::function<bool(const policy::PolicySpec&)> install;
  // SelfProtection::Watch() on the current sensor and enforcement object.
  std::function<void()> rewatch;
};

struct ReloadOutcome {
  std::unique_ptr<Loaded> next;           // null: the running configuration and rules stay
  std::vector<std::string> restart_only;  // changed keys a restart applies
  std::optional<Alert> failure;           // set exactly when `next` is null
};

class Reloader {
 public:
  explicit Reloader(ReloadSteps steps) : steps_(std::move(steps)) {}
  // `running`: the configuration in effect, to name what only a restart applies.
  ReloadOutcome Reload(const AgentConfig& running);

 private:
  ReloadSteps steps_;
};

}  // namespace vigil::agent
