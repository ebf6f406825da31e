// SPDX-License-Identifier: Apache-2.0
// What the field family files (engine/fields/<family>.cpp) share: each
// family's rows, the value and setter helpers, and the process attributes that
// proc.*, the pipe peers and the session leaders read alike. Internal to
// engine/fields/; the rest of the engine includes field_table.h.
//
// A family file holds, as libsinsp's filter/checks/*.cpp do, one enum of its
// fields and one table of rows in the enum's order (a static_assert keeps the
// two in step); a row carries the field's id, name, type, description, getter
// and rule-test setter. A getter that serves several rows switches on the id.
#pragma once

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/fields/field_table.h"

namespace vigil {

// The type and argument-kind columns of a row, short so that most rows fit a line.
using T = FieldType;
using A = ArgKind;

// ---- the families, in the order AllFields() (and docs/fields.md) lists them

std::span<const FieldDef> EvtFields();          // evt.cpp: type, result, evt.args
std::span<const FieldDef> EvtArgFields();       // evt_arg.cpp: evt.arg.*, evt.rawarg.*
std::span<const FieldDef> BufferFields();       // buffer.cpp: evt.buffer
std::span<const FieldDef> ProcLineageFields();  // proc.cpp: the process, parent and ancestors
std::span<const FieldDef> FdFields();           // fd.cpp: the file or socket endpoints
std::span<const FieldDef> DnsFields();          // dns.cpp: fd.*ip.name
std::span<const FieldDef> EnvFields();          // env.cpp: proc.env and kin
std::span<const FieldDef> SessionFields();      // session.cpp: proc.sid, proc.vpgid and kin
std::span<const FieldDef> StdioFields();        // stdio.cpp: proc.stdin.*, proc.stdout.*, ...
std::span<const FieldDef> EvtTimeFields();      // evt.cpp: time, host, open kind, compat
std::span<const FieldDef> ProcFields();         // proc.cpp: the process's other attributes, thread.*
std::span<const FieldDef> UserFields();         // user.cpp: user.*, group.*
std::span<const FieldDef> ContainerIdFields();  // container.cpp: container.id
std::span<const FieldDef> FdSocketFields();     // fd.cpp: fd.sockfamily, fd.connected, fd.unix_path
std::span<const FieldDef> FsFields();           // fs.cpp: fs.path.*, fs.atime/mtime
std::span<const FieldDef> NsFields();           // ns.cpp: ns.*, proc.is_host_*_ns, proc.is_vigil_self
std::span<const FieldDef> BpfFields();          // bpf.cpp: bpf.*
std::span<const FieldDef> UnavailableFields();  // unavailable.cpp: fields vigil cannot know (<NA>)
std::span<const FieldDef> ContainerFields();    // container.cpp: container.* and k8s.* metadata

// True when `rows` carry the ids first, first + 1, ... in order: a family's
// static_assert that its table follows its enum.
constexpr bool IdsInOrder(std::span<const FieldDef> rows, uint16_t first = 0) {
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (static_cast<std::size_t>(rows[i].id) != first + i) return false;
  return true;
}

// A row's getter and setter written in the row. Every parameter is named so a
// body can use any of them: d the row, c the event, a the bracket argument, s
// the scratch, o the value; e the event to fill, anc its ancestors, t the text.
#define VIGIL_GETTER                                                                                       \
  []([[maybe_unused]] const ::vigil::FieldDef& d, [[maybe_unused]] const ::vigil::FieldContext& c,       \
     [[maybe_unused]] const ::vigil::FieldArg& a, [[maybe_unused]] ::vigil::Scratch& s,                   \
     [[maybe_unused]] ::vigil::FieldValueRef* o) -> bool
#define VIGIL_SETTER                                                                                       \
  []([[maybe_unused]] ::vigil::Event& e, [[maybe_unused]] ::vigil::OwnedAncestors& anc,                  \
     [[maybe_unused]] const ::vigil::FieldArg& a, [[maybe_unused]] std::string_view t) -> std::string

// ---- values

inline bool Str(FieldValueRef* o, std::string_view v) { return o->str = v, true; }
inline bool Num(FieldValueRef* o, int64_t v) { return o->num = v, true; }
inline bool Bool(FieldValueRef* o, bool v) { return o->boolean = v, true; }
inline bool Ip(FieldValueRef* o, const IpAddr& a, uint16_t family) {
  o->ip = a;
  o->family = family;
  return true;
}

inline void AppendNum(std::string* s, int64_t v) {
  char b[32];
  auto r = std::to_chars(b, b + sizeof b, v);
  s->append(b, r.ptr);
}

// Never available (fields that need a plugin or data vigil does not have).
bool NotAvailable(const FieldDef&, const FieldContext&, const FieldArg&, Scratch&, FieldValueRef*);

// The process `level` steps up the event's chain (0: the process itself);
// nullptr when not known.
inline const ProcessInfo* AncestorAt(const FieldContext& c, int level) {
  if (level == 0) return &c.event->proc;
  return c.event->ancestors ? c.event->ancestors->Ancestor(level) : nullptr;
}

// The attributes proc.X reads for the process, proc.pX for its parent,
// proc.aX[N] for an ancestor and proc.stdin.peer.X for a pipe peer (proc.cpp).
enum class ProcAttr : uint8_t { kName, kExepath, kExe, kCmdline, kArgs, kPid, kArgv };
bool GetProcessAttr(const ProcessInfo& p, ProcAttr attr, Scratch& s, FieldValueRef* o);
// Rule tests: sets the attribute from text (cmdline and argv split on spaces).
std::string SetProcessAttr(ProcessInfo* p, ProcAttr attr, std::string_view t);
// The process a test sets at `level` (0: the event's own; N: ancestor N,
// created in `anc` and linked to the event).
ProcessInfo* TestProcessAt(Event& e, OwnedAncestors& anc, int level);

// The ends of a socket fd.lip, fd.rip, fd.sip, fd.cip and fd.ip read (fd.cpp).
enum class SocketEnd : uint8_t { kLocal, kRemote, kServer, kClient, kEither };
// The address of `end` (kLocal .. kClient) of the event's IP socket; false
// when the event has none. The DNS name fields read their address here.
bool SocketAddress(const Event& e, SocketEnd end, uint16_t* family, IpAddr* addr);
// fd.name of a socket event ("lip:lport->rip:rport", the unix path); false otherwise.
bool SocketName(const Event& e, Scratch& s, FieldValueRef* o);

// ---- rule-test setters (setters.cpp)

bool ParseI64(std::string_view t, int64_t* v);
std::string SetBool(std::string_view t, bool* out);
// ns since the epoch, "now" or "omit" (fs.atime, fs.mtime).
std::string SetFileTime(int64_t* dst, std::string_view t);
template <typename F>
std::string SetNumber(std::string_view t, F assign) {
  int64_t v;
  if (!ParseI64(t, &v)) return "expected a number, got '" + std::string(t) + "'";
  assign(v);
  return "";
}

// Setters more than one family's rows name.
std::string SetFilePath(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t);     // file.path
std::string SetFileAbspath(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t);  // file.abspath
std::string SetFileTarget(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t);   // file.target
std::string SetFdNum(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t);        // file.fd, net.fd
std::string SetRawRes(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t);       // res, a number

// The setter a row names when its field is the JSON key of a number, string,
// boolean or file-time member of the event or its process
// (engine/event_members.h): the test value sets that member as a JSON line
// would. AllFields() puts the member's own setter in its place; it is never called.
std::string SetMember(Event& e, OwnedAncestors& anc, const FieldArg& a, std::string_view t);
// The setter of the member whose JSON key is `key`; nullptr when none.
FieldSetter MemberSetter(std::string_view key);

}  // namespace vigil
