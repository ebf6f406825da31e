// SPDX-License-Identifier: Apache-2.0
// vigil's alerts about itself, and the capture-loss watch (issue 24: 2.06M
// events dropped under load were only a metric; a rewritten counters map hid
// drops entirely).
#include <catch2/catch.hpp>

#include <unistd.h>

#include "agent/self_alerts.h"
#include "tests/unit/agent/alert_field.h"

using vigil::Priority;
using vigil::agent::CaptureLossMonitor;
using vigil::agent::SelfAlert;

namespace {

using vigil::testing::AlertU64;

}  // namespace

TEST_CASE("A self alert carries hostname, source internal and the vigil tag", "[unit]") {
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  auto a = SelfAlert("vigil rules reload failed", Priority::kError, "why");
  CHECK(a.hostname == host);
  CHECK_FALSE(a.hostname.empty());
  CHECK(a.source == "internal");
  CHECK(a.tags == std::vector<std::string>{"vigil"});
  CHECK(a.uuid.size() == 36);
  CHECK(a.time_ns > 0);
}

TEST_CASE("Every event lost is in exactly one alert; repeats within the interval are summed", "[unit]") {
  using namespace std::chrono_literals;
  CaptureLossMonitor m({"ringbuf_drop", "pending_full"}, 10s);
  const auto t0 = CaptureLossMonitor::Clock::now();
  struct Step {
    std::chrono::milliseconds at;
    uint64_t ringbuf_drop, pending_full, read_path;
    int alerts;           // loss alerts expected at this step
    uint64_t lost;        // in that alert
  };
  const Step steps[] = {
      {0ms, 0, 0, 0, 0, 0},          // quiet start
      {500ms, 0, 0, 7, 0, 0},        // read failures are not lost events
      {1000ms, 100, 0, 7, 1, 100},   // first loss: reported at once
      {1500ms, 150, 2, 7, 0, 0},     // within 10 s: held
      {5000ms, 400, 2, 7, 0, 0},     // still held
      {11000ms, 400, 2, 7, 1, 302},  // interval over: 300 + 2 held, summed
      {12000ms, 400, 2, 7, 0, 0},    // nothing new
  };
  uint64_t reported = 0;
  for (const auto& s : steps) {
    INFO("at " << s.at.count() << " ms");
    auto alerts = m.Observe({{"ringbuf_drop", s.ringbuf_drop}, {"pending_full", s.pending_full}, {"read_path", s.read_path}},
                            t0 + s.at);
    REQUIRE(static_cast<int>(alerts.size()) == s.alerts);
    if (s.alerts == 1) {
      CHECK(alerts[0].rule == "vigil events lost");
      CHECK(alerts[0].priority == Priority::kCritical);
      CHECK(AlertU64(alerts[0], "vigil.events.lost") == s.lost);
      reported += s.lost;
      CHECK(AlertU64(alerts[0], "vigil.events.lost_total") == reported);
    }
  }
  CHECK(reported == 402);
  CHECK(m.total_lost() == 402);
  CHECK(m.Flush().empty());
}

TEST_CASE("Losses not yet reported come out at Flush", "[unit]") {
  using namespace std::chrono_literals;
  CaptureLossMonitor m({"ringbuf_drop"}, 10s);
  const auto t0 = CaptureLossMonitor::Clock::now();
  REQUIRE(m.Observe({{"ringbuf_drop", 5}}, t0).size() == 1);
  REQUIRE(m.Observe({{"ringbuf_drop", 9}}, t0 + 1s).empty());
  auto rest = m.Flush();
  REQUIRE(rest.size() == 1);
  CHECK(AlertU64(rest[0], "vigil.events.lost") == 4);
  CHECK(AlertU64(rest[0], "vigil.lost.ringbuf_drop") == 4);
  CHECK(m.Flush().empty());
}

TEST_CASE("A counter that goes down is tampering: a self-protection alert at once", "[unit]") {
  using namespace std::chrono_literals;
  CaptureLossMonitor m({"ringbuf_drop"}, 10s);
  const auto t0 = CaptureLossMonitor::Clock::now();
  REQUIRE(m.Observe({{"ringbuf_drop", 50}, {"read_path", 3}}, t0).size() == 1);
  // `bpftool map update` of the counters map set ringbuf_drop back to 0.
  auto alerts = m.Observe({{"ringbuf_drop", 0}, {"read_path", 3}}, t0 + 1s);
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "vigil self-protection");
  CHECK(alerts[0].priority == Priority::kCritical);
  CHECK(alerts[0].output.find("ringbuf_drop went down from 50 to 0") != std::string::npos);
  // Counting resumes from the written value: 0 -> 8 is 8 more lost (reported
  // after the interval), not hidden.
  REQUIRE(m.Observe({{"ringbuf_drop", 8}}, t0 + 2s).empty());
  auto later = m.Observe({{"ringbuf_drop", 8}}, t0 + 11s);
  REQUIRE(later.size() == 1);
  CHECK(AlertU64(later[0], "vigil.events.lost") == 8);
}

TEST_CASE("Alerts a sink dropped are each in exactly one 'vigil alerts dropped' alert", "[unit]") {
  using namespace std::chrono_literals;
  using vigil::agent::AlertLossMonitor;
  using vigil::outputs::SinkStats;
  auto stats = [](uint64_t file_dropped, uint64_t kafka_dropped, uint64_t kafka_reported) {
    SinkStats f;
    f.name = "file";
    f.dropped = file_dropped;
    SinkStats k;
    k.name = "kafka";
    k.dropped = kafka_dropped;
    k.dropped_reported = kafka_reported;
    return std::vector<SinkStats>{f, k};
  };
  AlertLossMonitor m(10s);
  const auto t0 = AlertLossMonitor::Clock::now();
  CHECK(m.Observe(stats(0, 0, 0), t0).empty());
  // Kafka's spool overflow announced its own 40 drops: not reported again.
  CHECK(m.Observe(stats(0, 40, 40), t0 + 1s).empty());
  auto first = m.Observe(stats(7, 45, 40), t0 + 2s);
  REQUIRE(first.size() == 1);
  CHECK(first[0].rule == "vigil alerts dropped");
  CHECK(first[0].priority == Priority::kError);
  CHECK(AlertU64(first[0], "vigil.alerts.dropped") == 12);
  CHECK(AlertU64(first[0], "vigil.dropped.file") == 7);
  CHECK(AlertU64(first[0], "vigil.dropped.kafka") == 5);
  // Within the interval: counted, held back, summed into the next one.
  CHECK(m.Observe(stats(10, 45, 40), t0 + 3s).empty());
  CHECK(m.Observe(stats(13, 45, 40), t0 + 5s).empty());
  auto second = m.Observe(stats(13, 45, 40), t0 + 12s);
  REQUIRE(second.size() == 1);
  CHECK(AlertU64(second[0], "vigil.alerts.dropped") == 6);
  CHECK(AlertU64(second[0], "vigil.alerts.dropped_total") == 18);
  // The rest at exit.
  CHECK(m.Observe(stats(14, 45, 40), t0 + 13s).empty());
  auto last = m.Flush();
  REQUIRE(last.size() == 1);
  CHECK(AlertU64(last[0], "vigil.alerts.dropped") == 1);
  CHECK(m.Flush().empty());
  CHECK(m.total_dropped() == 19);
}
