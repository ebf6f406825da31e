// SPDX-License-Identifier: Apache-2.0
// The `outputs:` section of vigil.yaml and `-o key=value` overrides.
//
// Keys (all optional; defaults in the structs below; docs/outputs.md lists them):
//   outputs.queue_capacity
//   outputs.falco_json.{output_prefix, time_format_iso_8601}
//   outputs.stdout.{enabled, format, min_priority}
//   outputs.file.{enabled, path, format, min_priority, max_size_mb, backups, fsync_interval_ms}
//   outputs.kafka.{enabled, brokers, topic, format, key, min_priority, spool_dir, spool_max_mb,
//                  spool_fsync_interval_ms, max_in_flight, properties: {librdkafka key: value}}
//
// Contract:
// - ParseOutputsConfig() reports every problem of the section, not just the
//   first: an unknown key names itself and where it is (file:line:col, or
//   "-o" for a command-line override); a bad value names the key and the
//   expected type. It never throws.
// - ApplyOverride() edits the YAML document before parsing, so overrides and
//   file values go through the same checks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/alert.h"
#include "outputs/encode.h"
#include "outputs/kafka_sink.h"

namespace vigil::outputs {

struct StdoutOutputConfig {
  bool enabled = false;
  Format format = Format::kFalco;
  Priority min_priority = Priority::kDebug;
};

struct FileOutputConfig {
  bool enabled = false;
  std::string path = "/var/log/vigil/alerts.json";
  Format format = Format::kFalco;
  Priority min_priority = Priority::kDebug;
  uint64_t max_size_mb = 100;  // 0 = never rotate
  int64_t backups = 5;
  int64_t fsync_interval_ms = 1000;  // 0 = every write, -1 = never
};

struct KafkaOutputConfig {
  bool enabled = false;
  std::string brokers;
  std::string topic = "vigil-alerts";
  Format format = Format::kFalco;
  KafkaKey key = KafkaKey::kHostId;
  Priority min_priority = Priority::kDebug;
  std::string spool_dir = "/var/lib/vigil/spool";
  uint64_t spool_max_mb = 256;
  int64_t spool_fsync_interval_ms = 1000;
  uint64_t max_in_flight = 10000;
  std::map<std::string, std::string> properties;
};

struct OutputsConfig {
  uint64_t queue_capacity = 65536;
  FalcoJsonOptions falco_json;  // how every sink with format falco writes `output`
  StdoutOutputConfig stdout_sink;
  FileOutputConfig file;
  KafkaOutputConfig kafka;
};

// Parses the value of the `outputs:` key (a map, or null for all defaults).
// `source` names the file in locations. Returns the errors (empty = valid);
// `out` holds defaults for anything missing or wrong. Settings that are valid
// but have no effect (Kafka brokers while the Kafka sink is disabled) are
// appended to `warnings` when given.
std::vector<std::string> ParseOutputsConfig(const YAML::Node& outputs, std::string_view source,
                                            OutputsConfig* out, std::vector<std::string>* warnings = nullptr);

// Applies one `-o a.b.c=value` to the document `root` (a map, created when
// null). The value is kept as a string scalar and typed when parsed. A path
// segment after `properties` takes the rest of the key verbatim, since
// librdkafka property names contain dots (`-o outputs.kafka.properties.sasl.mechanism=PLAIN`).
// Returns an error message for a malformed override; never throws.
std::optional<std::string> ApplyOverride(YAML::Node& root, std::string_view key_value);

}  // namespace vigil::outputs
