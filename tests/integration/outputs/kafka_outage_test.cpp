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
    // with deliveries under way.
    std::optional<std::string> at_2000;
    for (;;) {
      at_2000 = run1.WaitFor("spooled ", 20000);
      REQUIRE(at_2000);
      if (std::stoi(at_2000->substr(at_2000->find(" sent ") + 6)) >= 1000) break;
    }
    broker.Command("down");
    auto at_end = run1.WaitFor("all-spooled", 20000);
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

  auto records = ConsumeAll(broker.bootstrap, "outage");
  std::map<int, std::string> uuid_of;           // n -> uuid
  std::map<std::string, std::vector<int>> by_key;  // key -> n in offset order per partition
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
    CHECK(r.key == (n % 2 == 0 ? "host-a" : "host-b"));
    by_partition[r.partition].push_back({r.offset, n});
  }
  INFO("records " << records.size() << ", duplicates " << duplicates);
  std::printf("outage test: %zu records consumed, %d duplicates (same uuid), run 2: %s\n", records.size(),
              duplicates, drained->c_str());
  CHECK(uuid_of.size() == static_cast<std::size_t>(kTotal));
  CHECK(records.size() == kTotal + static_cast<std::size_t>(duplicates));
  for (int n = 0; n < kTotal; ++n) REQUIRE(uuid_of.count(n) == 1);

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
  fs::remove_all(spool.parent_path());
}
