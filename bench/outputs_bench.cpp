// SPDX-License-Identifier: Apache-2.0
// outputs_bench: alert throughput through the outputs. Prints figures and
// ratios against a baseline measured in the same run (Falco JSON encoding
// alone); never asserts timings.
//
// Usage: outputs_bench [N alerts, default 100000]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "outputs/encode.h"
#include "outputs/file_sink.h"
#include "outputs/kafka_sink.h"
#include "outputs/spool.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;
using Clock = std::chrono::steady_clock;

namespace {

vigil::Alert MakeAlert(int i) {
  vigil::Alert a;
  a.uuid = vigil::NewUuid();
  a.time_ns = 1700000000000000000ull + static_cast<uint64_t>(i);
  a.rule = "Shell spawned by web server";
  a.priority = vigil::Priority::kWarning;
  a.output = "Shell spawned by nginx (user=www-data proc.cmdline=sh -c id parent=nginx pid=" +
             std::to_string(1000 + i) + ")";
  a.output_fields = {{"proc.name", std::string("sh")},       {"proc.pid", uint64_t(1000 + i)},
                     {"proc.cmdline", std::string("sh -c id")}, {"proc.pname", std::string("nginx")},
                     {"user.name", std::string("www-data")},  {"container.id", std::string("host")}};
  a.tags = {"shell", "mitre_execution", "T1059.004"};
  a.hostname = "bench-host";
  a.process = {static_cast<uint32_t>(1000 + i), 1, 33, "sh", "/bin/sh", "sh -c id", "e", "nginx", "/usr/sbin/nginx"};
  return a;
}

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Row(const char* what, int n, double secs, double baseline_rate) {
  double rate = n / secs;
  std::printf("%-44s %10.0f alerts/s   %6.3f x baseline\n", what, rate, rate / baseline_rate);
}

// Encoding alone: the baseline rate, and OCSF beside it.
double EncodeRows(const std::vector<vigil::Alert>& alerts) {
  const int n = static_cast<int>(alerts.size());
  std::size_t bytes = 0;
  auto t0 = Clock::now();
  for (const auto& a : alerts) bytes += out::EncodeFalcoJson(a).size();
  double base_secs = Seconds(t0);
  double base = n / base_secs;
  std::printf("outputs_bench: %d alerts, Falco JSON %.0f bytes/alert\n", n, double(bytes) / n);
  Row("baseline: encode Falco JSON", n, base_secs, base);
  t0 = Clock::now();
  for (const auto& a : alerts) bytes += out::EncodeOcsf(a).size();
  Row("encode OCSF", n, Seconds(t0), base);
  return base;
}

void FileSinkRows(const std::vector<vigil::Alert>& alerts, const fs::path& dir, double base) {
  const int n = static_cast<int>(alerts.size());
  for (int fsync_ms : {-1, 1000}) {
    out::FileSinkOptions o;
    o.path = (dir / ("alerts-" + std::to_string(fsync_ms) + ".json")).string();
    o.fsync_interval_ms = fsync_ms;
    o.max_size_bytes = 0;
    out::FileSink sink(o);
    auto t0 = Clock::now();
    for (const auto& a : alerts) sink.Write(a);
    sink.Close(10000);
    Row(fsync_ms < 0 ? "file sink (encode + write, no fsync)" : "file sink (encode + write, fsync 1 s)", n,
        Seconds(t0), base);
  }
}

// Spool alone: write, then replay (read + ack).
bool SpoolRows(const std::vector<vigil::Alert>& alerts, const fs::path& dir, double base) {
  const int n = static_cast<int>(alerts.size());
  out::SpoolOptions so;
  so.dir = (dir / "spool-raw").string();
  so.max_bytes = 4ull << 30;
  std::string error;
  auto spool = out::Spool::Open(so, &error);
  if (!spool) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  std::vector<std::string> payloads;
  for (const auto& a : alerts) payloads.push_back(out::EncodeFalcoJson(a));
  auto t0 = Clock::now();
  uint64_t dropped;
  for (const auto& p : payloads) spool->Append(p, &dropped);
  double ws = Seconds(t0);
  Row("spool append (pre-encoded)", n, ws, base);
  std::printf("%-44s %10.1f MB/s\n", "spool append bandwidth", spool->bytes() / ws / 1e6);
  t0 = Clock::now();
  uint64_t seq;
  std::string p;
  int replayed = 0;
  while (spool->ReadNext(&seq, &p)) {
    spool->Ack(seq);
    ++replayed;
  }
  spool->Maintain(true);
  Row("spool replay (read + ack)", replayed, Seconds(t0), base);
  return true;
}

void WaitDelivered(out::KafkaSink& sink, int n) {
  while (sink.counters().sent.load() < static_cast<uint64_t>(n)) {
    sink.Tick();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// One Kafka sink run; `outage`: spool everything while the broker is down,
// then time the replay.
bool KafkaRun(const std::vector<vigil::Alert>& alerts, const fs::path& dir, rd_kafka_mock_cluster_t* mc,
              const std::string& bootstrap, bool outage, double base) {
  const int n = static_cast<int>(alerts.size());
  out::KafkaSinkOptions o;
  o.brokers = bootstrap;
  o.topic = "bench";
  o.spool.dir = (dir / (outage ? "spool-outage" : "spool-kafka")).string();
  o.spool.max_bytes = 4ull << 30;
  std::string error;
  auto sink = out::KafkaSink::Create(o, &error);
  if (!sink) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  if (outage) {
    rd_kafka_mock_broker_set_down(mc, 1);
    auto t0 = Clock::now();
    for (const auto& a : alerts) sink->Write(a);
    Row("kafka sink, broker down (encode + spool)", n, Seconds(t0), base);
    rd_kafka_mock_broker_set_up(mc, 1);
    t0 = Clock::now();
    WaitDelivered(*sink, n);
    Row("kafka sink, replay after outage", n, Seconds(t0), base);
  } else {
    auto t0 = Clock::now();
    for (const auto& a : alerts) sink->Write(a);
    WaitDelivered(*sink, n);
    Row("kafka sink -> mock broker (delivery reports)", n, Seconds(t0), base);
  }
  sink->Close(10000);
  return true;
}

// Kafka sink to the mock cluster (in this process), delivery confirmed.
bool KafkaRows(const std::vector<vigil::Alert>& alerts, const fs::path& dir, double base) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);  // the cluster's own client has no brokers
  rd_kafka_t* mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(mrk, 1);
  rd_kafka_mock_topic_create(mc, "bench", 1, 1);
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  bool ok = true;
  for (bool outage : {false, true})
    if (ok) ok = KafkaRun(alerts, dir, mc, bootstrap, outage, base);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(mrk);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  // The outage phase makes librdkafka log connection failures; they are expected here.
  spdlog::set_level(spdlog::level::critical);
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  std::vector<vigil::Alert> alerts;
  alerts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) alerts.push_back(MakeAlert(i));
  char tmpl[] = "/tmp/vigil-outputs-bench-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  const double base = EncodeRows(alerts);
  FileSinkRows(alerts, dir, base);
  if (!SpoolRows(alerts, dir, base) || !KafkaRows(alerts, dir, base)) return 1;
  fs::remove_all(dir);
  return 0;
}
