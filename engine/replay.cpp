// SPDX-License-Identifier: Apache-2.0
#include "engine/replay.h"

#include "engine/event_json.h"

namespace vigil {

namespace {

// Reads one line into `line` (without the newline), keeping at most
// kMaxReplayLineBytes of it; `*full_size` is the line's real length. False at
// end of input with nothing read.
bool ReadBoundedLine(std::istream& in, std::string* line, std::size_t* full_size) {
  line->clear();
  *full_size = 0;
  std::streambuf* sb = in.rdbuf();
  bool any = false;
  for (;;) {
    const int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (*full_size < kMaxReplayLineBytes) line->push_back(static_cast<char>(c));
    ++*full_size;
  }
}

}  // namespace

ReplayStats Replay(std::istream& in, const RuleEngine& engine, const std::function<void(const Alert&)>& on_alert,
                   const std::function<void(uint64_t, const std::string&)>& on_bad_line) {
  ReplayStats stats;
  Event event;
  OwnedAncestors ancestors;
  std::vector<const CompiledRule*> fired;
  std::string line;
  std::size_t full_size = 0;
  while (ReadBoundedLine(in, &line, &full_size)) {
    ++stats.lines;
    if (full_size > kMaxReplayLineBytes) {
      ++stats.bad_lines;
      on_bad_line(stats.lines, "line of " + std::to_string(full_size) + " bytes, longer than the " +
                                   std::to_string(kMaxReplayLineBytes) + " an event can take: skipped");
      continue;
    }
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
