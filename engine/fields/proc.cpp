// SPDX-License-Identifier: Apache-2.0
// proc.* and thread.*: the process, its parent and its ancestors (the lineage
// rows), then the process's other attributes and its thread.
#include "engine/fields/family.h"

namespace vigil {
namespace {

using P = ProcAttr;

enum ProcId : uint16_t {
  // lineage (ProcLineageFields)
  kName, kExepath, kExe, kCmdline, kArgs, kPid, kArgv,
  kPname, kPexepath, kPexe, kPcmdline, kPargv,
  kAname, kAexepath, kAexe, kAcmdline, kApid,
  // the other attributes (ProcFields)
  kPpid, kVpid, kTty, kCwd, kDuration, kIsExe32bit, kIsExeFromMemfd, kExeIno, kExeInoCtime, kExeInoMtime,
  kExeCtimeToProcStart, kExeCtimeFromPidnsStart, kPidnsInitStartTs, kIsExeUpperLayer, kExecId, kCgroup,
  kMemfdName, kPreExecName, kThreadTid, kThreadCapEffective, kThreadCapPermitted,
};

// Which process (0 self, 1 parent, -1 the ancestor the index names) and which
// attribute each lineage row reads, by id.
struct Lineage {
  int level;
  ProcAttr attr;
};
constexpr Lineage kLineage[] = {
    {0, P::kName},   {0, P::kExepath},  {0, P::kExe},  {0, P::kCmdline},  {0, P::kArgs}, {0, P::kPid},
    {0, P::kArgv},   {1, P::kName},     {1, P::kExepath}, {1, P::kExe},   {1, P::kCmdline}, {1, P::kArgv},
    {-1, P::kName},  {-1, P::kExepath}, {-1, P::kExe}, {-1, P::kCmdline}, {-1, P::kPid},
};
static_assert(std::size(kLineage) == kPpid);

void JoinArgs(const ProcessInfo& p, std::size_t from, std::string* buf) {
  for (std::size_t i = from; i < p.argv.size(); ++i) {
    if (!buf->empty()) buf->push_back(' ');
    *buf += p.argv[i];
  }
}

// proc.X and proc.pX.
bool GetProcLevel(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Lineage& l = kLineage[d.id];
  const ProcessInfo* p = AncestorAt(c, l.level);
  return p != nullptr && GetProcessAttr(*p, l.attr, s, o);
}

// proc.argv[N]: one argument; without an index, every argument joined.
bool GetProcArgv(const FieldDef&, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  const ProcessInfo& p = c.event->proc;
  if (!a.present) return GetProcessAttr(p, P::kArgv, s, o);
  if (a.index < 0 || static_cast<std::size_t>(a.index) >= p.argv.size()) return false;
  return Str(o, p.argv[static_cast<std::size_t>(a.index)]);
}

// One ancestor's value as an element of the list (s.owned[i] when it has to be built).
void PushAncestorValue(const ProcessInfo& p, ProcAttr attr, std::size_t i, Scratch& s) {
  if (attr == P::kName) return s.list.push_back(p.name);
  if (attr == P::kExepath) return s.list.push_back(p.exepath);
  s.owned[i].clear();
  if (attr == P::kPid) {
    AppendNum(&s.owned[i], p.pid);
  } else {
    // One scratch per thread, reused: a fresh one per level allocated for every
    // ancestor whose value passes 15 bytes (proc.acmdline), on every event.
    static thread_local Scratch inner;
    FieldValueRef v;
    GetProcessAttr(p, attr, inner, &v);
    s.owned[i].assign(v.str);
  }
  s.list.push_back(s.owned[i]);
}

// proc.aX[N]; without an index, the list over every ancestor.
bool GetProcAncestor(const FieldDef& d, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  const ProcAttr attr = kLineage[d.id].attr;
  if (a.present) {
    const ProcessInfo* p = AncestorAt(c, a.index);
    return p != nullptr && GetProcessAttr(*p, attr, s, o);
  }
  s.list.clear();
  s.owned.resize(64);
  for (int level = 1; level <= 64; ++level) {
    const ProcessInfo* p = AncestorAt(c, level);
    if (p == nullptr) break;
    PushAncestorValue(*p, attr, static_cast<std::size_t>(level - 1), s);
  }
  if (s.list.empty()) return false;
  o->list = &s.list;
  return true;
}

std::string SetAt(Event& e, OwnedAncestors& anc, int level, ProcAttr attr, std::string_view t) {
  return SetProcessAttr(TestProcessAt(e, anc, level), attr, t);
}

// proc.aX[N] in a test: the index names the ancestor.
std::string SetAncestor(Event& e, OwnedAncestors& anc, const FieldArg& a, ProcAttr attr, std::string_view t) {
  if (!a.present) return "needs an index in a test, e.g. proc.aname[2]";
  return SetAt(e, anc, a.index, attr, t);
}

// proc.argv in a test: every argument (split on spaces), or with [N] the Nth.
std::string SetProcArgv(Event& e, OwnedAncestors&, const FieldArg& g, std::string_view t) {
  if (!g.present) return SetProcessAttr(&e.proc, P::kArgv, t);
  if (g.index < 0 || g.index > 4096) return "expected an index from 0 to 4096";
  if (e.proc.argv.size() <= static_cast<std::size_t>(g.index)) e.proc.argv.resize(static_cast<std::size_t>(g.index) + 1);
  e.proc.argv[static_cast<std::size_t>(g.index)] = std::string(t);
  return "";
}

constexpr FieldDef kLineageRows[] = {
    {kName, "proc.name", T::kString, A::kNone, true, "Process name (comm, at most 15 bytes).", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 0, P::kName, t); }},
    {kExepath, "proc.exepath", T::kString, A::kNone, true,
     "Full path of the executable (a path deeper than 16 names: `...` and its last 16 names, docs/capture.md "
     "\"Limits\").",
     GetProcLevel, VIGIL_SETTER { return SetAt(e, anc, 0, P::kExepath, t); }},
    {kExe, "proc.exe", T::kString, A::kNone, true, "argv[0] as the process was started.", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 0, P::kExe, t); }},
    {kCmdline, "proc.cmdline", T::kString, A::kNone, true, "Name and arguments (\"name arg1 arg2\").", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 0, P::kCmdline, t); }},
    {kArgs, "proc.args", T::kString, A::kNone, true, "Arguments after argv[0], space-separated.", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 0, P::kArgs, t); }},
    {kPid, "proc.pid", T::kNumber, A::kNone, true, "Process id (tgid, host view).", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 0, P::kPid, t); }},
    {kArgv, "proc.argv", T::kString, A::kOptionalIndex, true,
     "vigil: the command line as exec'd: every argument from argv[0], space-separated; [N] argument N alone.",
     GetProcArgv, SetProcArgv},
    {kPname, "proc.pname", T::kString, A::kNone, true, "Parent process name.", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 1, P::kName, t); }},
    {kPexepath, "proc.pexepath", T::kString, A::kNone, true, "Parent executable path.", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 1, P::kExepath, t); }},
    {kPexe, "proc.pexe", T::kString, A::kNone, true, "Parent argv[0].", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 1, P::kExe, t); }},
    {kPcmdline, "proc.pcmdline", T::kString, A::kNone, true, "Parent name and arguments.", GetProcLevel,
     VIGIL_SETTER { return SetAt(e, anc, 1, P::kCmdline, t); }},
    {kPargv, "proc.pargv", T::kString, A::kNone, true, "vigil: the parent's command line as exec'd (as proc.argv).",
     GetProcLevel, VIGIL_SETTER { return SetAt(e, anc, 1, P::kArgv, t); }},
    {kAname, "proc.aname", T::kStringList, A::kOptionalIndex, true,
     "Ancestor name: [N] the Nth (1 parent, 2 grandparent, 0 self); without index, any ancestor.", GetProcAncestor,
     VIGIL_SETTER { return SetAncestor(e, anc, a, P::kName, t); }},
    {kAexepath, "proc.aexepath", T::kStringList, A::kOptionalIndex, true,
     "Ancestor executable path ([N] as proc.aname).", GetProcAncestor,
     VIGIL_SETTER { return SetAncestor(e, anc, a, P::kExepath, t); }},
    {kAexe, "proc.aexe", T::kStringList, A::kOptionalIndex, true, "Ancestor argv[0] ([N] as proc.aname).",
     GetProcAncestor, VIGIL_SETTER { return SetAncestor(e, anc, a, P::kExe, t); }},
    {kAcmdline, "proc.acmdline", T::kStringList, A::kOptionalIndex, true,
     "Ancestor command line ([N] as proc.aname).", GetProcAncestor, nullptr},
    {kApid, "proc.apid", T::kStringList, A::kOptionalIndex, true, "Ancestor pid ([N] as proc.aname).",
     GetProcAncestor, VIGIL_SETTER { return SetAncestor(e, anc, a, P::kPid, t); }},
};
static_assert(IdsInOrder(kLineageRows, kName) && std::size(kLineageRows) == kPpid);

// A boot-time ns as ns since the epoch, with the event's own two clocks
// (wall_ns - ts_ns is the boot offset when the event was decoded); false
// when either clock or the time is missing.
bool BootToEpoch(const Event& e, uint64_t boot_ns, int64_t* out) {
  if (boot_ns == 0 || e.wall_ns == 0 || e.ts_ns == 0 || e.wall_ns < e.ts_ns) return false;
  *out = static_cast<int64_t>(boot_ns + (e.wall_ns - e.ts_ns));
  return true;
}

bool IsMemfdPath(const std::string& exepath) {
  return exepath.rfind("/memfd:", 0) == 0 || exepath.rfind("memfd:", 0) == 0;
}

std::string SetExeUpper(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  bool upper = false;
  std::string err = SetBool(t, &upper);
  if (err.empty()) e.proc.exe_layer = upper ? ExeLayer::kUpper : ExeLayer::kNotUpper;
  return err;
}

std::string SetArgName(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.args.name = std::string(t);
  return "";
}

constexpr FieldDef kProcRows[] = {
    {kPpid, "proc.ppid", T::kNumber, A::kNone, true, "Parent process id.",
     VIGIL_GETTER { return Num(o, c.event->proc.ppid); }, SetMember},
    {kVpid, "proc.vpid", T::kNumber, A::kNone, true, "Process id inside its pid namespace.",
     VIGIL_GETTER { return Num(o, c.event->proc.vpid); }, SetMember},
    {kTty, "proc.tty", T::kNumber, A::kNone, true, "Controlling terminal (0: none).",
     VIGIL_GETTER { return Num(o, c.event->proc.tty); }, SetMember},
    {kCwd, "proc.cwd", T::kString, A::kNone, true, "Current working directory (truncated as fd.name is).",
     VIGIL_GETTER { return !c.event->proc.cwd.empty() && Str(o, c.event->proc.cwd); }, SetMember},
    {kDuration, "proc.duration", T::kNumber, A::kNone, true, "ns since the process started.",
     VIGIL_GETTER {
       const auto& e = *c.event;
       return e.proc.start_ns != 0 && e.ts_ns >= e.proc.start_ns &&
              Num(o, static_cast<int64_t>(e.ts_ns - e.proc.start_ns));
     },
     nullptr},
    {kIsExe32bit, "proc.is_exe_32bit", T::kBool, A::kNone, true,
     "vigil: the executable is 32-bit (i386 or x32 ELF). Its syscalls take the compat entry: the compat program "
     "captures the main ones (evt.is_compat), the per-call tracepoints none (docs/capture.md).",
     VIGIL_GETTER { return Bool(o, c.event->proc.exe_32bit); }, SetMember},
    {kIsExeFromMemfd, "proc.is_exe_from_memfd", T::kBool, A::kNone, true, "Executable is a memfd (fileless execution).",
     VIGIL_GETTER { return Bool(o, IsMemfdPath(c.event->proc.exepath)); }, nullptr},
    {kExeIno, "proc.exe_ino", T::kNumber, A::kNone, true,
     "Inode number of the executable (the file exec'd; /proc/PID/exe for processes that predate vigil).",
     VIGIL_GETTER { return c.event->proc.exe_ino != 0 && Num(o, static_cast<int64_t>(c.event->proc.exe_ino)); },
     SetMember},
    {kExeInoCtime, "proc.exe_ino.ctime", T::kNumber, A::kNone, true,
     "Executable's last status change (inode ctime), ns since the epoch, as the exec found it.",
     VIGIL_GETTER { return c.event->proc.exe_ctime_ns != 0 && Num(o, c.event->proc.exe_ctime_ns); }, SetMember},
    {kExeInoMtime, "proc.exe_ino.mtime", T::kNumber, A::kNone, true,
     "Executable's last modification (inode mtime), ns since the epoch, as the exec found it.",
     VIGIL_GETTER { return c.event->proc.exe_mtime_ns != 0 && Num(o, c.event->proc.exe_mtime_ns); }, SetMember},
    {kExeCtimeToProcStart, "proc.exe_ino.ctime_duration_proc_start", T::kNumber, A::kNone, true,
     "ns from the executable's ctime to the process's start (fork); <NA> when the ctime is later (libsinsp's "
     "unsigned difference wraps there).",
     VIGIL_GETTER {
       const auto& e = *c.event;
       int64_t start = 0;
       return e.proc.exe_ctime_ns != 0 && BootToEpoch(e, e.proc.start_ns, &start) && start > e.proc.exe_ctime_ns &&
              Num(o, start - e.proc.exe_ctime_ns);
     },
     nullptr},
    {kExeCtimeFromPidnsStart, "proc.exe_ino.ctime_duration_pidns_start", T::kNumber, A::kNone, true,
     "ns from the start of the process's pid namespace (its init) to the executable's ctime, when the ctime is "
     "later; else <NA>.",
     VIGIL_GETTER {
       const auto& e = *c.event;
       int64_t ns_start = 0;
       return e.proc.exe_ctime_ns != 0 && BootToEpoch(e, e.proc.pidns_start_ns, &ns_start) &&
              e.proc.exe_ctime_ns > ns_start && Num(o, e.proc.exe_ctime_ns - ns_start);
     },
     nullptr},
    {kPidnsInitStartTs, "proc.pidns_init_start_ts", T::kNumber, A::kNone, true,
     "Start of the process's pid namespace (its init process), ns since the epoch; taken at exec.",
     VIGIL_GETTER {
       int64_t t = 0;
       return BootToEpoch(*c.event, c.event->proc.pidns_start_ns, &t) && Num(o, t);
     },
     nullptr},
    {kIsExeUpperLayer, "proc.is_exe_upper_layer", T::kBool, A::kNone, true,
     "The executable is on overlayfs and in its upper layer (written or copied up in the container): false for any "
     "other file; <NA> for an overlayfs file when the kernel's BTF lacks the overlay inode (docs/capture.md) and "
     "for processes that predate vigil.",
     VIGIL_GETTER {
       ExeLayer l = c.event->proc.exe_layer;
       return l != ExeLayer::kUnknown && Bool(o, l == ExeLayer::kUpper);
     },
     SetExeUpper},
    {kExecId, "proc.exec_id", T::kString, A::kNone, true, "vigil: \"pid:start_ns\", stable across pid reuse.",
     VIGIL_GETTER {
       s.buf = c.event->proc.ExecId();
       return Str(o, s.buf);
     },
     nullptr},
    {kCgroup, "proc.cgroup", T::kString, A::kNone, true, "vigil: cgroup v2 path.",
     VIGIL_GETTER { return !c.event->proc.cgroup.empty() && Str(o, c.event->proc.cgroup); }, SetMember},
    {kMemfdName, "proc.memfd_name", T::kString, A::kNone, true, "vigil: memfd_create name / module name argument.",
     VIGIL_GETTER { return !c.event->args.name.empty() && Str(o, c.event->args.name); }, SetArgName},
    {kPreExecName, "proc.pre_exec_name", T::kString, A::kNone, true, "vigil: comm before exec (on execve events).",
     VIGIL_GETTER { return IsExecEvent(c.event->type) && !c.event->args.name.empty() && Str(o, c.event->args.name); },
     SetArgName},
    {kThreadTid, "thread.tid", T::kNumber, A::kNone, true, "Thread id.",
     VIGIL_GETTER { return Num(o, c.event->proc.tid); }, SetMember},
    {kThreadCapEffective, "thread.cap_effective", T::kString, A::kNone, true,
     "Effective capabilities, names space-separated.",
     VIGIL_GETTER {
       s.buf.clear();
       RenderCaps(c.event->proc.cap_effective, &s.buf);
       return Str(o, s.buf);
     },
     SetMember},
    {kThreadCapPermitted, "thread.cap_permitted", T::kString, A::kNone, true,
     "Permitted capabilities, names space-separated.",
     VIGIL_GETTER {
       s.buf.clear();
       RenderCaps(c.event->proc.cap_permitted, &s.buf);
       return Str(o, s.buf);
     },
     SetMember},
};
static_assert(IdsInOrder(kProcRows, kPpid));

// Splits on spaces.
std::vector<std::string> Words(std::string_view t) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < t.size()) {
    while (i < t.size() && t[i] == ' ') ++i;
    std::size_t j = i;
    while (j < t.size() && t[j] != ' ') ++j;
    if (j > i) words.emplace_back(t.substr(i, j - i));
    i = j;
  }
  return words;
}

// proc.cmdline ("name args...") and proc.args ("args...") keep argv[0].
std::string SetCmdline(ProcessInfo* p, ProcAttr attr, std::string_view t) {
  std::vector<std::string> words = Words(t);
  std::string argv0 = p->argv.empty() ? std::string() : p->argv[0];
  if (attr == P::kCmdline) {
    if (words.empty()) return "expected 'name args...'";
    p->name = words[0];
    if (argv0.empty()) argv0 = words[0];
    words.erase(words.begin());
  }
  p->argv.assign(1, argv0);
  p->argv.insert(p->argv.end(), words.begin(), words.end());
  return "";
}

}  // namespace

std::span<const FieldDef> ProcLineageFields() { return kLineageRows; }
std::span<const FieldDef> ProcFields() { return kProcRows; }

bool GetProcessAttr(const ProcessInfo& p, ProcAttr attr, Scratch& s, FieldValueRef* o) {
  switch (attr) {
    case P::kName: return Str(o, p.name);
    case P::kExepath: return Str(o, p.exepath);
    case P::kExe: return Str(o, p.argv.empty() ? std::string_view(p.exepath) : std::string_view(p.argv[0]));
    case P::kCmdline:
      s.buf = p.name;
      JoinArgs(p, 1, &s.buf);
      return Str(o, s.buf);
    case P::kArgs:
      s.buf.clear();
      JoinArgs(p, 1, &s.buf);
      return Str(o, s.buf);
    case P::kPid: return Num(o, p.pid);
    case P::kArgv:
      if (p.argv.empty()) return Str(o, p.exepath);
      s.buf.clear();
      JoinArgs(p, 0, &s.buf);
      return Str(o, s.buf);
  }
  return false;
}

std::string SetProcessAttr(ProcessInfo* p, ProcAttr attr, std::string_view t) {
  switch (attr) {
    case P::kName: p->name = std::string(t); return "";
    case P::kExepath: p->exepath = std::string(t); return "";
    case P::kExe:
      if (p->argv.empty()) p->argv.emplace_back();
      p->argv[0] = std::string(t);
      return "";
    case P::kCmdline:
    case P::kArgs: return SetCmdline(p, attr, t);
    case P::kArgv: p->argv = Words(t); return "";
    case P::kPid: {
      int64_t v;
      if (!ParseI64(t, &v) || v < 0) return "expected a pid";
      p->pid = static_cast<uint32_t>(v);
      return "";
    }
  }
  return "cannot be set";
}

ProcessInfo* TestProcessAt(Event& e, OwnedAncestors& anc, int level) {
  if (level == 0) return &e.proc;
  if (anc.chain.size() < static_cast<std::size_t>(level)) anc.chain.resize(static_cast<std::size_t>(level));
  e.ancestors = &anc;
  return &anc.chain[static_cast<std::size_t>(level - 1)];
}

bool ComparesEachAncestor(const FieldDef& def, const FieldArg& arg) {
  return def.get == GetProcAncestor && !arg.present;
}

FieldType EffectiveType(const FieldDef& def, const FieldArg& arg) {
  if (def.get == GetProcAncestor && arg.present) return def.id == kApid ? FieldType::kNumber : FieldType::kString;
  return def.type;
}

}  // namespace vigil
