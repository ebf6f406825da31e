// SPDX-License-Identifier: Apache-2.0
#include "engine/iso_time.h"

#include <cstring>
#include <ctime>

namespace vigil {
namespace {

// "YYYY-MM-DDTHH:MM:SS." of one second, kept per thread.
struct SecondPrefix {
  uint64_t secs = ~uint64_t{0};
  char text[21] = {};
};
thread_local SecondPrefix g_prefix;

void Digits(char* out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS." of `secs` since the epoch (negative: before 1970).
void WritePrefix(int64_t secs, char* o) {
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  Digits(o, static_cast<unsigned>(tm.tm_year + 1900), 4);
  o[4] = '-';
  Digits(o + 5, static_cast<unsigned>(tm.tm_mon + 1), 2);
  o[7] = '-';
  Digits(o + 8, static_cast<unsigned>(tm.tm_mday), 2);
  o[10] = 'T';
  Digits(o + 11, static_cast<unsigned>(tm.tm_hour), 2);
  o[13] = ':';
  Digits(o + 14, static_cast<unsigned>(tm.tm_min), 2);
  o[16] = ':';
  Digits(o + 17, static_cast<unsigned>(tm.tm_sec), 2);
  o[19] = '.';
}

}  // namespace

std::size_t FormatIsoTime(uint64_t wall_ns, char* buf) {
  const uint64_t secs = wall_ns / 1000000000ull;
  SecondPrefix& p = g_prefix;
  if (p.secs != secs) {
    WritePrefix(static_cast<int64_t>(secs), p.text);
    p.secs = secs;
  }
  std::memcpy(buf, p.text, 20);
  Digits(buf + 20, static_cast<unsigned>(wall_ns % 1000000000ull), 9);
  buf[29] = 'Z';
  return kIsoTimeLen;
}

std::size_t FormatIsoTimeSigned(int64_t ns, char* buf) {
  int64_t secs = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) frac += 1000000000, --secs;  // floor: 1969-12-31T23:59:59.5 is -0.5 s
  WritePrefix(secs, buf);
  Digits(buf + 20, static_cast<unsigned>(frac), 9);
  buf[29] = 'Z';
  return kIsoTimeLen;
}

std::string IsoTimeString(uint64_t wall_ns) {
  char buf[kIsoTimeLen];
  return std::string(buf, FormatIsoTime(wall_ns, buf));
}

}  // namespace vigil
