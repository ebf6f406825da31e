// SPDX-License-Identifier: Apache-2.0
// Replay: runs a recorded event file (JSON lines from `vigil events -w`)
// through the rules and yields the alerts the live sensor would have raised.
#pragma once

#include <cstddef>
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

// A recorded event is a few KiB (argv, paths and ancestors are bounded by the
// capture); a longer line is not an event and is not held in memory whole.
inline constexpr std::size_t kMaxReplayLineBytes = 1u << 20;

// Calls `on_alert` for every alert, `on_bad_line(line_number, message)` for
// every line that is not an event (including lines over kMaxReplayLineBytes,
// of which at most that much is kept in memory). Blank lines are skipped.
ReplayStats Replay(std::istream& in, const RuleEngine& engine, const std::function<void(const Alert&)>& on_alert,
                   const std::function<void(uint64_t, const std::string&)>& on_bad_line);

}  // namespace vigil
