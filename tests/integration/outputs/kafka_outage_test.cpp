// SPDX-License-Identifier: Apache-2.0
// No alert lost through a broker outage and an agent SIGKILL + restart:
// 10,000 alerts are produced by a driver process while the broker goes down;
// the driver is killed midway and restarted on the same spool; the broker
// comes back; kcat must then find all 10,000, duplicates only as repeated
// uuids, in order per key.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "kafka_test_util.h"

namespace fs = std::filesystem;
using nlohmann::json;
using vigil::testing::ChildProcess;
using vigil::testing::ConsumeAll;
using vigil::testing::MockBroker;

namespace {

// Consumes `topic` and checks that every alert numbered in one of the
// `required` ranges [first, last) arrived, none numbered `limit` or more, that
// any duplicate is the same alert (same uuid), and that each key's alerts are
// in order (first occurrences by offset only increase). Returns the duplicates.
int CheckArrived(const std::string& bootstrap, const std::string& topic,
                 const std::vector<std::pair<int, int>>& required, int limit) {
  auto records = ConsumeAll(bootstrap, topic);
  std::map<int, std::string> uuid_of;  // n -> uuid
  std::map<int, std::vector<std::pair<long long, int>>> by_partition;
  int duplicates = 0;
  for (const auto& r : records) {
    json j = json::parse(r.value);
    int n = j["output_fields"]["n"].get<int>();
    std::string uuid = j["uuid"];
    auto [it, fresh] = uuid_of.emplace(n, uuid);
    if (!fresh) {
      ++duplicates;
      CHECK(it->second == uuid);  // a duplicate is the same alert, same uuid
    }
    CHECK(n < limit);
    CHECK(r.key == (n % 2 == 0 ? "host-a" : "host-b"));
    by_partition[r.partition].push_back({r.offset, n});
  }
  INFO("records " << records.size() << ", duplicates " << duplicates);
  for (const auto& [first, last] : required)
    for (int n = first; n < last; ++n) {
      INFO("alert " << n);
      REQUIRE(uuid_of.count(n) == 1);
    }

  // In order per key: within a partition (one key maps to one partition),
  // ordered by offset, each key's first occurrences only increase.
  for (auto& [partition, list] : by_partition) {
    std::sort(list.begin(), list.end());
    std::map<int, int> last_first;  // key parity -> last first-seen n
    std::set<int> seen;
    for (const auto& [offset, n] : list) {
      if (!seen.insert(n).second) continue;
      auto it = last_first.find(n % 2);
      if (it != last_first.end()) CHECK(n > it->second);
      last_first[n % 2] = n;
    }
  }
  return duplicates;
}

}  // namespace

TEST_CASE("10,000 alerts survive a broker outage and a SIGKILL restart of the producer", "[kafka]") {
  constexpr int kTotal = 10000, kHalf = 5000;
  char tmpl[] = "/tmp/vigil-outage-XXXXXX";
  fs::path spool = fs::path(::mkdtemp(tmpl)) / "spool";
  MockBroker broker({"outage:2"});

  // Run 1: broker up at first (some alerts delivered), down once 1,000 are;
  // SIGKILL once all of its 5,000 are in the spool.
  {
    ChildProcess run1({KAFKA_DRIVER_PATH, broker.bootstrap, "outage", spool.string(), "0",
                       std::to_string(kHalf), "2000", "0"});
    REQUIRE(run1.started());
    // Wait until the broker has confirmed some alerts, so the outage starts
    // with deliveries under way. The progress lines stop at "all-spooled"
    // (which carries the sent count too): waiting past it for a "spooled "
    // line would only time out.
    std::optional<std::string> at_2000, at_end;
    int sent = 0;
    for (;;) {
      auto line = run1.ReadLine(20000);
      INFO("kafka_driver printed nothing for 20 s (last progress: " << (at_2000 ? *at_2000 : "none") << ")");
      REQUIRE(line);
      const bool progress = line->rfind("spooled ", 0) == 0, done = line->rfind("all-spooled", 0) == 0;
      if (!progress && !done) continue;
      at_2000 = line;
      sent = std::stoi(line->substr(line->find(" sent ") + 6));
      if (done) at_end = line;
      if (done || sent >= 1000) break;
    }
    INFO("run 1 spooled all its " << kHalf << " alerts with only " << sent
                                  << " confirmed by the broker: the outage would not start with deliveries under way ("
                                  << *at_2000 << ")");
    REQUIRE(sent >= 1000);
    broker.Command("down");
    if (!at_end) at_end = run1.WaitFor("all-spooled", 20000);
    REQUIRE(at_end);
    std::printf("outage test: run 1 at outage: %s; at kill: %s\n", at_2000->c_str(), at_end->c_str());
    run1.Kill(SIGKILL);
    CHECK(run1.Wait() == 128 + SIGKILL);
  }
  // Run 2: same spool, broker still down; then up; waits until all delivered.
  ChildProcess run2({KAFKA_DRIVER_PATH, broker.bootstrap, "outage", spool.string(), std::to_string(kHalf),
                     std::to_string(kTotal), "20000", "1"});
  REQUIRE(run2.started());
  REQUIRE(run2.WaitFor("all-spooled", 20000));
  broker.Command("up");
  auto drained = run2.WaitFor("drained", 60000);
  REQUIRE(drained);
  INFO(*drained);
  CHECK(run2.Wait() == 0);

  int duplicates = CheckArrived(broker.bootstrap, "outage", {{0, kTotal}}, kTotal);
  std::printf("outage test: %d duplicates (same uuid), run 2: %s\n", duplicates, drained->c_str());
  fs::remove_all(spool.parent_path());
}

TEST_CASE("SIGKILL while the broker confirms deliveries: replay sends duplicates only by uuid", "[kafka]") {
  constexpr int kTotal = 4000, kFirst = 3000;
  char tmpl[] = "/tmp/vigil-kill-XXXXXX";
  fs::path spool = fs::path(::mkdtemp(tmpl)) / "spool";
  MockBroker broker({"killed:2"});
  {
    ChildProcess run1({KAFKA_DRIVER_PATH, broker.bootstrap, "killed", spool.string(), "0",
                       std::to_string(kFirst), "3000", "0"});
    REQUIRE(run1.started());
    auto at = run1.WaitFor("spooled 2500", 20000);  // broker up: deliveries under way
    REQUIRE(at);
    run1.Kill(SIGKILL);
    CHECK(run1.Wait() == 128 + SIGKILL);
    std::printf("kill test: run 1 killed at: %s\n", at->c_str());
  }
  ChildProcess run2({KAFKA_DRIVER_PATH, broker.bootstrap, "killed", spool.string(), std::to_string(kFirst),
                     std::to_string(kTotal), "0", "1"});
  REQUIRE(run2.started());
  auto drained = run2.WaitFor("drained", 60000);
  REQUIRE(drained);
  CHECK(run2.Wait() == 0);
  // Run 1 had spooled at least 2,500 when killed (the rest of its range it
  // may not have submitted yet); everything it spooled and all of run 2's
  // alerts must be there.
  int duplicates = CheckArrived(broker.bootstrap, "killed", {{0, 2500}, {kFirst, kTotal}}, kTotal);
  std::printf("kill test: %d duplicates (same uuid), run 2: %s\n", duplicates, drained->c_str());
  fs::remove_all(spool.parent_path());
}

namespace {

// The number after `name` in a driver line ("dropped 12" or "dropped=12").
uint64_t Field(const std::string& line, const std::string& name) {
  auto pos = line.find(name);
  REQUIRE(pos != std::string::npos);
  return std::stoull(line.substr(pos + name.size() + 1));
}

}  // namespace

// Issue 24 item 1: with the broker down and a 1 MiB spool, overflow deleted
// the oldest segments although their records were already handed to
// librdkafka (in flight); a SIGKILL then lost them with dropped_total 0 and no
// overflow alert (978/1500 arrived). Now in-flight records are never evicted
// and every alert is delivered or counted as dropped.
TEST_CASE("Spool overflow during an outage with a SIGKILL restart: every alert delivered or counted", "[kafka]") {
  constexpr int kTotal = 8000;  // ~2.5 MB of alerts
  char tmpl[] = "/tmp/vigil-overflow-XXXXXX";
  fs::path spool = fs::path(::mkdtemp(tmpl)) / "spool";
  MockBroker broker({"overflow-kill:1"});
  broker.Command("down");
  uint64_t dropped = 0, overflow_alerts = 0;
  {
    ChildProcess run1({KAFKA_DRIVER_PATH, broker.bootstrap, "overflow-kill", spool.string(), "0",
                       std::to_string(kTotal), "0", "0", "1024"});
    REQUIRE(run1.started());
    auto line = run1.WaitFor("all-spooled", 30000);
    REQUIRE(line);
    dropped += Field(*line, "dropped");
    overflow_alerts += Field(*line, "overflow_alerts");
    std::printf("overflow kill test: run 1: %s\n", line->c_str());
    CHECK(Field(*line, "dropped") > 0);  // they do not fit in 1 MiB
    CHECK(Field(*line, "overflow_alerts") > 0);
    run1.Kill(SIGKILL);
    CHECK(run1.Wait() == 128 + SIGKILL);
  }
  ChildProcess run2({KAFKA_DRIVER_PATH, broker.bootstrap, "overflow-kill", spool.string(),
                     std::to_string(kTotal), std::to_string(kTotal), "0", "1", "1024"});
  REQUIRE(run2.started());
  REQUIRE(run2.WaitFor("all-spooled", 20000));
  broker.Command("up");
  auto drained = run2.WaitFor("drained", 60000);
  REQUIRE(drained);
  CHECK(run2.Wait() == 0);
  dropped += Field(*drained, "dropped");
  overflow_alerts += Field(*drained, "overflow_alerts");

  std::set<int> alerts;
  std::set<std::string> overflow_seen;
  for (const auto& r : ConsumeAll(broker.bootstrap, "overflow-kill")) {
    json j = json::parse(r.value);
    if (j["rule"] == "vigil spool overflow") overflow_seen.insert(j["uuid"].get<std::string>());
    else alerts.insert(j["output_fields"]["n"].get<int>());
  }
  std::printf("overflow kill test: %zu/%d alerts delivered, %llu dropped, %llu overflow alerts (%zu in Kafka); %s\n",
              alerts.size(), kTotal, static_cast<unsigned long long>(dropped),
              static_cast<unsigned long long>(overflow_alerts), overflow_seen.size(), drained->c_str());
  // `dropped` also counts overflow alerts that did not fit in the spool.
  const uint64_t overflow_dropped = overflow_alerts - overflow_seen.size();
  CHECK(alerts.size() + dropped - overflow_dropped == static_cast<uint64_t>(kTotal));
  CHECK(alerts.count(0) == 1);  // the oldest were in flight when the spool filled: kept
  fs::remove_all(spool.parent_path());
}
