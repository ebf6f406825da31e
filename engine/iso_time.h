// SPDX-License-Identifier: Apache-2.0
// ISO 8601 UTC time with nanoseconds, as every vigil output writes it:
// "2026-11-24T12:25:54.123456789Z". One implementation for event lines,
// alerts and `vigil rules test`, fast enough for the per-event path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil {

// Bytes FormatIsoTime writes: the length is fixed for every uint64_t input
// (years 1970..2554).
inline constexpr std::size_t kIsoTimeLen = 30;

// Writes `wall_ns` (ns since the epoch, UTC) into buf[0..kIsoTimeLen), no
// terminating NUL; returns kIsoTimeLen. The date and time of day are worked
// out once per second per thread (the calendar arithmetic is the costly part
// at a few hundred thousand events per second), the nanoseconds every call.
std::size_t FormatIsoTime(uint64_t wall_ns, char* buf);

// The same for any int64_t ns (1677..2262, before 1970 too: a time a
// process set on a file); not cached, for the rare caller.
std::size_t FormatIsoTimeSigned(int64_t ns, char* buf);

std::string IsoTimeString(uint64_t wall_ns);

}  // namespace vigil
