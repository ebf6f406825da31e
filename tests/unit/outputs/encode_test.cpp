// SPDX-License-Identifier: Apache-2.0
// Alert encodings: Falco-compatible JSON and OCSF Detection Finding.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "outputs/encode.h"

using nlohmann::json;
using vigil::Alert;
using vigil::Priority;
namespace out = vigil::outputs;

namespace {

Alert SampleAlert() {
  Alert a;
  a.uuid = "0b7c3f43-8f53-4b7e-9d0c-2f1c5d6a7e81";
  a.time_ns = 1700000000123456789ull;  // 2023-11-14T22:13:20.123456789Z
  a.rule = "Shell spawned by web server";
  a.priority = Priority::kCritical;
  a.output = "Shell spawned (proc.name=bash parent=nginx)";
  a.output_fields = {{"proc.name", std::string("bash")},
                     {"proc.pid", uint64_t{4242}},
                     {"evt.res", int64_t{-13}},
                     {"fd.rport", uint64_t{443}},
                     {"proc.is_tty", true},
                     {"ratio", 0.5},
                     {"proc.args", std::vector<std::string>{"-c", "id"}},
                     {"container.image", std::monostate{}}};
  a.tags = {"shell", "mitre_execution", "T1059.004", "mitre_persistence", "T1505"};
  a.hostname = "web-1";
  a.event_type = vigil::EventType::execve;
  a.process = {4242, 100, 33, "bash", "/usr/bin/bash", "bash -c id", "exec-1", "nginx", "/usr/sbin/nginx"};
  a.file_path = "/etc/shadow";
  a.remote_ip = "203.0.113.9";
  a.remote_port = 443;
  a.local_ip = "10.0.0.5";
  a.local_port = 51000;
  return a;
}

// HH:MM:SS.nnnnnnnnn of `ns` in the local time zone, computed independently
// of the encoder with strftime.
std::string LocalPrefix(uint64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000ull);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char hms[16];
  std::strftime(hms, sizeof hms, "%H:%M:%S", &tm);
  std::string frac = std::to_string(ns % 1000000000ull);
  return std::string(hms) + "." + std::string(9 - frac.size(), '0') + frac;
}

// Follows a dotted path; nullptr when any part is missing.
const json* At(const json& j, const std::string& path) {
  const json* cur = &j;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t dot = path.find('.', pos);
    if (dot == std::string::npos) dot = path.size();
    std::string part = path.substr(pos, dot - pos);
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
    pos = dot + 1;
  }
  return cur;
}

}  // namespace

TEST_CASE("Falco JSON carries Falco's keys with typed output_fields", "[unit]") {
  json j = json::parse(out::EncodeFalcoJson(SampleAlert()));
  CHECK(j["time"] == "2023-11-14T22:13:20.123456789Z");
  CHECK(j["rule"] == "Shell spawned by web server");
  CHECK(j["priority"] == "Critical");
  // Falco's own prefix: "%evt.time: %priority ", the time of day in local time.
  CHECK(j["output"] == LocalPrefix(1700000000123456789ull) + ": Critical Shell spawned (proc.name=bash parent=nginx)");
  CHECK(j["hostname"] == "web-1");
  CHECK(j["source"] == "syscall");
  CHECK(j["uuid"] == "0b7c3f43-8f53-4b7e-9d0c-2f1c5d6a7e81");
  CHECK(j["tags"] == json({"shell", "mitre_execution", "T1059.004", "mitre_persistence", "T1505"}));
  const json& f = j["output_fields"];
  CHECK(f["proc.name"] == "bash");
  CHECK(f["proc.pid"].is_number_unsigned());
  CHECK(f["proc.pid"] == 4242);
  CHECK(f["evt.res"] == -13);
  CHECK(f["proc.is_tty"] == true);
  CHECK(f["ratio"] == 0.5);
  CHECK(f["proc.args"] == json({"-c", "id"}));
  CHECK(f["container.image"].is_null());
  CHECK(f["evt.time"] == 1700000000123456789ull);  // the prefix's field, a number as Falco writes it
  CHECK_FALSE(j.contains("action"));  // plain alerts look exactly like Falco's
}

TEST_CASE("Falco JSON output prefix: ISO 8601 time, or none", "[unit]") {
  out::FalcoJsonOptions iso;
  iso.time_iso8601 = true;
  json j = json::parse(out::EncodeFalcoJson(SampleAlert(), iso));
  CHECK(j["output"] == "2023-11-14T22:13:20.123456789Z: Critical Shell spawned (proc.name=bash parent=nginx)");
  CHECK(j["output_fields"]["evt.time.iso8601"] == "2023-11-14T22:13:20.123456789Z");
  CHECK_FALSE(j["output_fields"].contains("evt.time"));

  out::FalcoJsonOptions none;
  none.output_prefix = false;
  j = json::parse(out::Encode(SampleAlert(), out::Format::kFalco, none));
  CHECK(j["output"] == "Shell spawned (proc.name=bash parent=nginx)");
  CHECK_FALSE(j["output_fields"].contains("evt.time"));

  // OCSF's message is the rendered text alone whatever the Falco options.
  j = json::parse(out::Encode(SampleAlert(), out::Format::kOcsf, iso));
  CHECK(j["message"] == "Shell spawned (proc.name=bash parent=nginx)");
}

TEST_CASE("Falco JSON local-time prefix follows TZ", "[unit]") {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "UTC", 1);
  tzset();
  json utc = json::parse(out::EncodeFalcoJson(SampleAlert()));
  setenv("TZ", "Asia/Kolkata", 1);  // +05:30, no daylight saving; falls back to UTC without tzdata
  tzset();
  json ist = json::parse(out::EncodeFalcoJson(SampleAlert()));
  if (old) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  CHECK(utc["output"] == "22:13:20.123456789: Critical Shell spawned (proc.name=bash parent=nginx)");
  if (access("/usr/share/zoneinfo/Asia/Kolkata", R_OK) == 0)
    CHECK(ist["output"] == "03:43:20.123456789: Critical Shell spawned (proc.name=bash parent=nginx)");
}

TEST_CASE("Enforcing alerts add action and enforcement", "[unit]") {
  Alert a = SampleAlert();
  a.action = "kill";
  a.enforcement = "kill";
  json j = json::parse(out::EncodeFalcoJson(a));
  CHECK(j["action"] == "kill");
  CHECK(j["enforcement"] == "kill");
}

TEST_CASE("Invalid UTF-8 in alert strings never breaks the JSON", "[unit]") {
  Alert a = SampleAlert();
  a.output = std::string("bad \xff\xfe bytes");
  a.process.cmdline = std::string("\xc3");
  for (auto format : {out::Format::kFalco, out::Format::kOcsf}) {
    std::string text = out::Encode(a, format);
    REQUIRE_NOTHROW(json::parse(text));
    CHECK(text.find('\n') == std::string::npos);
  }
}

// Required attributes of OCSF 1.1 Detection Finding (class 2004): the base
// event's (activity_id, category_uid, class_uid, metadata, severity_id, time,
// type_uid), the Findings category's finding_info, and the required
// attributes of the objects used: metadata {product, version}, finding_info
// {uid}, analytic {type_id}, device {type_id}, file {name, type_id}.
TEST_CASE("OCSF Detection Finding has every required attribute", "[unit]") {
  const char* const kRequired[] = {
      "activity_id", "category_uid", "class_uid", "metadata", "metadata.product", "metadata.version",
      "severity_id", "time", "type_uid", "finding_info", "finding_info.uid", "finding_info.analytic.type_id",
      "device.type_id",
  };
  json j = json::parse(out::EncodeOcsf(SampleAlert()));
  for (const char* path : kRequired) {
    INFO(path);
    CHECK(At(j, path) != nullptr);
  }
  // Each file object present carries its own required attributes.
  const json& ev = j["evidences"].at(0);
  for (const json* file : {At(ev, "file"), At(ev, "process.file"), At(ev, "process.parent_process.file")}) {
    REQUIRE(file != nullptr);
    CHECK(file->contains("name"));
    CHECK(file->contains("type_id"));
  }
  CHECK(j["class_uid"] == 2004);
  CHECK(j["category_uid"] == 2);
  CHECK(j["type_uid"] == 200401);  // class_uid * 100 + activity_id
  CHECK(j["type_uid"] == j["class_uid"].get<int>() * 100 + j["activity_id"].get<int>());
  CHECK(j["time"] == 1700000000123);  // ms
  CHECK(j["severity_id"] == 5);
  CHECK(j["metadata"]["version"] == "1.1.0");
  CHECK(j["metadata"]["product"]["name"] == "vigil");
  CHECK(j["finding_info"]["uid"] == "0b7c3f43-8f53-4b7e-9d0c-2f1c5d6a7e81");
  CHECK(j["finding_info"]["analytic"]["name"] == "Shell spawned by web server");
  CHECK(j["finding_info"]["types"] == json({"shell"}));
  CHECK(j["device"]["hostname"] == "web-1");
  CHECK(ev["process"]["pid"] == 4242);
  CHECK(ev["process"]["parent_process"]["name"] == "nginx");
  CHECK(ev["file"]["path"] == "/etc/shadow");
  CHECK(ev["file"]["name"] == "shadow");
  CHECK(ev["dst_endpoint"]["ip"] == "203.0.113.9");
  CHECK(ev["dst_endpoint"]["port"] == 443);
  CHECK(ev["src_endpoint"]["port"] == 51000);
}

TEST_CASE("OCSF attacks come from MITRE tags", "[unit]") {
  json j = json::parse(out::EncodeOcsf(SampleAlert()));
  const json& attacks = j["finding_info"]["attacks"];
  REQUIRE(attacks.size() == 3);  // two techniques (with the first tactic) + the second tactic
  CHECK(attacks[0]["technique"]["uid"] == "T1059.004");
  CHECK(attacks[0]["tactic"]["uid"] == "TA0002");
  CHECK(attacks[0]["tactic"]["name"] == "Execution");
  CHECK(attacks[1]["technique"]["uid"] == "T1505");
  CHECK(attacks[2]["tactic"]["uid"] == "TA0003");

  Alert none = SampleAlert();
  none.tags = {"T12", "mitre_unknown_tactic", "T1059.4", "container"};
  json k = json::parse(out::EncodeOcsf(none));
  CHECK_FALSE(k["finding_info"].contains("attacks"));
  CHECK(k["finding_info"]["types"] == json({"T12", "mitre_unknown_tactic", "T1059.4", "container"}));
}

TEST_CASE("OCSF severity_id follows the priority", "[unit]") {
  struct Case {
    Priority p;
    int id;
  };
  const Case cases[] = {
      {Priority::kEmergency, 6}, {Priority::kAlert, 5},   {Priority::kCritical, 5},
      {Priority::kError, 4},     {Priority::kWarning, 3}, {Priority::kNotice, 2},
      {Priority::kInformational, 1}, {Priority::kDebug, 1},
  };
  for (const auto& c : cases) {
    Alert a = SampleAlert();
    a.priority = c.p;
    CHECK(json::parse(out::EncodeOcsf(a))["severity_id"] == c.id);
    CHECK(out::OcsfSeverityId(c.p) == c.id);
  }
}

TEST_CASE("Alerts without file or network omit those evidences", "[unit]") {
  Alert a = SampleAlert();
  a.file_path.clear();
  a.remote_ip.clear();
  a.local_ip.clear();
  json ev = json::parse(out::EncodeOcsf(a))["evidences"][0];
  CHECK(ev.contains("process"));
  CHECK_FALSE(ev.contains("file"));
  CHECK_FALSE(ev.contains("dst_endpoint"));
  CHECK_FALSE(ev.contains("src_endpoint"));
}

TEST_CASE("Format names round-trip", "[unit]") {
  CHECK(out::ParseFormat("falco") == out::Format::kFalco);
  CHECK(out::ParseFormat("ocsf") == out::Format::kOcsf);
  CHECK_FALSE(out::ParseFormat("OCSF").has_value());
  CHECK_FALSE(out::ParseFormat("").has_value());
  CHECK(out::FormatName(out::Format::kOcsf) == "ocsf");
}
