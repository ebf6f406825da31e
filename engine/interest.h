// SPDX-License-Identifier: Apache-2.0
// Interest: which event types a loaded ruleset can use, so that the capture
// can leave the others in the kernel (docs/capture.md, "Interest filter").
//
// Contract:
// - DeriveInterest() is conservative: an event of a type outside `types`
//   cannot make any enabled rule fire, and leaving it out does not change
//   what the process table tells the rules about other events (see
//   kStateEventTypes). A rule is evaluated only for the event types of its
//   index (CompiledRule::types, derived from its evt.type checks through
//   and/or/not), so a rule whose condition does not restrict evt.type has
//   every type. Exceptions only ever make a rule match less, so they are not
//   consulted.
// - Disabled rules contribute nothing; a reload derives the set again.
#pragma once

#include <string>

#include "engine/compile/checks.h"
#include "engine/rule_engine.h"

namespace vigil {

// Events the process table (engine/state) learns from whatever rules are
// loaded: fork/clone/exec/exit build the tree and the images that ancestor
// fields (proc.pname, proc.aname[N], ...) read; set*id, capset, setns and
// unshare change the credentials and namespaces it keeps for a process and
// are reported by no later event of their own.
compile::EventTypeSet StateEventTypes();

// The types a kernel record can carry (the synthesized ones, such as
// `container`, never reach the capture's mask: engine/event.h).
compile::EventTypeSet KernelEventTypes();

struct Interest {
  compile::EventTypeSet types;       // sent: rules | state
  compile::EventTypeSet rule_types;  // the union of the enabled rules' event types
  compile::EventTypeSet state_types; // StateEventTypes()
  // An enabled rule whose condition does not restrict evt.type (it needs every
  // event; first one found), or "" when there is none.
  std::string unrestricted_rule;
  // Exec records carry the environment: an enabled rule reads proc.env (its
  // condition, exceptions or output); env_rule is the first such rule.
  bool env = false;
  std::string env_rule;
};

Interest DeriveInterest(const RuleEngine& engine);

// The event type names of `set`, comma-separated, in EventType order.
std::string EventTypeNames(const compile::EventTypeSet& set);

}  // namespace vigil
