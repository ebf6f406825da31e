// SPDX-License-Identifier: Apache-2.0
// The outputs: section of vigil.yaml and -o overrides.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "outputs/config.h"
#include "outputs/outputs.h"
#include "tests/support/any_contains.h"
#include "tests/support/error_rows.h"

namespace out = vigil::outputs;
using vigil::Priority;

namespace {

std::vector<std::string> Parse(const std::string& yaml, out::OutputsConfig* cfg,
                               const std::vector<std::string>& overrides = {}) {
  YAML::Node root = YAML::Load(yaml);
  for (const auto& o : overrides) {
    auto err = out::ApplyOverride(root, o);
    if (err) return {*err};
  }
  return out::ParseOutputsConfig(root["outputs"], "vigil.yaml", cfg);
}

using vigil::testing::AnyContains;

}  // namespace

TEST_CASE("A full outputs section parses into the config", "[unit]") {
  out::OutputsConfig cfg;
  auto errors = Parse(R"(
outputs:
  queue_capacity: 1000
  falco_json: {output_prefix: false, time_format_iso_8601: true}
  stdout: {enabled: true, format: ocsf}
  file:
    enabled: true
    path: /tmp/a.json
    max_size_mb: 10
    backups: 3
    fsync_interval_ms: 0
    min_priority: notice
  kafka:
    enabled: true
    brokers: "k1:9092,k2:9092"
    topic: sec
    format: ocsf
    key: hostname
    min_priority: warning
    spool_dir: /var/tmp/s
    spool_max_mb: 5
    properties:
      security.protocol: SASL_SSL
      sasl.mechanism: PLAIN
)",
                      &cfg);
  CHECK(errors.empty());
  CHECK(cfg.queue_capacity == 1000);
  CHECK_FALSE(cfg.falco_json.output_prefix);
  CHECK(cfg.falco_json.time_iso8601);
  CHECK(cfg.stdout_sink.enabled);
  CHECK(cfg.stdout_sink.format == out::Format::kOcsf);
  CHECK(cfg.file.path == "/tmp/a.json");
  CHECK(cfg.file.max_size_mb == 10);
  CHECK(cfg.file.backups == 3);
  CHECK(cfg.file.fsync_interval_ms == 0);
  CHECK(cfg.file.min_priority == Priority::kNotice);
  CHECK(cfg.kafka.brokers == "k1:9092,k2:9092");
  CHECK(cfg.kafka.topic == "sec");
  CHECK(cfg.kafka.key == out::KafkaKey::kHostname);
  CHECK(cfg.kafka.min_priority == Priority::kWarning);
  CHECK(cfg.kafka.spool_max_mb == 5);
  CHECK(cfg.kafka.properties.at("security.protocol") == "SASL_SSL");
  CHECK(cfg.kafka.properties.at("sasl.mechanism") == "PLAIN");
}

TEST_CASE("A missing outputs section gives the defaults", "[unit]") {
  out::OutputsConfig cfg;
  CHECK(Parse("other: 1\n", &cfg).empty());
  CHECK_FALSE(cfg.kafka.enabled);
  CHECK(cfg.kafka.topic == "vigil-alerts");
  CHECK(cfg.file.backups == 5);
  CHECK(cfg.falco_json.output_prefix);  // Falco's form unless switched off
  CHECK_FALSE(cfg.falco_json.time_iso8601);
}

TEST_CASE("Bad keys and values are reported with key, location and expected type", "[unit]") {
  const vigil::testing::ErrorRow cases[] = {
      {"outputs:\n  file:\n    pth: /x\n", "vigil.yaml:3:5: outputs.file.pth: unknown key"},
      {"outputs:\n  kafak: {}\n", "vigil.yaml:2:3: outputs.kafak: unknown key"},
      {"outputs:\n  file:\n    max_size_mb: big\n", "outputs.file.max_size_mb: expected an integer"},
      {"outputs:\n  file:\n    max_size_mb: -1\n", "outputs.file.max_size_mb: expected an integer"},
      {"outputs:\n  file:\n    backups: 1.5\n", "outputs.file.backups: expected an integer"},
      {"outputs:\n  file:\n    enabled: maybe\n", "outputs.file.enabled: expected a boolean"},
      {"outputs:\n  kafka:\n    format: xml\n", "outputs.kafka.format: expected one of falco|ocsf, got 'xml'"},
      {"outputs:\n  kafka:\n    key: pid\n", "outputs.kafka.key: expected one of host_id|hostname|rule|none"},
      {"outputs:\n  kafka:\n    min_priority: loud\n", "outputs.kafka.min_priority: expected a priority"},
      {"outputs:\n  kafka:\n    properties: [a, b]\n", "outputs.kafka.properties: expected a map"},
      {"outputs:\n  kafka:\n    enabled: true\n", "outputs.kafka.brokers: required"},
      {"outputs:\n  kafka:\n    topic: [x]\n", "outputs.kafka.topic: expected a non-empty string, got a list"},
      {"outputs: 3\n", "outputs: expected a map"},
      {"outputs:\n  falco_json:\n    prefix: no\n", "vigil.yaml:3:5: outputs.falco_json.prefix: unknown key"},
      {"outputs:\n  falco_json:\n    output_prefix: sometimes\n", "outputs.falco_json.output_prefix: expected a boolean"},
  };
  vigil::testing::CheckErrorRows(cases, [](const char* yaml) {
    out::OutputsConfig cfg;
    return Parse(yaml, &cfg);
  });
}

// Issue 22: brokers and a topic set with the Kafka sink left disabled gave no
// alert to Kafka and no word about it. The warning is located at the first
// key given (file:line:col), like the other configuration diagnostics.
TEST_CASE("Kafka settings given while the Kafka sink is disabled are warned about", "[unit]") {
  struct Case {
    const char* yaml;
    const char* warning;  // nullptr: no warning expected
  };
  const Case cases[] = {
      {"outputs:\n  kafka:\n    brokers: k:9092\n    topic: t\n",
       "vigil.yaml:3:14: outputs.kafka: brokers, topic given but outputs.kafka.enabled is not true"},
      {"outputs:\n  kafka:\n    enabled: false\n    properties: {acks: all}\n",
       "vigil.yaml:4:17: outputs.kafka: properties given"},
      {"outputs:\n  kafka:\n    enabled: true\n    brokers: k:9092\n", nullptr},
      {"outputs:\n  kafka:\n    enabled: false\n", nullptr},
      {"outputs:\n  file:\n    enabled: true\n", nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    out::OutputsConfig cfg;
    std::vector<std::string> warnings;
    CHECK(out::ParseOutputsConfig(YAML::Load(c.yaml)["outputs"], "vigil.yaml", &cfg, &warnings).empty());
    if (c.warning) {
      REQUIRE(warnings.size() == 1);
      CHECK(warnings[0].find(c.warning) != std::string::npos);
    } else {
      CHECK(warnings.empty());
    }
  }
}

TEST_CASE("Every error of the section is reported, not just the first", "[unit]") {
  out::OutputsConfig cfg;
  auto errors = Parse("outputs:\n  file: {backups: x, bogus: 1}\n  kafka: {format: y}\n", &cfg);
  CHECK(errors.size() == 3);
}

TEST_CASE("-o overrides set and replace values, typed like the file", "[unit]") {
  out::OutputsConfig cfg;
  auto errors = Parse("outputs:\n  kafka: {topic: a, brokers: b}\n", &cfg,
                      {"outputs.kafka.topic=x", "outputs.kafka.enabled=true", "outputs.file.backups=7",
                       "outputs.kafka.properties.sasl.mechanism=SCRAM-SHA-512"});
  CHECK(errors.empty());
  CHECK(cfg.kafka.topic == "x");
  CHECK(cfg.kafka.brokers == "b");
  CHECK(cfg.kafka.enabled);
  CHECK(cfg.file.backups == 7);
  CHECK(cfg.kafka.properties.at("sasl.mechanism") == "SCRAM-SHA-512");
}

TEST_CASE("Bad -o overrides are reported naming the key", "[unit]") {
  struct Case {
    std::vector<std::string> overrides;
    const char* expect;
  };
  const Case cases[] = {
      {{"outputs.kafka.topic"}, "expected key=value"},
      {{"=x"}, "expected key=value"},
      {{"outputs..topic=x"}, "empty path segment"},
      {{"outputs.kafka.topic.x=1"}, "outputs.kafka.topic is not a map"},
      {{"outputs.kafka.tpic=x"}, "-o (command line): outputs.kafka.tpic: unknown key"},
      {{"outputs.file.max_size_mb=lots"}, "-o (command line): outputs.file.max_size_mb: expected an integer"},
  };
  for (const auto& c : cases) {
    out::OutputsConfig cfg;
    auto errors = Parse("outputs:\n  kafka: {topic: a}\n", &cfg, c.overrides);
    INFO(c.overrides[0]);
    for (const auto& e : errors) INFO(e);
    CHECK(AnyContains(errors, c.expect));
  }
}

// Issue 24 item 6: `--dry-run` said valid while the file sink's path could
// not be opened. CheckOutputs() reports it without creating anything.
TEST_CASE("CheckOutputs reports sink paths that cannot be created, creating nothing", "[unit]") {
  char tmpl[] = "/tmp/vigil-check-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  { std::ofstream(dir + "/file") << "x"; }
  out::OutputsConfig cfg;
  cfg.file.enabled = true;
  cfg.file.path = dir + "/log/vigil/alerts.json";  // missing: would be created
  cfg.kafka.enabled = true;
  cfg.kafka.brokers = "127.0.0.1:9092";
  cfg.kafka.spool_dir = dir + "/lib/spool";
  CHECK(out::CheckOutputs(cfg).empty());
  CHECK_FALSE(std::filesystem::exists(dir + "/log"));  // nothing created
  CHECK_FALSE(std::filesystem::exists(dir + "/lib"));
  cfg.file.path = dir + "/file/alerts.json";  // under a regular file
  cfg.kafka.spool_dir = dir + "/file";        // a file, not a directory
  auto problems = out::CheckOutputs(cfg);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "outputs.file.path: " + dir + "/file/alerts.json: cannot be created: " + dir +
                           "/file is not a directory");
  CHECK(problems[1] == "outputs.kafka.spool_dir: spool: refusing " + dir + "/file: not a directory");
  // Issue 24 item 10: what librdkafka refuses, `run` refused and --dry-run did not.
  cfg.file.enabled = false;
  cfg.kafka.spool_dir = dir + "/lib/spool";
  cfg.kafka.properties = {{"no.such.property", "1"}};
  problems = out::CheckOutputs(cfg);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("outputs.kafka: kafka: property 'no.such.property'") == 0);
  cfg.kafka.properties = {{"message.timeout.ms", "1"}};
  problems = out::CheckOutputs(cfg);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("`message.timeout.ms` must be greater than `linger.ms`") != std::string::npos);
  cfg.kafka.brokers.clear();
  CHECK(out::CheckOutputs(cfg).size() == 1);
  std::filesystem::remove_all(dir);
}
