// SPDX-License-Identifier: Apache-2.0
// Replay: runs a recorded event file (JSON lines from `vigil events -w`)
// through the rules and yields the alerts the live sensor would have raised.
#pragma once

#include <functional>
#include <istream>
#include <string>

#include "engine/rule_engine.h"

namespace vigil {

struct ReplayStats {
  uint64_t lines = 0;
  uint64_t events = 0;
  uint64_t bad_lines = 0;  // not parsed: counted and reported, never silently dropped
  uint64_t alerts = 0;
};

// Calls `on_alert` for every alert, `on_bad_line(line_number, message)` for
// every line that is not an event. Blank lines are skipped.
ReplayStats Replay(std::istream& in, const RuleEngine& engine, const std::function<void(const Alert&)>& on_alert,
                   const std::function<void(uint64_t, const std::string&)>& on_bad_line);

}  // namespace vigil
