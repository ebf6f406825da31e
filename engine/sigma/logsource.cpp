// SPDX-License-Identifier: Apache-2.0
#include "engine/sigma/logsource.h"

#include <algorithm>

#include "engine/fields/field_table.h"

namespace vigil::sigma {
namespace {

ValueProblem Unsupported(std::string cls, std::string msg) { return {true, std::move(cls), std::move(msg)}; }
ValueProblem Error(std::string msg) { return {false, "", std::move(msg)}; }

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// The agent's own work (feature probes, its reads of /proc) is never a detection.
constexpr const char* kNotSelf = "proc.is_vigil_self = false";
constexpr const char* kExec = "evt.type in (execve, execveat) and evt.res = SUCCESS";
constexpr const char* kProcOutput =
    "user=%user.name exe=%proc.exepath cmdline=%proc.argv parent=%proc.pexepath pcmdline=%proc.pargv pid=%proc.pid "
    "ppid=%proc.ppid "
    "container=%container.id";
// auditd PATH records: the syscalls whose path vigil reports as fs.path.name.
constexpr const char* kPathEvents =
    "evt.type in (open, openat, openat2, creat, unlink, unlinkat, rename, renameat, renameat2, chmod, fchmodat, "
    "chown, fchownat, lchown, link, linkat, symlink, symlinkat, mkdir, mkdirat, truncate, utimensat, futimesat, "
    "utimes, utime)";

bool IsArgField(const std::string& f) {
  return f.size() >= 2 && f.size() <= 4 && f[0] == 'a' &&
         std::all_of(f.begin() + 1, f.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const std::vector<FieldMapEntry>& BuiltinFieldMap() {
  static const std::vector<FieldMapEntry> kMap = {
      {"process", "Image", "proc.exepath", "the executable's full path"},
      {"process", "CommandLine", "proc.argv",
       "argv joined by spaces, from argv[0] (proc.cmdline starts with the 15-byte comm name instead)"},
      {"process", "ParentImage", "proc.pexepath", ""},
      {"process", "ParentCommandLine", "proc.pargv", "as CommandLine, for the parent"},
      {"process", "User", "user.name", "from this host's /etc/passwd"},
      {"process", "CurrentDirectory", "proc.cwd", ""},
      {"process", "ProcessId", "proc.pid", ""},
      {"process", "ParentProcessId", "proc.ppid", ""},
      {"process", "LogonId", "user.loginuid", "the audit login uid"},
      {"file_event", "TargetFilename", "fd.name", "the file opened for writing or created"},
      {"file_delete", "TargetFilename", "fs.path.name", "the file unlinked"},
      {"file_rename", "SourceFilename", "fs.path.name", "the old name"},
      {"file_rename", "TargetFilename", "fs.path.target", "the new name"},
      {"network_connection", "DestinationIp", "fd.sip", "the accepting end (remote for connect, local for accept)"},
      {"network_connection", "DestinationPort", "fd.sport", ""},
      {"network_connection", "SourceIp", "fd.cip", "the initiating end"},
      {"network_connection", "SourcePort", "fd.cport", ""},
      {"network_connection", "Protocol", "fd.l4proto", "tcp, udp"},
      {"network_connection", "Initiated", "evt.type", "'true': connect; 'false': accept, accept4"},
      {"auditd", "type", "evt.type",
       "EXECVE: execve/execveat; PATH: the file syscalls; SYSCALL: the syscall named by SYSCALL, else the exec"},
      {"auditd", "a0 .. aN", "proc.argv[N]", "EXECVE record arguments"},
      {"auditd", "exe", "proc.exepath", ""},
      {"auditd", "comm", "proc.name", ""},
      {"auditd", "name", "fs.path.name", "PATH record"},
      {"auditd", "SYSCALL", "evt.type", "syscall name; only the syscalls vigil captures"},
      {"auditd", "cwd", "proc.cwd", ""},
      {"auditd", "uid", "user.uid", ""},
      {"auditd", "euid", "user.euid", ""},
      {"auditd", "auid", "user.loginuid", ""},
  };
  return kMap;
}

std::optional<ValueProblem> ResolveLogsource(const YAML::Node& ls, Logsource* out) {
  if (!ls.IsMap()) return Error("expected a map with category, product or service");
  auto get = [&](const char* k) { return ls[k] && ls[k].IsScalar() ? Lower(ls[k].Scalar()) : std::string(); };
  std::string product = get("product"), category = get("category"), service = get("service");
  if (!product.empty() && product != "linux")
    return Unsupported("logsource product '" + product + "'", "product '" + product + "': vigil watches Linux");
  out->output = kProcOutput;
  out->keywords = false;
  std::string self = kNotSelf;
  if (service == "auditd" && category.empty()) {
    out->source = Source::kAuditd;
    out->name = "auditd";
    out->base = self;
    out->output = std::string("evt=%evt.type path=%fs.path.name ") + kProcOutput;
    out->keywords = true;
    return std::nullopt;
  }
  if (!service.empty() && category.empty())
    return Unsupported("logsource service '" + service + "'",
                       "service '" + service + "': its log lines are not kernel events; vigil reads no logs");
  if (category == "process_creation") {
    out->source = Source::kProcessCreation;
    out->base = self + " and " + kExec;
    out->keywords = true;
  } else if (category == "file_event" || category == "file_change") {
    out->source = Source::kFileEvent;
    out->base = self + " and (evt.type = creat or (evt.type in (open, openat, openat2) and evt.is_open_write = true))"
                       " and evt.res = SUCCESS";
    out->output = std::string("file=%fd.name ") + kProcOutput;
  } else if (category == "file_delete") {
    out->source = Source::kFileDelete;
    out->base = self + " and evt.type in (unlink, unlinkat) and evt.res = SUCCESS";
    out->output = std::string("file=%fs.path.name ") + kProcOutput;
  } else if (category == "file_rename") {
    out->source = Source::kFileRename;
    out->base = self + " and evt.type in (rename, renameat, renameat2) and evt.res = SUCCESS";
    out->output = std::string("file=%fs.path.name target=%fs.path.target ") + kProcOutput;
  } else if (category == "network_connection") {
    out->source = Source::kNetworkConnection;
    out->base = self + " and evt.type in (connect, accept, accept4) and fd.typechar in (4, 6)"
                       " and (evt.rawres >= 0 or evt.res = EINPROGRESS)";
    out->output = std::string("connection=%fd.name proto=%fd.l4proto ") + kProcOutput;
  } else if (category.empty()) {
    return Unsupported("logsource without category or service",
                       "a logsource with neither category nor service means the system's log lines; "
                       "vigil reads kernel events, not logs");
  } else {
    return Unsupported("logsource category '" + category + "'",
                       "category '" + category + "' has no vigil event (supported: process_creation, file_event, "
                       "file_change, file_delete, file_rename, network_connection, service auditd)");
  }
  out->name = category;
  return std::nullopt;
}

std::optional<ValueProblem> MapField(const Logsource& ls, const std::string& sigma_field,
                                     const std::map<std::string, std::string>& overrides, TargetField* out) {
  std::string vigil;
  if (auto it = overrides.find(sigma_field); it != overrides.end()) {
    vigil = it->second;
  } else {
    for (const auto& e : BuiltinFieldMap()) {
      std::string_view group = e.logsources;
      bool applies = ls.source == Source::kAuditd
                         ? group == "auditd"
                         : group == "process" || group == ls.name ||
                               (group == "file_event" && ls.source == Source::kFileEvent);
      if (applies && sigma_field == e.sigma) vigil = e.vigil;
    }
    // auditd EXECVE arguments: a0, a1, ...
    if (vigil.empty() && ls.source == Source::kAuditd && IsArgField(sigma_field))
      vigil = "proc.argv[" + sigma_field.substr(1) + "]";
  }
  if (vigil.empty())
    return Unsupported("field '" + sigma_field + "'", "field '" + sigma_field + "' has no vigil equivalent for " +
                                                          ls.name + " (map it with sigma.fields in the agent config)");
  const FieldDef* def = FindField(vigil.substr(0, vigil.find('[')));
  if (def == nullptr) return Error("field '" + sigma_field + "' maps to '" + vigil + "', which is not a vigil field");
  out->name = vigil;
  out->type = def->type;
  return std::nullopt;
}

std::string AuditdImpliedEvents(const std::vector<std::string>& fields) {
  for (const auto& f : fields)
    if (f == "type") return "";
  for (const auto& f : fields)
    if (IsArgField(f)) return std::string("(") + kExec + ")";
  return "";
}

bool SpecialFieldCheck(const Logsource& ls, const std::string& sigma_field, const Modifiers& mods,
                       const std::vector<SigmaValue>& values, bool syscall_named, std::string* out,
                       std::optional<ValueProblem>* problem) {
  bool record_type = ls.source == Source::kAuditd && sigma_field == "type";
  bool syscall = ls.source == Source::kAuditd && sigma_field == "SYSCALL";
  bool initiated = ls.source == Source::kNetworkConnection && sigma_field == "Initiated";
  if (!record_type && !initiated && !syscall) return false;
  Modifiers plain;
  plain.all = mods.all;
  if (mods.contains || mods.startswith || mods.endswith || mods.re || mods.exists || mods.base64 ||
      mods.base64offset || mods.windash || mods.cidr || !mods.compare.empty()) {
    *problem = Error("'" + sigma_field + "' takes plain values, no modifiers");
    return true;
  }
  std::vector<std::string> parts;
  for (const auto& v : values) {
    std::string t = Lower(v.text);
    if (v.is_null) {
      *problem = Error("'" + sigma_field + "' needs a value");
      return true;
    }
    if (syscall) {
      EventType type;
      if (!EventTypeFromName(t, &type)) {
        *problem = Unsupported("syscall not captured", "syscall '" + v.text + "' is not one vigil captures");
        return true;
      }
      parts.push_back("evt.type = " + t);
    } else if (initiated) {
      if (t == "true") parts.push_back("evt.type = connect");
      else if (t == "false") parts.push_back("evt.type in (accept, accept4)");
      else *problem = Error("Initiated: expected 'true' or 'false'");
    } else if (t == "execve") {
      parts.push_back(std::string("(") + kExec + ")");
    } else if (t == "path") {
      parts.push_back(kPathEvents);
    } else if (t == "syscall") {
      parts.push_back(syscall_named ? "evt.type exists" : std::string("(") + kExec + ")");
    } else {
      *problem = Unsupported("auditd record type '" + v.text + "'",
                             "auditd record type '" + v.text + "' has no vigil event (supported: EXECVE, PATH, SYSCALL)");
    }
    if (*problem) return true;
  }
  if (parts.size() == 1) {
    *out = parts[0];
  } else {
    *out = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) *out += (i ? (mods.all ? " and " : " or ") : "") + parts[i];
    *out += ")";
  }
  return true;
}

}  // namespace vigil::sigma
