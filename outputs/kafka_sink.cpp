// SPDX-License-Identifier: Apache-2.0
#include "outputs/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

namespace vigil::outputs {
namespace {

using Clock = std::chrono::steady_clock;

void PutU16(std::string* out, std::size_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
}
uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}

bool SetConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string* error) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    *error = "kafka: property '" + key + "': " + err;
    return false;
  }
  return true;
}

bool HasFeature(rd_kafka_conf_t* conf, std::string_view feature) {
  char buf[512];
  size_t n = sizeof buf;
  if (rd_kafka_conf_get(conf, "builtin.features", buf, &n) != RD_KAFKA_CONF_OK) return false;
  std::string_view all(buf);
  std::size_t pos = 0;
  while (pos <= all.size()) {
    std::size_t comma = all.find(',', pos);
    if (comma == std::string_view::npos) comma = all.size();
    if (all.substr(pos, comma - pos) == feature) return true;
    pos = comma + 1;
  }
  return false;
}

void LogCallback(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  // syslog levels: 0..3 error, 4 warning, 5..6 info, 7 debug
  if (level <= 3) spdlog::error("kafka: {}: {}", fac, buf);
  else if (level == 4) spdlog::warn("kafka: {}: {}", fac, buf);
  else if (level <= 6) spdlog::info("kafka: {}: {}", fac, buf);
  else spdlog::debug("kafka: {}: {}", fac, buf);
}

void ErrorCallback(rd_kafka_t*, int err, const char* reason, void*) {
  // Transport errors (broker down) are expected during outages; the spool holds the alerts.
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

}  // namespace

std::optional<KafkaKey> ParseKafkaKey(std::string_view text) {
  if (text == "host_id") return KafkaKey::kHostId;
  if (text == "hostname") return KafkaKey::kHostname;
  if (text == "rule") return KafkaKey::kRule;
  if (text == "none") return KafkaKey::kNone;
  return std::nullopt;
}

std::string HostId() {
  std::ifstream in("/etc/machine-id");
  std::string id;
  if (in && std::getline(in, id) && !id.empty()) return id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) return host;
  return "unknown";
}

std::string KafkaSink::PackMessage(const Message& m) {
  std::string out;
  auto key = m.key.substr(0, 0xffff), rule = m.rule.substr(0, 0xffff);
  out.reserve(6 + key.size() + rule.size() + m.value.size());
  out.push_back(1);  // layout version
  out.push_back(static_cast<char>(m.priority));
  PutU16(&out, key.size());
  PutU16(&out, rule.size());
  out.append(key);
  out.append(rule);
  out.append(m.value);
  return out;
}

bool KafkaSink::UnpackMessage(std::string_view p, Message* m) {
  if (p.size() < 6 || p[0] != 1) return false;
  auto prio = static_cast<uint8_t>(p[1]);
  if (prio > static_cast<uint8_t>(Priority::kDebug)) return false;
  std::size_t klen = GetU16(p.data() + 2), rlen = GetU16(p.data() + 4);
  if (p.size() - 6 < klen + rlen) return false;
  m->priority = static_cast<Priority>(prio);
  m->key = p.substr(6, klen);
  m->rule = p.substr(6 + klen, rlen);
  m->value = p.substr(6 + klen + rlen);
  return true;
}

// The producer configuration: vigil's defaults, then the user's properties.
// Null + *error on a property librdkafka refuses.
::rd_kafka_conf_s* KafkaSink::BuildConf(const KafkaSinkOptions& options, std::string* compression, bool log,
                                      std::string* error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  *compression = "zstd";
  if (!HasFeature(conf, "zstd")) {
    *compression = "lz4";
    if (log) spdlog::warn("kafka: this librdkafka was built without zstd; compressing with lz4 instead");
  }
  const std::pair<const char*, std::string> defaults[] = {
      {"bootstrap.servers", options.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", *compression},
      {"message.timeout.ms", "0"},
      {"linger.ms", "5"},
      {"client.id", "vigil"},
  };
  for (const auto& [k, v] : defaults)
    if (!SetConf(conf, k, v, error)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  for (const auto& [k, v] : options.properties) {
    if (log && k == "enable.idempotence" && v != "true")
      spdlog::warn("kafka: enable.idempotence={} weakens ordering and de-duplication guarantees", v);
    if (k == "compression.type" || k == "compression.codec") *compression = v;
    if (!SetConf(conf, k, v, error)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

std::optional<std::string> KafkaSink::CheckConfig(const KafkaSinkOptions& options) {
  if (options.brokers.empty()) return "kafka: no brokers configured";
  if (options.topic.empty()) return "kafka: no topic configured";
  std::string error, compression;
  rd_kafka_conf_t* conf = BuildConf(options, &compression, /*log=*/false, &error);
  if (conf == nullptr) return error;
  // Some settings are only checked together, when the producer is created
  // (e.g. message.timeout.ms below linger.ms). A producer with nothing to
  // send is created and destroyed at once.
  // It must not connect: no brokers, and nothing it would log.
  char err[512];
  if (rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return std::string("kafka: ") + err;
  }
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int, const char*, void*) {});
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return std::string("kafka: cannot create producer: ") + err;
  }
  rd_kafka_destroy(rk);
  return std::nullopt;
}

KafkaSink::KafkaSink(KafkaSinkOptions options) : options_(std::move(options)) {}

std::unique_ptr<KafkaSink> KafkaSink::Create(KafkaSinkOptions options, std::string* error) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink(std::move(options)));
  if (!sink->Init(error)) return nullptr;
  return sink;
}

bool KafkaSink::Init(std::string* error) {
  if (options_.brokers.empty()) {
    *error = "kafka: no brokers configured";
    return false;
  }
  if (options_.topic.empty()) {
    *error = "kafka: no topic configured";
    return false;
  }
  if (options_.host_id.empty()) options_.host_id = HostId();
  spool_ = Spool::Open(options_.spool, error);
  if (!spool_) return false;
  counters_.corrupt.store(spool_->corrupt(), std::memory_order_relaxed);
  counters_.pending.store(spool_->pending(), std::memory_order_relaxed);

  rd_kafka_conf_t* conf = BuildConf(options_, &compression_, /*log=*/true, error);
  if (conf == nullptr) return false;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::OnDelivery);
  rd_kafka_conf_set_log_cb(conf, LogCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    *error = std::string("kafka: cannot create producer: ") + err;
    return false;
  }
  spdlog::info("kafka sink: brokers {} topic {} format {} compression {} spool {} ({} records pending)",
               options_.brokers, options_.topic, FormatName(options_.format), compression_,
               options_.spool.dir, spool_->pending());
  return true;
}

KafkaSink::~KafkaSink() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
  rk_ = nullptr;
  if (spool_) spool_->Close();
}

void KafkaSink::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(msg->_private));
  if (self->outstanding_ > 0) --self->outstanding_;
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->spool_->Ack(seq);
    self->counters_.sent.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  self->counters_.failed.fetch_add(1, std::memory_order_relaxed);
  if (!self->spool_->Retains(seq)) {
    // Its spool segment was dropped while it was in flight: nothing left to retry.
    self->counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("kafka sink: delivery failed for an alert no longer in the full spool; lost: {}",
                  rd_kafka_err2str(msg->err));
    return;
  }
  self->need_rewind_ = true;
  ++self->fails_since_log_;
  auto now = Clock::now();
  if (now - self->last_fail_log_ > std::chrono::seconds(10)) {
    spdlog::error("kafka sink: delivery failed ({} failures since last report): {}; kept in spool for retry",
                  self->fails_since_log_, rd_kafka_err2str(msg->err));
    self->last_fail_log_ = now;
    self->fails_since_log_ = 0;
  }
}

void KafkaSink::Append(const Message& m) {
  uint64_t dropped = 0;
  const uint64_t refused_before = spool_->refused_full();
  auto seq = spool_->Append(PackMessage(m), &dropped);
  if (seq) counters_.spooled.fetch_add(1, std::memory_order_relaxed);
  if (!seq && spool_->refused_full() > refused_before) ++dropped;  // full of records in flight
  else if (!seq) counters_.dropped.fetch_add(1, std::memory_order_relaxed);  // write failed, logged
  if (dropped > 0) ReportOverflow(dropped);
}

void KafkaSink::ReportOverflow(uint64_t dropped) {
  counters_.dropped.fetch_add(dropped, std::memory_order_relaxed);
  counters_.dropped_reported.fetch_add(dropped, std::memory_order_relaxed);
  overflow_unreported_ += dropped;
  RaiseOverflowAlert(false);
}

void KafkaSink::RaiseOverflowAlert(bool force) {
  // One alert per interval carries every drop since the previous one, so a
  // long outage cannot turn into a storm of reports.
  constexpr auto kInterval = std::chrono::seconds(5);
  const auto now = Clock::now();
  if (overflow_unreported_ == 0 || (!force && now - last_overflow_alert_ < kInterval)) return;
  const uint64_t dropped = overflow_unreported_;
  overflow_unreported_ = 0;
  last_overflow_alert_ = now;
  spdlog::error("kafka sink: spool {} full ({:.1f} MiB): {} undelivered alerts dropped", options_.spool.dir,
                static_cast<double>(options_.spool.max_bytes) / (1 << 20), dropped);
  Alert a;
  a.uuid = NewUuid();
  a.time_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  a.rule = "vigil spool overflow";
  a.priority = Priority::kError;
  a.output = "Kafka spool " + options_.spool.dir + " full: " + std::to_string(dropped) +
             " undelivered alerts dropped (the oldest not yet handed to the producer, or the newest "
             "when the spool holds only alerts in flight)";
  a.output_fields = {{"vigil.spool.dir", options_.spool.dir},
                     {"vigil.spool.dropped", static_cast<uint64_t>(dropped)},
                     {"vigil.spool.max_bytes", static_cast<uint64_t>(options_.spool.max_bytes)}};
  a.tags = {"vigil", "data_loss"};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  a.hostname = host;
  a.source = "internal";
  std::string value = Encode(a, options_.format, options_.falco_json);
  std::string_view key = options_.key == KafkaKey::kNone ? std::string_view() : options_.host_id;
  uint64_t again = 0;
  const uint64_t refused_before = spool_->refused_full();
  if (spool_->Append(PackMessage({a.priority, key, a.rule, value}), &again))
    counters_.spooled.fetch_add(1, std::memory_order_relaxed);
  else if (spool_->refused_full() > refused_before)
    ++again;  // this report itself did not fit: the next one counts it
  if (options_.on_internal_alert) options_.on_internal_alert(a);
  // Making room for this report can drop more: counted now, reported in the
  // next interval (or at Close).
  if (again > 0) {
    counters_.dropped.fetch_add(again, std::memory_order_relaxed);
    counters_.dropped_reported.fetch_add(again, std::memory_order_relaxed);
    overflow_unreported_ += again;
  }
}

void KafkaSink::Write(const Alert& alert) {
  std::string value = Encode(alert, options_.format, options_.falco_json);
  std::string_view key;
  switch (options_.key) {
    case KafkaKey::kHostId: key = options_.host_id; break;
    case KafkaKey::kHostname: key = alert.hostname; break;
    case KafkaKey::kRule: key = alert.rule; break;
    case KafkaKey::kNone: break;
  }
  Append({alert.priority, key, alert.rule, value});
  Pump();
}

void KafkaSink::Pump() {
  rd_kafka_poll(rk_, 0);
  if (need_rewind_) {
    // Re-produce only once every earlier attempt has reported, so the retry
    // goes out in spool order behind nothing stale.
    if (outstanding_ > 0 || Clock::now() < retry_at_) return;
    spool_->Rewind();
    need_rewind_ = false;
  }
  uint64_t seq = 0;
  // The window counts what librdkafka holds, not what the spool still tracks:
  // records of a dropped segment may still sit in the producer's queue.
  // At most half the spool is in flight, so that room can be made for new
  // alerts without touching records only the producer's queue holds.
  while (outstanding_ < options_.max_in_flight && spool_->in_flight_bytes() < options_.spool.max_bytes / 2 &&
         spool_->ReadNext(&seq, &payload_)) {
    Message m;
    if (!UnpackMessage(payload_, &m)) {
      spdlog::error("kafka sink: spool record {} has an unreadable layout; skipped", seq);
      counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
      spool_->Ack(seq);
      continue;
    }
    static constexpr char kContentType[] = "application/json";
    std::string_view prio = PriorityName(m.priority);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(m.key.empty() ? nullptr : m.key.data(), m.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
        RD_KAFKA_V_HEADER("content-type", kContentType, static_cast<ssize_t>(sizeof kContentType - 1)),
        RD_KAFKA_V_HEADER("rule", m.rule.data(), static_cast<ssize_t>(m.rule.size())),
        RD_KAFKA_V_HEADER("priority", prio.data(), static_cast<ssize_t>(prio.size())),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Local queue full or similar: the record stays in the spool; resend later.
      spdlog::debug("kafka sink: produce failed: {}", rd_kafka_err2str(err));
      need_rewind_ = true;
      retry_at_ = Clock::now() + std::chrono::milliseconds(100);
      break;
    }
    ++outstanding_;
  }
  rd_kafka_poll(rk_, 0);
  counters_.pending.store(spool_->pending(), std::memory_order_relaxed);
}

void KafkaSink::Tick() {
  RaiseOverflowAlert(false);
  Pump();
  spool_->Maintain();
  const uint64_t pending = spool_->pending();
  counters_.pending.store(pending, std::memory_order_relaxed);
  CheckProgress(pending);
}

void KafkaSink::CheckProgress(uint64_t pending) {
  // librdkafka retries without end (message.timeout.ms=0) and reports no
  // error while the brokers are away, so health is judged by progress:
  // alerts waiting and none delivered for stall_after_ms.
  const auto now = Clock::now();
  const uint64_t sent = counters_.sent.load(std::memory_order_relaxed);
  if (pending == 0 || sent != sent_at_progress_) {
    sent_at_progress_ = sent;
    last_progress_ = now;
    if (stalled_) {
      spdlog::info("kafka sink: delivering again ({} alerts pending)", pending);
      stalled_ = false;
      counters_.MarkDelivering();
    }
    return;
  }
  if (!stalled_ && now - last_progress_ >= std::chrono::milliseconds(options_.stall_after_ms)) {
    stalled_ = true;
    counters_.MarkFailing(0);
    spdlog::error("kafka sink: nothing delivered for {} ms with {} alerts pending in spool {}",
                  options_.stall_after_ms, pending, options_.spool.dir);
  }
}

uint64_t KafkaSink::spool_pending() const { return spool_->pending(); }
uint64_t KafkaSink::spool_bytes() const { return spool_->bytes(); }

void KafkaSink::Close(int deadline_ms) {
  if (rk_ == nullptr) return;
  auto deadline = Clock::now() + std::chrono::milliseconds(deadline_ms);
  RaiseOverflowAlert(true);
  while (spool_->pending() > 0 && Clock::now() < deadline) {
    Pump();
    rd_kafka_poll(rk_, 10);
    spool_->Maintain();
  }
  if (spool_->pending() > 0)
    spdlog::warn("kafka sink: {} alerts not yet delivered stay in spool {} for the next start",
                 spool_->pending(), options_.spool.dir);
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // Serve the purged records' delivery reports: each is either still in the
  // spool (sent again at the next start) or counted as dropped (OnDelivery).
  const auto reports_until = Clock::now() + std::chrono::seconds(1);
  while (outstanding_ > 0 && Clock::now() < reports_until) rd_kafka_poll(rk_, 10);
  if (outstanding_ > 0)
    spdlog::warn("kafka sink: {} delivery reports not served at exit; their alerts stay in spool {}",
                 outstanding_, options_.spool.dir);
  if (overflow_unreported_ > 0)
    spdlog::error("kafka sink: {} more alerts dropped from the full spool at exit (not reported in an alert)",
                  overflow_unreported_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  spool_->Close();
}

}  // namespace vigil::outputs
