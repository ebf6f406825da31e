// SPDX-License-Identifier: Apache-2.0
// Kafka sink against a real Kafka protocol broker (librdkafka's mock cluster
// in a separate process), consumed with kcat.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kafka_test_util.h"
#include "outputs/fanout.h"
#include "outputs/kafka_sink.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;
using nlohmann::json;
using vigil::testing::ConsumeAll;
using vigil::testing::MockBroker;

namespace {

struct TempDir : vigil::testing::TempDirOf<fs::path> {
  TempDir() : TempDirOf("kafka") {}
};

vigil::Alert MakeAlert(int i) {
  vigil::Alert a;
  a.uuid = vigil::NewUuid();
  a.time_ns = 1700000000000000000ull + static_cast<uint64_t>(i);
  a.rule = i % 3 == 0 ? "Write below etc" : "Shell in container";
  a.priority = i % 2 == 0 ? vigil::Priority::kWarning : vigil::Priority::kNotice;
  a.output = "alert " + std::to_string(i);
  a.output_fields = {{"n", int64_t{i}}, {"proc.name", std::string("sh")}};
  a.tags = {"mitre_execution", "T1059"};
  a.hostname = "node-7";
  a.process.pid = 100 + static_cast<uint32_t>(i);
  a.process.name = "sh";
  return a;
}

// Sends `n` alerts through a fan-out with one Kafka sink and waits until
// every one at or above `min` is delivered.
void Produce(const std::string& bootstrap, const std::string& topic, out::Format format, const fs::path& spool,
             int n, vigil::Priority min, std::vector<vigil::Alert>* sent) {
  out::KafkaSinkOptions o;
  o.brokers = bootstrap;
  o.topic = topic;
  o.format = format;
  o.host_id = "test-host-id";
  o.spool.dir = spool.string();
  std::string error;
  auto sink = out::KafkaSink::Create(o, &error);
  INFO(error);
  REQUIRE(sink);
  CHECK(sink->compression() == "zstd");
  out::KafkaSink* k = sink.get();
  out::FanOut fanout;
  fanout.AddSink(std::move(sink), 1000, min);
  fanout.Start();
  for (int i = 0; i < n; ++i) {
    vigil::Alert a = MakeAlert(i);
    if (static_cast<int>(a.priority) <= static_cast<int>(min)) sent->push_back(a);
    fanout.Submit(a);
  }
  REQUIRE(fanout.WaitIdle(10000));
  fanout.Stop(20000);
  CHECK(k->counters().sent.load() == sent->size());
  CHECK(k->counters().spooled.load() == sent->size());
  CHECK(k->counters().dropped.load() == 0);
}

}  // namespace

TEST_CASE("Kafka sink delivers Falco JSON with key and headers; min_priority filters", "[kafka]") {
  MockBroker broker({"alerts:1"});
  TempDir spool;
  std::vector<vigil::Alert> sent;
  Produce(broker.bootstrap, "alerts", out::Format::kFalco, spool.path, 200, vigil::Priority::kWarning, &sent);
  REQUIRE(sent.size() == 100);

  auto records = ConsumeAll(broker.bootstrap, "alerts");
  REQUIRE(records.size() == sent.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const auto& a = sent[i];  // one partition: consumed in produced order
    INFO(r.value);
    CHECK(r.key == "test-host-id");
    CHECK(r.headers == "content-type=application/json,rule=" + a.rule + ",priority=Warning");
    json j = json::parse(r.value);
    CHECK(j["uuid"] == a.uuid);
    CHECK(j["rule"] == a.rule);
    CHECK(j["priority"] == "Warning");
    CHECK(j["hostname"] == "node-7");
    CHECK(j["output_fields"]["n"] == std::get<int64_t>(a.output_fields[0].second));
  }
  // Everything delivered: the spool holds nothing to replay.
  out::SpoolOptions so;
  so.dir = spool.path.string();
  std::string error;
  auto reopened = out::Spool::Open(so, &error);
  REQUIRE(reopened);
  CHECK(reopened->pending() == 0);
}

TEST_CASE("Kafka sink delivers OCSF Detection Findings", "[kafka]") {
  MockBroker broker({"ocsf:2"});
  TempDir spool;
  std::vector<vigil::Alert> sent;
  Produce(broker.bootstrap, "ocsf", out::Format::kOcsf, spool.path, 20, vigil::Priority::kDebug, &sent);
  auto records = ConsumeAll(broker.bootstrap, "ocsf");
  REQUIRE(records.size() == 20);
  std::set<std::string> uuids;
  for (const auto& r : records) {
    json j = json::parse(r.value);
    CHECK(j["class_uid"] == 2004);
    CHECK(j["type_uid"] == 200401);
    CHECK(j["finding_info"]["attacks"][0]["technique"]["uid"] == "T1059");
    uuids.insert(j["finding_info"]["uid"].get<std::string>());
  }
  std::set<std::string> expected;
  for (const auto& a : sent) expected.insert(a.uuid);
  CHECK(uuids == expected);
}

TEST_CASE("Kafka sink rejects a bad librdkafka property with its name", "[kafka]") {
  TempDir spool;
  out::KafkaSinkOptions o;
  o.brokers = "127.0.0.1:1";
  o.spool.dir = spool.path.string();
  o.properties["no.such.property"] = "1";
  std::string error;
  CHECK_FALSE(out::KafkaSink::Create(o, &error));
  CHECK(error.find("no.such.property") != std::string::npos);
}

TEST_CASE("A full spool drops the oldest alerts not in flight, counts them and says so in an alert", "[kafka]") {
  MockBroker broker({"overflow:1"});
  TempDir spool;
  broker.Command("down");
  out::KafkaSinkOptions o;
  o.brokers = broker.bootstrap;
  o.topic = "overflow";
  o.host_id = "h";
  o.spool.dir = spool.path.string();
  o.spool.max_bytes = 256 << 10;  // 32 KiB segments: a few hundred alerts each
  o.max_in_flight = 100;          // the producer's queue holds only the first 100
  // after "up", reconnect within 200 ms rather than librdkafka's default
  // backoff of up to 10 s (as kafka_driver does)
  o.properties["reconnect.backoff.max.ms"] = "200";
  std::vector<vigil::Alert> internal;
  o.on_internal_alert = [&](const vigil::Alert& a) { internal.push_back(a); };
  std::string error;
  auto sink = out::KafkaSink::Create(o, &error);
  REQUIRE(sink);
  constexpr int kAlerts = 3000;
  for (int i = 0; i < kAlerts; ++i) {
    sink->Write(MakeAlert(i));
    sink->Tick();
  }
  const uint64_t dropped = sink->counters().dropped.load();
  CHECK(dropped > 0);
  CHECK(sink->spool_bytes() <= 256u << 10);
  REQUIRE_FALSE(internal.empty());
  CHECK(internal.front().rule == "vigil spool overflow");
  // the pending gauge (vigil_alerts_pending) is the spool's backlog
  CHECK(sink->counters().pending.load() == sink->spool_pending());
  CHECK(sink->counters().pending.load() > 0);

  broker.Command("up");
  // a deadline in time, not in iterations: each Tick() may take a while on a
  // loaded host
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sink->spool_pending() > 0 && std::chrono::steady_clock::now() < drain_deadline) {
    sink->Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO("spool not drained within 30 s of the broker coming back");
  REQUIRE(sink->spool_pending() == 0);
  CHECK(sink->counters().pending.load() == 0);
  sink->Close(5000);

  auto records = ConsumeAll(broker.bootstrap, "overflow");
  int overflow_alerts = 0;
  std::vector<int> ns;
  for (const auto& r : records) {
    json j = json::parse(r.value);
    if (j["rule"] == "vigil spool overflow") {
      ++overflow_alerts;
      CHECK(j["output_fields"]["vigil.spool.dropped"].get<uint64_t>() > 0);
      CHECK(r.headers.find("priority=Error") != std::string::npos);
    } else {
      ns.push_back(j["output_fields"]["n"].get<int>());
    }
  }
  // Every dropped alert is counted in some overflow alert.
  uint64_t reported = 0;
  for (const auto& a : internal)
    for (const auto& [name, value] : a.output_fields)
      if (name == "vigil.spool.dropped") reported += std::get<uint64_t>(value);
  CHECK(reported == dropped);
  CHECK(overflow_alerts > 0);
  // Exact accounting: every regular alert was delivered or counted as
  // dropped; the rest of `dropped` is overflow reports that aged out too.
  const uint64_t lost_overflow = internal.size() - static_cast<uint64_t>(overflow_alerts);
  CHECK(kAlerts - ns.size() + lost_overflow == dropped);
  // The first 100 were in the producer's queue when the spool filled: they
  // (and the rest of their segments) were kept; the alerts after them went,
  // oldest first, so what else survived is the newest, in order: one gap.
  REQUIRE(ns.size() > 100);
  for (int i = 0; i < 100; ++i) CHECK(ns[static_cast<std::size_t>(i)] == i);
  int gaps = 0;
  for (std::size_t i = 1; i < ns.size(); ++i) {
    CHECK(ns[i] > ns[i - 1]);
    if (ns[i] != ns[i - 1] + 1) ++gaps;
  }
  CHECK(gaps == 1);
  CHECK(ns.back() == kAlerts - 1);
}

// Issue 24 item 6: /healthz said ok while a sink could not deliver. librdkafka
// reports nothing during an outage (it retries without end), so the Kafka
// sink marks itself failing when alerts wait and none is delivered.
TEST_CASE("The Kafka sink is marked failing while nothing is delivered, and recovers", "[kafka]") {
  MockBroker broker({"stall:1"});
  TempDir spool;
  broker.Command("down");
  out::KafkaSinkOptions o;
  o.brokers = broker.bootstrap;
  o.topic = "stall";
  o.host_id = "h";
  o.spool.dir = spool.path.string();
  o.stall_after_ms = 300;
  o.properties["reconnect.backoff.max.ms"] = "200";
  std::string error;
  auto sink = out::KafkaSink::Create(o, &error);
  REQUIRE(sink);
  for (int i = 0; i < 5; ++i) sink->Write(MakeAlert(i));
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  while (std::chrono::steady_clock::now() < until) {
    sink->Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(sink->counters().sent.load() == 0);
  CHECK(sink->counters().failing_since_ns.load() != 0);
  broker.Command("up");
  until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sink->counters().sent.load() < 5 && std::chrono::steady_clock::now() < until) {
    sink->Tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sink->Tick();
  CHECK(sink->counters().sent.load() == 5);
  CHECK(sink->counters().failing_since_ns.load() == 0);
  sink->Close(2000);
}
