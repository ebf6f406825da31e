// SPDX-License-Identifier: Apache-2.0
#include "outputs/outputs.h"

#include <unistd.h>

#include "outputs/file_sink.h"
#include "outputs/kafka_sink.h"
#include "outputs/paths.h"

namespace vigil::outputs {

namespace {

KafkaSinkOptions KafkaOptions(const KafkaOutputConfig& k, const FalcoJsonOptions& falco_json) {
  KafkaSinkOptions o;
  o.falco_json = falco_json;
  o.brokers = k.brokers;
  o.topic = k.topic;
  o.format = k.format;
  o.key = k.key;
  o.spool.dir = k.spool_dir;
  o.spool.max_bytes = k.spool_max_mb << 20;
  o.spool.fsync_interval_ms = static_cast<int>(k.spool_fsync_interval_ms);
  o.max_in_flight = k.max_in_flight;
  o.properties = k.properties;
  return o;
}

}  // namespace

std::optional<std::string> BuildOutputs(const OutputsConfig& config, FanOut* fanout) {
  const std::size_t capacity = config.queue_capacity;
  if (config.stdout_sink.enabled) {
    FileSinkOptions o;
    o.fd = STDOUT_FILENO;
    o.format = config.stdout_sink.format;
    o.falco_json = config.falco_json;
    fanout->AddSink(std::make_unique<FileSink>(o), capacity, config.stdout_sink.min_priority);
  }
  if (config.file.enabled) {
    if (auto err = CheckSinkFile(config.file.path)) return "outputs.file.path: refusing " + *err;
    FileSinkOptions o;
    o.path = config.file.path;
    o.format = config.file.format;
    o.falco_json = config.falco_json;
    o.max_size_bytes = config.file.max_size_mb << 20;
    o.backups = static_cast<int>(config.file.backups);
    o.fsync_interval_ms = static_cast<int>(config.file.fsync_interval_ms);
    auto sink = std::make_unique<FileSink>(o);
    fanout->AddSink(std::move(sink), capacity, config.file.min_priority);
  }
  if (config.kafka.enabled) {
    KafkaSinkOptions o = KafkaOptions(config.kafka, config.falco_json);
    // The overflow alert goes to the other sinks too (the Kafka sink spools its own copy).
    auto self = std::make_shared<const Sink*>(nullptr);
    o.on_internal_alert = [fanout, self](const Alert& a) {
      fanout->Submit(std::make_shared<const Alert>(a), *self);
    };
    std::string error;
    auto sink = KafkaSink::Create(std::move(o), &error);
    if (!sink) return "outputs.kafka: " + error;
    *self = sink.get();
    fanout->AddSink(std::move(sink), capacity, config.kafka.min_priority);
  }
  return std::nullopt;
}

std::vector<std::string> CheckOutputs(const OutputsConfig& config) {
  std::vector<std::string> problems;
  if (config.file.enabled) {
    if (auto err = CheckSinkFile(config.file.path)) problems.push_back("outputs.file.path: refusing " + *err);
    else if (auto werr = CheckWritable(config.file.path, false)) problems.push_back("outputs.file.path: " + *werr);
  }
  if (config.kafka.enabled) {
    if (auto err = CheckOwnedPath(config.kafka.spool_dir, PathKind::kPrivateDir))
      problems.push_back("outputs.kafka.spool_dir: spool: refusing " + *err);
    else if (auto werr = CheckWritable(config.kafka.spool_dir, true))
      problems.push_back("outputs.kafka.spool_dir: " + *werr);
    if (auto err = KafkaSink::CheckConfig(KafkaOptions(config.kafka, config.falco_json))) problems.push_back("outputs.kafka: " + *err);
  }
  return problems;
}

}  // namespace vigil::outputs
