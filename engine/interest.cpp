// SPDX-License-Identifier: Apache-2.0
#include "engine/interest.h"

namespace vigil {

compile::EventTypeSet StateEventTypes() {
  compile::EventTypeSet s;
  for (std::size_t i = 0; i < kEventTypeCount; ++i)
    if (IsStateEvent(static_cast<EventType>(i))) s.set(i);
  return s;
}

compile::EventTypeSet KernelEventTypes() {
  compile::EventTypeSet s;
  for (std::size_t i = 0; i < kKernelEventTypeCount; ++i) s.set(i);
  return s;
}

Interest DeriveInterest(const RuleEngine& engine) {
  Interest in;
  in.state_types = StateEventTypes();
  for (const auto& r : engine.rules()) {
    if (!r->enabled) continue;
    in.rule_types |= r->types;
    if (r->types.all() && in.unrestricted_rule.empty()) in.unrestricted_rule = r->name;
    if (r->needs_env && !in.env) {
      in.env = true;
      in.env_rule = r->name;
    }
  }
  in.types = in.rule_types | in.state_types;
  return in;
}

std::string EventTypeNames(const compile::EventTypeSet& set) {
  std::string out;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    if (!set.test(i)) continue;
    if (!out.empty()) out += ", ";
    out += EventTypeName(static_cast<EventType>(i));
  }
  return out;
}

}  // namespace vigil
