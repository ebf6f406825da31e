// SPDX-License-Identifier: Apache-2.0
#include "outputs/encode.h"

#include <array>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "engine/iso_time.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::outputs {
namespace {

using nlohmann::json;

std::string Dump(const json& j) {
  // replace: never throw on invalid UTF-8 coming from the kernel (argv, paths).
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json FieldToJson(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;  // Falco's JSON renders unavailable (<NA>) values as null
        } else {
          return json(x);
        }
      },
      v);
}

// The time of Falco's output prefix: ISO 8601 UTC, or the local time of day
// with nanoseconds ("22:13:20.123456789"), Falco's default.
std::string PrefixTime(uint64_t time_ns, bool iso8601) {
  if (iso8601) return IsoTimeString(time_ns);
  const time_t secs = static_cast<time_t>(time_ns / 1000000000ull);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%09llu", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(time_ns % 1000000000ull));
  return buf;
}

struct Tactic {
  std::string_view tag;   // after "mitre_"
  std::string_view uid;
  std::string_view name;
};

// MITRE ATT&CK enterprise tactics, keyed by Falco's tag spelling.
constexpr std::array<Tactic, 14> kTactics = {{
    {"reconnaissance", "TA0043", "Reconnaissance"},
    {"resource_development", "TA0042", "Resource Development"},
    {"initial_access", "TA0001", "Initial Access"},
    {"execution", "TA0002", "Execution"},
    {"persistence", "TA0003", "Persistence"},
    {"privilege_escalation", "TA0004", "Privilege Escalation"},
    {"defense_evasion", "TA0005", "Defense Evasion"},
    {"credential_access", "TA0006", "Credential Access"},
    {"discovery", "TA0007", "Discovery"},
    {"lateral_movement", "TA0008", "Lateral Movement"},
    {"collection", "TA0009", "Collection"},
    {"command_and_control", "TA0011", "Command and Control"},
    {"exfiltration", "TA0010", "Exfiltration"},
    {"impact", "TA0040", "Impact"},
}};

const Tactic* FindTactic(std::string_view tag) {
  if (!tag.starts_with("mitre_")) return nullptr;
  tag.remove_prefix(6);
  for (const auto& t : kTactics)
    if (t.tag == tag) return &t;
  return nullptr;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// T#### or T####.###
bool IsTechnique(std::string_view tag) {
  if (tag.size() != 5 && tag.size() != 9) return false;
  if (tag[0] != 'T') return false;
  for (std::size_t i = 1; i < 5; ++i)
    if (!IsDigit(tag[i])) return false;
  if (tag.size() == 9) {
    if (tag[5] != '.') return false;
    for (std::size_t i = 6; i < 9; ++i)
      if (!IsDigit(tag[i])) return false;
  }
  return true;
}

std::string_view BaseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

json FileObject(std::string_view path) {
  // type_id 1 = Regular File; name and type_id are the object's required attributes.
  return json{{"path", path}, {"name", BaseName(path)}, {"type_id", 1}, {"type", "Regular File"}};
}

json ProcessObject(const AlertProcess& p) {
  json proc = {{"pid", p.pid}, {"name", p.name}, {"cmd_line", p.cmdline},
               {"user", {{"uid", std::to_string(p.uid)}}}};
  if (!p.exec_id.empty()) proc["uid"] = p.exec_id;
  if (!p.exepath.empty()) proc["file"] = FileObject(p.exepath);
  json parent = {{"pid", p.ppid}, {"name", p.parent_name}};
  if (!p.parent_exepath.empty()) parent["file"] = FileObject(p.parent_exepath);
  proc["parent_process"] = std::move(parent);
  return proc;
}

json Endpoint(const std::string& ip, uint16_t port) {
  json e = json::object();
  if (!ip.empty()) e["ip"] = ip;
  if (port != 0) e["port"] = port;
  return e;
}

json Attacks(const std::vector<std::string>& tags) {
  std::vector<const Tactic*> tactics;
  std::vector<std::string_view> techniques;
  for (const auto& t : tags) {
    if (const Tactic* tactic = FindTactic(t)) tactics.push_back(tactic);
    else if (IsTechnique(t)) techniques.push_back(t);
  }
  json attacks = json::array();
  auto tactic_json = [](const Tactic* t) { return json{{"uid", t->uid}, {"name", t->name}}; };
  if (!techniques.empty()) {
    // A rule's tags do not say which tactic goes with which technique; the
    // first tactic tag is attached to each technique, the rest listed after.
    for (auto tech : techniques) {
      json a = {{"technique", {{"uid", tech}}}};
      if (!tactics.empty()) a["tactic"] = tactic_json(tactics.front());
      attacks.push_back(std::move(a));
    }
    for (std::size_t i = 1; i < tactics.size(); ++i) attacks.push_back({{"tactic", tactic_json(tactics[i])}});
  } else {
    for (const Tactic* t : tactics) attacks.push_back({{"tactic", tactic_json(t)}});
  }
  return attacks;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view text) {
  if (text == "falco") return Format::kFalco;
  if (text == "ocsf") return Format::kOcsf;
  return std::nullopt;
}

std::string_view FormatName(Format f) { return f == Format::kOcsf ? "ocsf" : "falco"; }

std::string_view ProductVersion() { return VIGIL_VERSION; }

int OcsfSeverityId(Priority p) {
  switch (p) {
    case Priority::kEmergency: return 6;  // Fatal
    case Priority::kAlert:
    case Priority::kCritical: return 5;   // Critical
    case Priority::kError: return 4;      // High
    case Priority::kWarning: return 3;    // Medium
    case Priority::kNotice: return 2;     // Low
    case Priority::kInformational:
    case Priority::kDebug: return 1;      // Informational
  }
  return 0;  // Unknown
}

std::string EncodeFalcoJson(const Alert& alert, const FalcoJsonOptions& options) {
  json fields = json::object();
  for (const auto& [name, value] : alert.output_fields) fields[name] = FieldToJson(value);
  std::string output;
  if (options.output_prefix) {
    // Falco's "%evt.time: %priority " (or "%evt.time.iso8601: ...") before the
    // rule's text, and the time field among output_fields as Falco reports it.
    std::string time = PrefixTime(alert.time_ns, options.time_iso8601);
    if (options.time_iso8601) fields["evt.time.iso8601"] = time;
    else fields["evt.time"] = alert.time_ns;
    output.reserve(time.size() + 16 + alert.output.size());
    output.append(time).append(": ").append(PriorityName(alert.priority)).append(" ").append(alert.output);
  } else {
    output = alert.output;
  }
  json j = {
      {"uuid", alert.uuid},
      {"time", IsoTimeString(alert.time_ns)},
      {"rule", alert.rule},
      {"priority", PriorityName(alert.priority)},
      {"output", std::move(output)},
      {"output_fields", std::move(fields)},
      {"tags", alert.tags},
      {"hostname", alert.hostname},
      {"source", alert.source},
  };
  if (alert.action != "alert") {
    j["action"] = alert.action;
    j["enforcement"] = alert.enforcement;
  }
  return Dump(j);
}

std::string EncodeOcsf(const Alert& alert) {
  static constexpr std::array<std::string_view, 7> kSeverityNames = {
      "Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"};
  const int severity_id = OcsfSeverityId(alert.priority);
  const int64_t time_ms = static_cast<int64_t>(alert.time_ns / 1000000ull);

  std::vector<std::string> types;
  for (const auto& t : alert.tags)
    if (!FindTactic(t) && !IsTechnique(t)) types.push_back(t);

  json finding_info = {
      {"uid", alert.uuid},
      {"title", alert.rule},
      {"desc", alert.output},
      {"analytic", {{"name", alert.rule}, {"type_id", 1}, {"type", "Rule"}}},
      {"types", std::move(types)},
      {"created_time", time_ms},
  };
  json attacks = Attacks(alert.tags);
  if (!attacks.empty()) finding_info["attacks"] = attacks;

  json evidence = json::object();
  if (alert.process.pid != 0 || !alert.process.name.empty()) evidence["process"] = ProcessObject(alert.process);
  if (!alert.file_path.empty()) evidence["file"] = FileObject(alert.file_path);
  if (!alert.remote_ip.empty()) evidence["dst_endpoint"] = Endpoint(alert.remote_ip, alert.remote_port);
  if (!alert.local_ip.empty()) evidence["src_endpoint"] = Endpoint(alert.local_ip, alert.local_port);
  if (!alert.container_id.empty() && alert.container_id != "host")
    evidence["container"] = {{"uid", alert.container_id}};

  json unmapped = json::object();
  for (const auto& [name, value] : alert.output_fields) unmapped[name] = FieldToJson(value);

  json j = {
      {"class_uid", 2004},
      {"class_name", "Detection Finding"},
      {"category_uid", 2},
      {"category_name", "Findings"},
      {"activity_id", 1},
      {"activity_name", "Create"},
      {"type_uid", 200401},
      {"type_name", "Detection Finding: Create"},
      {"time", time_ms},
      {"severity_id", severity_id},
      {"severity", kSeverityNames[static_cast<std::size_t>(severity_id)]},
      {"status_id", 1},
      {"status", "New"},
      {"is_alert", true},
      {"message", alert.output},
      {"finding_info", std::move(finding_info)},
      {"metadata",
       {{"version", kOcsfVersion},
        {"uid", alert.uuid},
        {"original_time", IsoTimeString(alert.time_ns)},
        {"product", {{"name", kProductName}, {"vendor_name", kVendorName}, {"version", ProductVersion()}}}}},
      {"device", {{"hostname", alert.hostname}, {"type_id", 0}, {"type", "Unknown"}}},
      {"evidences", json::array({std::move(evidence)})},
      {"unmapped",
       {{"source", alert.source},
        {"priority", PriorityName(alert.priority)},
        {"tags", alert.tags},
        {"event_type", EventTypeName(alert.event_type)},
        {"event_res", alert.event_res},
        {"action", alert.action},
        {"enforcement", alert.enforcement},
        {"output_fields", std::move(unmapped)}}},
  };
  return Dump(j);
}

std::string Encode(const Alert& alert, Format format, const FalcoJsonOptions& falco) {
  return format == Format::kOcsf ? EncodeOcsf(alert) : EncodeFalcoJson(alert, falco);
}

}  // namespace vigil::outputs
