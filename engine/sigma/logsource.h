// SPDX-License-Identifier: Apache-2.0
// Sigma logsources and fields -> vigil events and fields.
//
// A logsource (category/service/product) picks the vigil events a rule is
// evaluated on (a condition prefix such as `evt.type in (execve, execveat)`)
// and the table its field names are looked up in. The table is data
// (BuiltinFieldMap), printed in docs/sigma.md; the agent config can replace
// or add entries (sigma.fields) without a rebuild.
//
// Contract: ResolveLogsource and MapField never throw; what vigil cannot
// express comes back as an unsupported ValueProblem with its reason.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/sigma/values.h"

namespace vigil::sigma {

enum class Source { kProcessCreation, kFileEvent, kFileDelete, kFileRename, kNetworkConnection, kAuditd };

struct Logsource {
  Source source = Source::kProcessCreation;
  std::string name;    // as documented: process_creation, file_event, ..., auditd
  std::string base;    // the events it selects, as condition text ("" for auditd: by record type)
  std::string output;  // the output template after the title
  bool keywords = false;  // whether bare keywords have a field to search (the command line)
};

// Reads a rule's `logsource:` map.
std::optional<ValueProblem> ResolveLogsource(const YAML::Node& logsource, Logsource* out);

struct FieldMapEntry {
  const char* logsources;  // "process" = every logsource's acting process; else a logsource name
  const char* sigma;
  const char* vigil;
  const char* note;
};
const std::vector<FieldMapEntry>& BuiltinFieldMap();

// The vigil field for `sigma_field` under `ls`; `overrides` (sigma.fields
// from the agent config) win over the built-in table.
std::optional<ValueProblem> MapField(const Logsource& ls, const std::string& sigma_field,
                                     const std::map<std::string, std::string>& overrides, TargetField* out);

// Fields whose values select events rather than compare a vigil field:
// auditd's record `type` and `SYSCALL`, network_connection's `Initiated`.
// Returns false when `sigma_field` is not one of them. `syscall_named`: the
// same selection names the syscall (else a SYSCALL record means the exec,
// the one syscall every program makes).
bool SpecialFieldCheck(const Logsource& ls, const std::string& sigma_field, const Modifiers& mods,
                       const std::vector<SigmaValue>& values, bool syscall_named, std::string* out,
                       std::optional<ValueProblem>* problem);

// The events an auditd selection without a `type` implies from its fields
// (a0..aN: EXECVE), or "" when none.
std::string AuditdImpliedEvents(const std::vector<std::string>& sigma_fields);

}  // namespace vigil::sigma
