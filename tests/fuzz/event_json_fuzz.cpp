// SPDX-License-Identifier: Apache-2.0
// Fuzzes the event-line reader (engine/event_json.h: what `vigil replay` and
// `vigil rules test` read from recorded files) and, through it, the writer:
// any bytes as a line must parse or be refused with a message, never crash;
// a line that parses is written back, and that must parse again and write
// back to the same bytes (the writer's output is a fixed point of reading
// and writing, whatever escapes, numbers or UTF-8 the input held).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vigil::Event event;
  static vigil::OwnedAncestors chain;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (vigil::ParseEventJson(line, &event, &chain)) return 0;  // refused with a message: fine
  std::string first;
  vigil::AppendEventJson(event, &first);
  if (auto err = vigil::ParseEventJson(first, &event, &chain)) {
    std::fprintf(stderr, "written line does not parse back: %s\n%s\n", err->c_str(), first.c_str());
    std::abort();
  }
  std::string second;
  vigil::AppendEventJson(event, &second);
  if (first != second) {
    std::fprintf(stderr, "read/write is not stable:\n%s\n%s\n", first.c_str(), second.c_str());
    std::abort();
  }
  return 0;
}
