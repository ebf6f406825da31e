// SPDX-License-Identifier: Apache-2.0
// The capture heartbeat's bookkeeping (issue 24 item 2: a root process that
// took the ring buffer fd and advanced the consumer position blinded the agent
// while every counter and /healthz said all was well). The end-to-end case,
// with the real ring buffer drained by another process, is in
// tests/integration/agent/run_test.cpp.
#include <catch2/catch.hpp>

#include "agent/heartbeat.h"
#include "tests/unit/agent/alert_field.h"

using vigil::agent::CaptureHeartbeat;
using namespace std::chrono_literals;

namespace {

const std::string kPrefix = "/nonexistent-vigil-heartbeat-test/";

std::string Path(uint64_t seq) { return kPrefix + std::to_string(seq); }

using vigil::testing::AlertU64;

}  // namespace

TEST_CASE("heartbeat: only its own paths are acknowledged", "[unit]") {
  CaptureHeartbeat hb(kPrefix, 1s, 10s);
  CHECK(hb.SendOne() == 1);
  CHECK_FALSE(hb.OnEvent("/etc/passwd"));
  CHECK_FALSE(hb.OnEvent(kPrefix));
  CHECK_FALSE(hb.OnEvent(kPrefix + "x1"));
  CHECK_FALSE(hb.OnEvent(kPrefix + "1/"));
  CHECK_FALSE(hb.OnEvent(kPrefix + "0"));
  CHECK(hb.OnEvent(Path(1)));
  CHECK(hb.received() == 1);
  CHECK(hb.Check(CaptureHeartbeat::Clock::now()).empty());
}

TEST_CASE("heartbeat: a later one arriving without an earlier one is a gap alert", "[unit]") {
  CaptureHeartbeat hb(kPrefix, 1s, 10s);
  for (int i = 0; i < 6; ++i) hb.SendOne();
  REQUIRE(hb.OnEvent(Path(1)));
  REQUIRE(hb.OnEvent(Path(2)));
  REQUIRE(hb.OnEvent(Path(5)));  // 3 and 4 were taken
  REQUIRE(hb.OnEvent(Path(6)));
  auto alerts = hb.Check(CaptureHeartbeat::Clock::now());
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "vigil capture gap");
  CHECK(alerts[0].priority == vigil::Priority::kCritical);
  CHECK(AlertU64(alerts[0], "vigil.heartbeat.first_missing") == 3);
  CHECK(AlertU64(alerts[0], "vigil.heartbeat.missing") == 2);
  CHECK(hb.missing() == 2);
  CHECK(hb.Check(CaptureHeartbeat::Clock::now()).empty());  // reported once
}

TEST_CASE("heartbeat: none arriving for the timeout is one blinded alert per outage", "[unit]") {
  CaptureHeartbeat hb(kPrefix, 1s, 10s);
  const auto t0 = CaptureHeartbeat::Clock::now();
  hb.SendOne();
  REQUIRE(hb.OnEvent(Path(1)));
  CHECK(hb.Check(t0 + 30s).empty());  // nothing outstanding: quiet, however long
  hb.SendOne();
  hb.SendOne();
  CHECK(hb.Check(t0 + 5s).empty());  // outstanding, within the timeout
  auto alerts = hb.Check(t0 + 12s);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "vigil capture blinded");
  CHECK(AlertU64(alerts[0], "vigil.heartbeat.last_received") == 1);
  CHECK(AlertU64(alerts[0], "vigil.heartbeat.sent") == 3);
  CHECK(hb.Check(t0 + 20s).empty());  // the same outage: not repeated
  REQUIRE(hb.OnEvent(Path(3)));       // back (2 lost: a gap)
  auto back = hb.Check(CaptureHeartbeat::Clock::now());
  REQUIRE(back.size() == 1);
  CHECK(back[0].rule == "vigil capture gap");
  hb.SendOne();
  CHECK(hb.Check(CaptureHeartbeat::Clock::now() + 11s).size() == 1);  // a new outage alerts again
}
