// SPDX-License-Identifier: Apache-2.0
// An event kept past the call that delivered it (the container hold, the
// container events waiting for metadata): a copy of it with a copy of its
// ancestor chain of its own, since the process table's entries may change or
// go before the event is evaluated.
#pragma once

#include "engine/event.h"

namespace vigil::agent {

struct KeptEvent {
  Event event;
  OwnedAncestors ancestors;

  // Copies `ev` and up to 32 ancestors (the process table's own bound on the
  // chain); event.ancestors then points at this object's copy, so a filled
  // KeptEvent must stay where it is (a deque's push_back/pop_front keep it).
  void Keep(const Event& ev) {
    constexpr int kMaxAncestorCopy = 32;
    event = ev;
    if (ev.ancestors != nullptr) {
      for (int level = 1; level <= kMaxAncestorCopy; ++level) {
        const ProcessInfo* p = ev.ancestors->Ancestor(level);
        if (p == nullptr) break;
        ancestors.chain.push_back(*p);
      }
    }
    event.ancestors = &ancestors;
  }
};

}  // namespace vigil::agent
