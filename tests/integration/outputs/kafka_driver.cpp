// SPDX-License-Identifier: Apache-2.0
// kafka_driver: a stand-in for the agent's output path in Kafka tests. It
// submits alerts numbered FROM..TO-1 through the fan-out to a Kafka sink with
// a disk spool, reporting progress on stdout so a test can take the broker
// down, SIGKILL this process midway, and restart it on the same spool.
//
// Usage: kafka_driver BROKERS TOPIC SPOOL_DIR FROM TO RATE_PER_S DRAIN(0|1) [SPOOL_MAX_KB]
// Alert i: uuid derived from i (so a duplicate is recognisable), hostname
// host-a / host-b alternating (the message key), output_fields.n = i.
// Prints "spooled K sent S" every 500 alerts appended to the spool and
// "all-spooled sent S dropped D overflow_alerts K" once the sink has taken
// the last (D: dropped by this process, K: spool overflow alerts it raised);
// with DRAIN=1 waits until the spool is empty, prints "drained ..." and exits 0.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <spdlog/spdlog.h>

#include "outputs/fanout.h"
#include "outputs/kafka_sink.h"

namespace out = vigil::outputs;

int main(int argc, char** argv) {
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: kafka_driver BROKERS TOPIC SPOOL_DIR FROM TO RATE DRAIN [SPOOL_MAX_KB]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const int from = std::atoi(argv[4]), to = std::atoi(argv[5]), rate = std::atoi(argv[6]);
  const bool drain = std::atoi(argv[7]) != 0;
  out::KafkaSinkOptions o;
  o.brokers = argv[1];
  o.topic = argv[2];
  o.spool.dir = argv[3];
  o.spool.max_bytes = argc == 9 ? std::strtoull(argv[8], nullptr, 10) << 10 : 64ull << 20;
  std::atomic<uint64_t> overflow_alerts{0};
  o.on_internal_alert = [&](const vigil::Alert&) { overflow_alerts.fetch_add(1); };
  o.key = out::KafkaKey::kHostname;
  o.properties["reconnect.backoff.max.ms"] = "200";
  std::string error;
  auto sink = out::KafkaSink::Create(o, &error);
  if (!sink) {
    std::fprintf(stderr, "kafka_driver: %s\n", error.c_str());
    return 1;
  }
  out::KafkaSink* k = sink.get();
  out::FanOut fanout;
  fanout.AddSink(std::move(sink), 1 << 20);
  fanout.Start();

  auto start = std::chrono::steady_clock::now();
  uint64_t reported = 0;
  auto report = [&] {
    uint64_t s = k->counters().spooled.load();
    while (reported + 500 <= s) {
      reported += 500;
      std::printf("spooled %llu sent %llu\n", static_cast<unsigned long long>(reported),
                  static_cast<unsigned long long>(k->counters().sent.load()));
      std::fflush(stdout);
    }
  };
  for (int i = from; i < to; ++i) {
    vigil::Alert a;
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
    a.uuid = uuid;
    a.time_ns = 1700000000000000000ull + static_cast<uint64_t>(i);
    a.rule = "Outage test";
    a.priority = vigil::Priority::kWarning;
    a.output = "alert " + std::to_string(i);
    a.output_fields = {{"n", int64_t{i}}};
    a.hostname = i % 2 == 0 ? "host-a" : "host-b";
    fanout.Submit(std::move(a));
    if (rate > 0) {
      auto due = start + std::chrono::microseconds(static_cast<int64_t>(i - from + 1) * 1000000 / rate);
      std::this_thread::sleep_until(due);
    }
    if ((i - from) % 100 == 0) report();
  }
  while (!fanout.WaitIdle(5)) report();
  report();
  std::printf("all-spooled sent %llu dropped %llu overflow_alerts %llu\n",
              static_cast<unsigned long long>(k->counters().sent.load()),
              static_cast<unsigned long long>(k->counters().dropped.load()),
              static_cast<unsigned long long>(overflow_alerts.load()));
  std::fflush(stdout);
  if (!drain) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // killed by the test
  }
  while (k->pending_snapshot() > 0 || k->counters().sent.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fanout.Stop();
  std::printf("drained sent=%llu failed=%llu dropped=%llu overflow_alerts=%llu\n",
              static_cast<unsigned long long>(k->counters().sent.load()),
              static_cast<unsigned long long>(k->counters().failed.load()),
              static_cast<unsigned long long>(k->counters().dropped.load()),
              static_cast<unsigned long long>(overflow_alerts.load()));
  std::fflush(stdout);
  return 0;
}
