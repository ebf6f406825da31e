// SPDX-License-Identifier: Apache-2.0
// The one ISO 8601 formatter every output uses (event lines, alerts,
// `vigil rules test`): exact text, and agreement with the C library's
// calendar for times across the whole uint64_t range, in and out of order
// (the per-second prefix it keeps must never leak into another second).
#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include "engine/iso_time.h"

namespace {

std::string Reference(uint64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000ull);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned long long>(ns % 1000000000ull));
  return b;
}

}  // namespace

TEST_CASE("ISO time keeps nanoseconds in UTC", "[unit]") {
  struct Case {
    uint64_t ns;
    const char* text;
  };
  const Case cases[] = {
      {0, "1970-01-01T00:00:00.000000000Z"},
      {1, "1970-01-01T00:00:00.000000001Z"},
      {1700000000123456789ull, "2023-11-14T22:13:20.123456789Z"},
      {951782400999999999ull, "2000-02-29T00:00:00.999999999Z"},
      {951782401000000000ull, "2000-02-29T00:00:01.000000000Z"},  // the next second, right after
      {~uint64_t{0}, "2554-07-21T23:34:33.709551615Z"},
  };
  for (const auto& c : cases) {
    INFO(c.ns);
    CHECK(vigil::IsoTimeString(c.ns) == c.text);
    char buf[vigil::kIsoTimeLen];
    REQUIRE(vigil::FormatIsoTime(c.ns, buf) == vigil::kIsoTimeLen);
    CHECK(std::string(buf, vigil::kIsoTimeLen) == c.text);
  }
}

TEST_CASE("ISO time agrees with gmtime for any time, in any order", "[unit]") {
  std::mt19937_64 rng(20261124);
  uint64_t t = 1764000000000000000ull;
  for (int i = 0; i < 200000; ++i) {
    uint64_t ns;
    switch (i % 4) {
      case 0: ns = rng(); break;                          // anywhere
      case 1: ns = t += rng() % 3000000000ull; break;     // forward, often in the same second
      case 2: ns = t - rng() % 2000000000ull; break;      // back across a second
      default: ns = (t / 1000000000ull) * 1000000000ull;  // a second's first ns
    }
    INFO(ns);
    REQUIRE(vigil::IsoTimeString(ns) == Reference(ns));
  }
}

// File times a process sets can be before 1970 (FileArgs::atime/mtime are
// signed); the whole int64_t ns range is 1677..2262.
TEST_CASE("signed ISO time: before 1970 and both ends of the int64 range", "[unit]") {
  struct Case {
    int64_t ns;
    const char* text;
  };
  const Case cases[] = {
      {0, "1970-01-01T00:00:00.000000000Z"},
      {-1, "1969-12-31T23:59:59.999999999Z"},
      {-500000000, "1969-12-31T23:59:59.500000000Z"},
      {-1000000000, "1969-12-31T23:59:59.000000000Z"},
      {-86400000000000, "1969-12-31T00:00:00.000000000Z"},
      {1546300800000000005, "2019-01-01T00:00:00.000000005Z"},
      {INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
      {INT64_MIN, "1677-09-21T00:12:43.145224192Z"},
  };
  for (const auto& c : cases) {
    char b[vigil::kIsoTimeLen];
    INFO(c.ns);
    CHECK(std::string(b, vigil::FormatIsoTimeSigned(c.ns, b)) == c.text);
  }
  // a signed call between two cached ones leaves the cache right
  char b[vigil::kIsoTimeLen];
  vigil::FormatIsoTime(1700000000123456789ull, b);
  vigil::FormatIsoTimeSigned(-1, b);
  CHECK(std::string(b, vigil::FormatIsoTime(1700000000000000001ull, b)) == "2023-11-14T22:13:20.000000001Z");
}
