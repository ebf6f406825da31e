// SPDX-License-Identifier: Apache-2.0
// Kafka sink: librdkafka producer behind a write-ahead disk spool.
//
// Contract:
// - Write() encodes the alert and appends it to the spool before producing,
//   so an alert accepted by Write() survives SIGKILL of the agent and broker
//   outages of any length (within spool_max_bytes).
// - An alert counts as sent only when its delivery report succeeds; then it
//   is acknowledged in the spool. Failed reports are counted, and everything
//   not yet acknowledged is produced again, in spool order, once the
//   producer's queue has drained. Records are produced in spool order, so
//   per key (partition) order is spool order; after a restart or retry an
//   alert may arrive twice, with the same uuid.
// - Spool overflow never evicts a record handed to librdkafka and not yet
//   confirmed (at most half the spool is in flight); every alert that leaves
//   the spool undelivered counts in `dropped`, is logged and is reported in a
//   "vigil spool overflow" alert (Error; at most one per 5 s, each carrying
//   every drop since the previous one; the last at Close()).
// - Producer defaults: enable.idempotence=true, acks=all, compression zstd
//   (lz4 if this librdkafka lacks zstd, logged), message.timeout.ms=0 (retry
//   until delivered: the spool, not a timer, bounds what is kept). Every entry
//   of `properties` is passed to librdkafka after the defaults (TLS, SASL...).
// - Message: key per `key` mode, value = the encoded alert, headers
//   content-type, rule, priority.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "outputs/encode.h"
#include "outputs/sink.h"
#include "outputs/spool.h"

struct rd_kafka_s;
struct rd_kafka_conf_s;
struct rd_kafka_message_s;

namespace vigil::outputs {

enum class KafkaKey : uint8_t { kHostId, kHostname, kRule, kNone };
std::optional<KafkaKey> ParseKafkaKey(std::string_view text);  // host_id|hostname|rule|none

struct KafkaSinkOptions {
  std::string brokers;
  std::string topic = "vigil-alerts";
  Format format = Format::kFalco;
  FalcoJsonOptions falco_json;  // used when format is falco
  KafkaKey key = KafkaKey::kHostId;
  std::string host_id;  // empty: /etc/machine-id, else the hostname
  SpoolOptions spool;
  std::map<std::string, std::string> properties;
  std::size_t max_in_flight = 10000;  // produced, awaiting a delivery report
  // Alerts pending and none delivered for this long: the sink is marked
  // failing (SinkCounters; /healthz) until a delivery succeeds.
  int stall_after_ms = 30000;
  // Receives the alert that reports spool overflow, for the other sinks.
  std::function<void(const Alert&)> on_internal_alert;
};

// The machine id (/etc/machine-id), or the hostname when there is none.
std::string HostId();

class KafkaSink : public Sink {
 public:
  // Configures the producer and opens the spool; nullptr + *error on a bad
  // property, an unusable spool directory or a librdkafka failure.
  static std::unique_ptr<KafkaSink> Create(KafkaSinkOptions options, std::string* error);
  // What Create() would refuse in the producer configuration (brokers, topic,
  // every property, and the checks librdkafka makes when a producer is
  // created), without opening the spool or sending anything: `--dry-run`.
  static std::optional<std::string> CheckConfig(const KafkaSinkOptions& options);
  ~KafkaSink() override;

  std::string_view Name() const override { return "kafka"; }
  void Write(const Alert& alert) override;
  void Tick() override;
  void Close(int deadline_ms) override;

  // Spool state for tests, the benchmark and metrics (sink thread only).
  uint64_t spool_pending() const;
  // Records not yet delivered as of the last Write()/Tick(); any thread.
  uint64_t pending_snapshot() const { return counters_.pending.load(std::memory_order_relaxed); }
  uint64_t spool_bytes() const;
  // Which compression codec the producer uses (zstd unless unavailable).
  const std::string& compression() const { return compression_; }

  // Payload layout inside spool records (exposed for the fuzz target).
  struct Message {
    Priority priority = Priority::kWarning;
    std::string_view key;
    std::string_view rule;
    std::string_view value;
  };
  static std::string PackMessage(const Message& m);
  static bool UnpackMessage(std::string_view payload, Message* m);

 private:
  explicit KafkaSink(KafkaSinkOptions options);
  bool Init(std::string* error);
  static ::rd_kafka_conf_s* BuildConf(const KafkaSinkOptions& options, std::string* compression, bool log,
                                    std::string* error);
  void Pump();
  void Append(const Message& m);
  void ReportOverflow(uint64_t dropped);
  void RaiseOverflowAlert(bool force);
  void CheckProgress(uint64_t pending);
  static void OnDelivery(::rd_kafka_s* rk, const ::rd_kafka_message_s* msg, void* opaque);

  KafkaSinkOptions options_;
  std::unique_ptr<Spool> spool_;
  ::rd_kafka_s* rk_ = nullptr;
  std::string compression_;
  bool need_rewind_ = false;
  std::size_t outstanding_ = 0;  // produced, delivery report not yet in
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::steady_clock::time_point last_fail_log_{};
  uint64_t fails_since_log_ = 0;
  uint64_t sent_at_progress_ = 0;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
  bool stalled_ = false;
  uint64_t overflow_unreported_ = 0;  // dropped, not yet in an overflow alert
  std::chrono::steady_clock::time_point last_overflow_alert_{};
  std::string payload_;  // reused read buffer
};

}  // namespace vigil::outputs
