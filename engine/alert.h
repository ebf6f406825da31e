// SPDX-License-Identifier: Apache-2.0
// An alert: what the rules engine produces when a rule fires, and what every
// output sink consumes. It owns all its data (it crosses to sink threads), and
// carries no reference to the Event that caused it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/event.h"

namespace vigil {

// Falco's priorities, most severe first (numeric order matters: lower = worse).
enum class Priority : uint8_t {
  kEmergency = 0,
  kAlert,
  kCritical,
  kError,
  kWarning,
  kNotice,
  kInformational,
  kDebug,
};

// Falco's spelling ("Emergency", ..., "Informational", "Debug").
std::string_view PriorityName(Priority p);
// Accepts Falco's names case-insensitively, plus "info"; false on anything else.
bool ParsePriority(std::string_view text, Priority* out);

// A typed value of one output field. monostate = not available ("<NA>").
using FieldValue = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string,
                                std::vector<std::string>>;

// Process context an alert carries for encodings that describe the actor
// (OCSF evidences) independent of the rule's output template.
struct AlertProcess {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t uid = 0;
  std::string name;
  std::string exepath;
  std::string cmdline;
  std::string exec_id;
  std::string parent_name;
  std::string parent_exepath;
};

struct Alert {
  std::string uuid;        // unique per alert (random v4), the de-duplication key
  uint64_t time_ns = 0;    // wall-clock ns since the Unix epoch (the event's time)
  std::string rule;
  Priority priority = Priority::kWarning;
  std::string output;      // the rule's output template, rendered
  std::vector<std::pair<std::string, FieldValue>> output_fields;  // field name -> value
  std::vector<std::string> tags;
  std::string hostname;
  std::string source = "syscall";
  std::string action = "alert";  // alert | deny | kill (what the rule asked for)
  std::string enforcement;       // what the kernel did: "" | deny | kill

  // Context for structured encodings.
  EventType event_type = EventType::execve;
  int64_t event_res = 0;
  AlertProcess process;
  std::string container_id;  // "host" or 12 hex
  std::string file_path;     // empty when the event has no file
  std::string remote_ip;     // empty when the event has no network peer
  uint16_t remote_port = 0;
  std::string local_ip;
  uint16_t local_port = 0;
};

// A random RFC 4122 version-4 UUID string.
std::string NewUuid();

}  // namespace vigil
