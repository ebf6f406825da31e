// SPDX-License-Identifier: Apache-2.0
// Session and process group fields (proc.sid, proc.sname, proc.vpgid,
// proc.vpgid.name, ... and the two leader flags), with libsinsp's meaning:
// the leader is the process whose pid is the id, else the eldest ancestor
// with the same id (the leader itself may have exited or be unknown). The ids
// are taken at exec and by the /proc scan, and a fork child inherits its
// parent's (ProcessInfo::session_known); a process whose ids are unknown has
// <NA> for all of them.
#include <charconv>
#include <string>

#include "engine/fields/family.h"

namespace vigil {
namespace {

// libsinsp walks the whole known chain; vigil's chain is at most this deep
// (engine/state/process_table.h kMaxAncestorDepth, OwnedAncestors in tests).
constexpr int kMaxLeaderDepth = 64;

enum SessionId : uint16_t {
  kSid, kSname, kSidExe, kSidExepath, kVpgid, kVpgidName, kVpgidExe, kVpgidExepath, kIsSidLeader, kIsVpgidLeader,
};

enum Which { kSession, kGroup };

uint32_t IdOf(const ProcessInfo& p, Which w) { return w == kSession ? p.sid : p.pgid; }

// The leader by host ids (the event's ancestors carry no vpid in recorded
// lines, and the host numbers are unique where the namespace ones are not).
const ProcessInfo* Leader(const FieldContext& c, Which w) {
  const ProcessInfo& self = c.event->proc;
  if (!self.session_known) return nullptr;
  const uint32_t id = IdOf(self, w);
  const ProcessInfo* found = &self;
  if (self.pid == id || c.event->ancestors == nullptr) return found;
  for (int level = 1; level <= kMaxLeaderDepth; ++level) {
    const ProcessInfo* a = c.event->ancestors->Ancestor(level);
    if (a == nullptr || !a->session_known || IdOf(*a, w) != id) break;
    found = a;
    if (a->pid == id) break;
  }
  return found;
}

bool GetId(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const ProcessInfo& p = c.event->proc;
  if (!p.session_known) return false;
  o->num = d.id == kSid ? p.vsid : p.vpgid;
  return true;
}

bool GetIsLeader(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const ProcessInfo& p = c.event->proc;
  if (!p.session_known) return false;
  o->boolean = p.pid == IdOf(p, d.id == kIsSidLeader ? kSession : kGroup);
  return true;
}

// The leader's name, argv[0] or executable path.
bool GetLeaderAttr(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const bool session = d.id == kSname || d.id == kSidExe || d.id == kSidExepath;
  const ProcessInfo* l = Leader(c, session ? kSession : kGroup);
  if (l == nullptr) return false;
  switch (d.id) {
    case kSname:
    case kVpgidName: o->str = l->name; return true;
    case kSidExe:
    case kVpgidExe: o->str = l->argv.empty() ? std::string_view(l->exepath) : std::string_view(l->argv[0]); return true;
    default: o->str = l->exepath; return true;
  }
}

// Rule tests give the namespace view; on the host the host id is the same.
std::string SetIdText(std::string_view t, uint32_t* host, uint32_t* ns, ProcessInfo* p) {
  uint32_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size()) return "expected a number, got '" + std::string(t) + "'";
  *host = *ns = v;
  p->session_known = true;
  return "";
}

std::string SetSid(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  return SetIdText(t, &e.proc.sid, &e.proc.vsid, &e.proc);
}

std::string SetVpgid(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  return SetIdText(t, &e.proc.pgid, &e.proc.vpgid, &e.proc);
}

// Rows that rule tests cannot set: an attribute of the session or group
// leader (a string), and whether the process is that leader.
constexpr FieldDef LeaderRow(SessionId id, const char* name, const char* description) {
  return {id, name, T::kString, A::kNone, true, description, GetLeaderAttr, nullptr};
}
constexpr FieldDef IsLeaderRow(SessionId id, const char* name, const char* description) {
  return {id, name, T::kBool, A::kNone, true, description, GetIsLeader, nullptr};
}

constexpr FieldDef kRows[] = {
    {kSid, "proc.sid", T::kNumber, A::kNone, true,
     "Session id, as the process's pid namespace numbers it (0: the session leader is outside it). "
     "Taken at exec (and by the /proc scan at start): a setsid() not followed by an exec is not seen.",
     GetId, SetSid},
    LeaderRow(kSname, "proc.sname",
              "Name of the session leader: the process whose pid is the session id, else the eldest known "
              "ancestor in the same session."),
    LeaderRow(kSidExe, "proc.sid.exe", "argv[0] of the session leader (as proc.sname)."),
    LeaderRow(kSidExepath, "proc.sid.exepath", "Executable path of the session leader (as proc.sname)."),
    {kVpgid, "proc.vpgid", T::kNumber, A::kNone, true,
     "Process group id, as the process's pid namespace numbers it (0: the group leader is outside it). "
     "Taken at exec, as proc.sid.",
     GetId, SetVpgid},
    LeaderRow(kVpgidName, "proc.vpgid.name",
              "Name of the process group leader: the process whose pid is the group id, else the eldest known "
              "ancestor in the same group."),
    LeaderRow(kVpgidExe, "proc.vpgid.exe", "argv[0] of the process group leader (as proc.vpgid.name)."),
    LeaderRow(kVpgidExepath, "proc.vpgid.exepath",
              "Executable path of the process group leader (as proc.vpgid.name)."),
    IsLeaderRow(kIsSidLeader, "proc.is_sid_leader",
                "The process leads its session (proc.sid = proc.vpid): a login shell, a daemon, anything "
                "started by setsid."),
    IsLeaderRow(kIsVpgidLeader, "proc.is_vpgid_leader",
                "The process leads its process group (proc.vpgid = proc.vpid): true for a command a "
                "job-control shell started directly, false for the processes a script or program starts "
                "under it."),
};
static_assert(IdsInOrder(kRows));

}  // namespace

std::span<const FieldDef> SessionFields() { return kRows; }

}  // namespace vigil
