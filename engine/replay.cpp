// SPDX-License-Identifier: Apache-2.0
#include "engine/replay.h"

#include "engine/event_json.h"

namespace vigil {

ReplayStats Replay(std::istream& in, const RuleEngine& engine, const std::function<void(const Alert&)>& on_alert,
                   const std::function<void(uint64_t, const std::string&)>& on_bad_line) {
  ReplayStats stats;
  Event event;
  OwnedAncestors ancestors;
  std::vector<const CompiledRule*> fired;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto err = ParseEventJson(line, &event, &ancestors)) {
      ++stats.bad_lines;
      on_bad_line(stats.lines, *err);
      continue;
    }
    ++stats.events;
    engine.Match(event, &fired);
    for (const CompiledRule* r : fired) {
      ++stats.alerts;
      on_alert(engine.MakeAlert(*r, event));
    }
  }
  return stats;
}

}  // namespace vigil
