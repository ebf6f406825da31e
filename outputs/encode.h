// SPDX-License-Identifier: Apache-2.0
// Alert encodings: Falco-compatible JSON and OCSF 1.1 Detection Finding.
//
// Contract:
// - Both encoders are pure functions of the Alert (plus fixed product facts):
//   the same Alert always encodes to the same bytes, which is what lets the
//   Kafka spool store the encoded payload and replay it unchanged.
// - Output is one JSON object on one line, without a trailing newline, valid
//   UTF-8 (bytes that are not valid UTF-8 are replaced), and never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/alert.h"

namespace vigil::outputs {

enum class Format : uint8_t { kFalco, kOcsf };

// "falco" | "ocsf" (case-sensitive, the spelling used in vigil.yaml).
std::optional<Format> ParseFormat(std::string_view text);
std::string_view FormatName(Format f);

// The product this sensor reports itself as in OCSF metadata.
inline constexpr std::string_view kProductName = "vigil";
inline constexpr std::string_view kVendorName = "vigil project";
inline constexpr std::string_view kOcsfVersion = "1.1.0";
// vigil's own version (the CMake project version), compiled in.
std::string_view ProductVersion();

// How the Falco encoding writes `output`. Falco prefixes every rule's output
// with "%evt.time: %priority " (time as local HH:MM:SS.nnnnnnnnn, or ISO 8601
// UTC with time_format_iso_8601) and so also reports that time field in
// output_fields; parsers written for Falco's JSON may split on that prefix.
struct FalcoJsonOptions {
  bool output_prefix = true;   // write "<time>: <Priority> " before the rendered output
  bool time_iso8601 = false;   // the prefix time as 2023-11-14T22:13:20.123456789Z (evt.time.iso8601)
};

// Falco's output schema: time (RFC 3339 UTC with nanoseconds), rule, priority,
// output, output_fields (typed: numbers stay numbers, <NA> for unavailable),
// tags, hostname, source, plus uuid. vigil's enforcement fields are added as
// "action"/"enforcement" only when the rule asked for more than an alert.
// With the prefix in local time the bytes also depend on the TZ in force.
std::string EncodeFalcoJson(const Alert& alert, const FalcoJsonOptions& options = {});

// OCSF Detection Finding (class_uid 2004, type_uid 200401). MITRE tags map to
// finding_info.attacks: "T1059"/"T1059.004" become techniques, "mitre_<tactic>"
// (Falco's tag style, e.g. mitre_privilege_escalation) become tactics.
std::string EncodeOcsf(const Alert& alert);

std::string Encode(const Alert& alert, Format format, const FalcoJsonOptions& falco = {});

// OCSF severity_id for a Falco priority (1 Informational .. 6 Fatal).
int OcsfSeverityId(Priority p);

}  // namespace vigil::outputs
