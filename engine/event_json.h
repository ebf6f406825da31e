// SPDX-License-Identifier: Apache-2.0
// JSON lines for events: what `vigil events` prints and `-w FILE` records, and
// what `vigil replay` reads back. Keys are the field names rules use (Falco's
// where Falco has one: `evt.type`, `proc.pid`, `fd.name`, ...; `bpf.*` for
// bpf() detail), so a recorded line is readable by people and by the engine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace vigil {

// Appends `event` as one JSON object, without a trailing newline. Includes the
// ancestor chain reachable through `event.ancestors` ("proc.ancestors": per
// ancestor its pid, ppid, name, exe path, argv, uid, start and exec times:
// what ancestor fields can ask), so the line replays alone. Does not throw,
// does not allocate once warm (per thread); never emits invalid UTF-8 (each
// byte that is not part of valid UTF-8 becomes U+FFFD).
void AppendEventJson(const Event& event, std::string* out);

// Parses one object written by AppendEventJson (or a hand-written subset of its
// keys) into `event` (Reset first) and `ancestors`; points event->ancestors at
// `ancestors` when the line has any. On failure returns a message naming the
// key or position that is wrong; never throws.
std::optional<std::string> ParseEventJson(std::string_view line, Event* event, OwnedAncestors* ancestors);

}  // namespace vigil
