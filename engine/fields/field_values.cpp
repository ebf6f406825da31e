// SPDX-License-Identifier: Apache-2.0
// The remaining field families: event time and flags, process scalars,
// thread, user/group, container, socket extras, fs.*, ns.*, bpf.*, and the
// fields that need a plugin vigil does not have (always <NA>).

#include "engine/fields/field_table.h"
#include "engine/iso_time.h"

namespace vigil {

FieldGetter NotAvailableGetter();
FieldSetter SetterFor(std::string_view name);

namespace {

using T = FieldType;
using A = ArgKind;
using C = const FieldContext&;
using G = const FieldArg&;

#define GETTER [](const FieldDef& d, C c, G, Scratch& s, FieldValueRef* o) -> bool
#define UNUSED_DS (void)d, (void)s

bool Str(FieldValueRef* o, std::string_view v) { return o->str = v, true; }
bool Num(FieldValueRef* o, int64_t v) { return o->num = v, true; }
bool Bool(FieldValueRef* o, bool v) { return o->boolean = v, true; }

// fs.atime.iso8601 / fs.mtime.iso8601: <NA> when the event set no time.
bool FileTimeIso(int64_t t, std::string* buf, FieldValueRef* o) {
  buf->clear();
  RenderFileTime(t, buf);
  return !buf->empty() && Str(o, *buf);
}

constexpr uint32_t kOCreat = 0100;            // O_CREAT
constexpr uint32_t kOTmpfile = 020000000;     // __O_TMPFILE (O_TMPFILE without its O_DIRECTORY)
constexpr uint32_t kExecBits = 0111;          // S_IXUSR | S_IXGRP | S_IXOTH

// evt.is_open_create as libsinsp has it: an open of the open family (not
// creat) that created the file (FMODE_CREATED), or a successful O_TMPFILE one.
bool OpenCreated(const Event& e) {
  if (e.type == EventType::creat) return false;
  return (e.file.flags & kOpenFlagCreated) != 0 || ((e.file.flags & kOTmpfile) != 0 && e.res >= 0);
}

// evt.is_open_exec as libsinsp has it: creat, or an open asking for O_CREAT
// or O_TMPFILE, with an execute bit in the mode argument (whether or not the
// call created the file, or succeeded).
bool OpenExec(const Event& e) {
  if (e.type != EventType::creat && (e.file.flags & (kOCreat | kOTmpfile)) == 0) return false;
  return (e.file.mode & kExecBits) != 0;
}

// A boot-time ns as ns since the epoch, with the event's own two clocks
// (wall_ns - ts_ns is the boot offset when the event was decoded); false
// when either clock or the time is missing.
bool BootToEpoch(const Event& e, uint64_t boot_ns, int64_t* out) {
  if (boot_ns == 0 || e.wall_ns == 0 || e.ts_ns == 0 || e.wall_ns < e.ts_ns) return false;
  *out = static_cast<int64_t>(boot_ns + (e.wall_ns - e.ts_ns));
  return true;
}


// evt.time ("HH:MM:SS.nnnnnnnnn") is the time-of-day part of the ISO form.
void AppendTime(uint64_t ns, bool iso, std::string* out) {
  char b[kIsoTimeLen];
  FormatIsoTime(ns, b);
  if (iso) out->assign(b, kIsoTimeLen);
  else out->assign(b + 11, kIsoTimeLen - 12);
}

// Falco fields that need the container/k8s plugins or kernel data vigil does not capture.
constexpr const char* kUnavailable[][2] = {
    {"proc.ppid.duration", "Parent's age (not tracked)."},
    {"proc.is_exe_writable", "Executable writable by the process (not captured)."},
    {"proc.is_container_healthcheck", "Container health check (needs a container runtime plugin)."},
    {"proc.is_container_liveness_probe", "Container probe (needs a container runtime plugin)."},
    {"proc.is_container_readiness_probe", "Container probe (needs a container runtime plugin)."},
    {"thread.cap_inheritable", "Inheritable capabilities (not captured)."},
    {"thread.vtid", "Thread id in its pid namespace (not captured)."},
    {"user.homedir", "Home directory (not resolved)."},
    {"user.shell", "Login shell (not resolved)."},
    {"fd.name_changed", "The event changed the fd's name (a UDP peer change): libsinsp's socket state, which vigil does not have (docs/rules.md)."},
    {"fd.types", "Types of all fds of the process (not tracked)."},
    {"fd.dev", "Device of the file (not captured)."},
    {"fd.ino", "Inode of the file (not captured)."},
    {"container.ip", "Container IP (needs the container plugin)."},
    {"container.cni.json", "Container CNI result (needs the container plugin)."},
    {"container.info", "Container summary (needs the container plugin)."},
    {"container.image.*", "Other container image fields (not reported by the runtimes' APIs)."},
    {"container.mount.*", "Other container mount fields (not reported)."},
    {"container.healthcheck*", "Container health check (needs the container plugin)."},
    {"container.probes*", "Container probes (need the container plugin)."},
    {"k8s.*", "Kubernetes metadata (needs the k8smeta plugin)."},
    {"k8smeta.*", "Kubernetes metadata (needs the k8smeta plugin)."},
    {"ka.*", "Kubernetes audit (another event source)."},
};

// Adds a row to the table, with the rule-test setter the name has when the row names none.
struct FieldAdder {
  std::vector<FieldDef>* v;
  void operator()(FieldDef d) const {
    if (d.set == nullptr) d.set = SetterFor(d.name);
    v->push_back(d);
  }
};

// evt.*: time, host, direction, open kind, enforcement, 32-bit calls.
void AddEvtFields(const FieldAdder& add) {
  add({"evt.time", T::kString, A::kNone, true, "Event time of day, UTC (HH:MM:SS.nnnnnnnnn).",
       GETTER { UNUSED_DS; AppendTime(c.event->wall_ns, false, &s.buf); return Str(o, s.buf); }, nullptr, 0});
  add({"evt.time.iso8601", T::kString, A::kNone, true, "Event time, ISO 8601 UTC.",
       GETTER { UNUSED_DS; AppendTime(c.event->wall_ns, true, &s.buf); return Str(o, s.buf); }, nullptr, 0});
  add({"evt.rawtime", T::kNumber, A::kNone, true, "Event time, ns since the Unix epoch.",
       GETTER { UNUSED_DS; return Num(o, static_cast<int64_t>(c.event->wall_ns)); }, nullptr, 0});
  add({"evt.num", T::kNumber, A::kNone, true, "Event number: events this engine has evaluated, from 1.",
       GETTER { UNUSED_DS; return Num(o, static_cast<int64_t>(c.event_num)); }, nullptr, 0});
  add({"evt.hostname", T::kString, A::kNone, true, "Host name of the machine.",
       GETTER { UNUSED_DS; return Str(o, c.host->hostname); }, nullptr, 0});
  add({"evt.dir", T::kString, A::kNone, true, "Direction: always '<' (vigil events carry the result).",
       GETTER { UNUSED_DS; (void)c; return Str(o, "<"); }, nullptr, 0});
  add({"evt.is_open_read", T::kBool, A::kNone, true, "Open for reading (O_RDONLY or O_RDWR).",
       GETTER { UNUSED_DS; return IsOpenEvent(c.event->type) && Bool(o, (c.event->file.flags & 3u) != 1u); }, nullptr, 0});
  add({"evt.is_open_write", T::kBool, A::kNone, true, "Open for writing (O_WRONLY or O_RDWR).",
       GETTER { UNUSED_DS; return IsOpenEvent(c.event->type) && Bool(o, (c.event->file.flags & 3u) != 0u); }, nullptr, 0});
  add({"evt.is_open_create", T::kBool, A::kNone, true,
       "Open that created the file (FMODE_CREATED), or a successful O_TMPFILE open; false for creat, as libsinsp.",
       GETTER { UNUSED_DS; return IsOpenEvent(c.event->type) && Bool(o, OpenCreated(*c.event)); }, nullptr, 0});
  add({"evt.is_open_exec", T::kBool, A::kNone, true,
       "creat, or an open with O_CREAT or O_TMPFILE, whose mode has an execute bit (libsinsp's test: the flags asked "
       "for, not whether the file was created).",
       GETTER { UNUSED_DS; return IsOpenEvent(c.event->type) && Bool(o, OpenExec(*c.event)); }, nullptr, 0});
  add({"evt.enforcement", T::kString, A::kNone, true, "vigil: the action the kernel took (deny, kill, or empty).",
       GETTER { UNUSED_DS; return Str(o, c.event->enforcement); }, nullptr, 0});
  add({"evt.is_compat", T::kBool, A::kNone, true,
       "vigil: the call came through the 32-bit (ia32) syscall entry of an x86-64 kernel (int 0x80, sysenter): an i386 "
       "program's calls, or a 64-bit program's 32-bit ones. For an exec, the execve call (not the new image).",
       GETTER { UNUSED_DS; return Bool(o, c.event->compat); }, nullptr, 0});
  add({"evt.is_compat_from_64bit", T::kBool, A::kNone, true,
       "vigil: a 32-bit (ia32) syscall made by a 64-bit program (its image has a 64-bit address space): the int 0x80 "
       "way past syscall tracepoints. False for an i386 program's calls and for every 64-bit call.",
       GETTER { UNUSED_DS; return Bool(o, c.event->compat_from_64bit); }, nullptr, 0});
}

// proc.*, thread.*, user.* and group.* read from the event's process.
void AddProcUserFields(const FieldAdder& add) {
  add({"proc.ppid", T::kNumber, A::kNone, true, "Parent process id.",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.ppid); }, nullptr, 0});
  add({"proc.vpid", T::kNumber, A::kNone, true, "Process id inside its pid namespace.",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.vpid); }, nullptr, 0});
  add({"proc.tty", T::kNumber, A::kNone, true, "Controlling terminal (0: none).",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.tty); }, nullptr, 0});
  add({"proc.cwd", T::kString, A::kNone, true, "Current working directory (truncated as fd.name is).",
       GETTER { UNUSED_DS; return !c.event->proc.cwd.empty() && Str(o, c.event->proc.cwd); }, nullptr, 0});
  add({"proc.duration", T::kNumber, A::kNone, true, "ns since the process started.",
       GETTER {
         UNUSED_DS;
         const auto& e = *c.event;
         return e.proc.start_ns != 0 && e.ts_ns >= e.proc.start_ns &&
                Num(o, static_cast<int64_t>(e.ts_ns - e.proc.start_ns));
       }, nullptr, 0});
  add({"proc.is_exe_32bit", T::kBool, A::kNone, true,
       "vigil: the executable is 32-bit (i386 or x32 ELF). Its syscalls take the compat entry: the compat program "
       "captures the main ones (evt.is_compat), the per-call tracepoints none (docs/capture.md).",
       GETTER { UNUSED_DS; return Bool(o, c.event->proc.exe_32bit); }, nullptr, 0});
  add({"proc.is_exe_from_memfd", T::kBool, A::kNone, true, "Executable is a memfd (fileless execution).",
       GETTER { UNUSED_DS; return Bool(o, c.event->proc.exepath.rfind("/memfd:", 0) == 0 ||
                                         c.event->proc.exepath.rfind("memfd:", 0) == 0); }, nullptr, 0});
  add({"proc.exe_ino", T::kNumber, A::kNone, true,
       "Inode number of the executable (the file exec'd; /proc/PID/exe for processes that predate vigil).",
       GETTER { UNUSED_DS; return c.event->proc.exe_ino != 0 && Num(o, static_cast<int64_t>(c.event->proc.exe_ino)); },
       nullptr, 0});
  add({"proc.exe_ino.ctime", T::kNumber, A::kNone, true,
       "Executable's last status change (inode ctime), ns since the epoch, as the exec found it.",
       GETTER { UNUSED_DS; return c.event->proc.exe_ctime_ns != 0 && Num(o, c.event->proc.exe_ctime_ns); }, nullptr, 0});
  add({"proc.exe_ino.mtime", T::kNumber, A::kNone, true,
       "Executable's last modification (inode mtime), ns since the epoch, as the exec found it.",
       GETTER { UNUSED_DS; return c.event->proc.exe_mtime_ns != 0 && Num(o, c.event->proc.exe_mtime_ns); }, nullptr, 0});
  add({"proc.exe_ino.ctime_duration_proc_start", T::kNumber, A::kNone, true,
       "ns from the executable's ctime to the process's start (fork); <NA> when the ctime is later (libsinsp's "
       "unsigned difference wraps there).",
       GETTER {
         UNUSED_DS;
         const auto& e = *c.event;
         int64_t start = 0;
         return e.proc.exe_ctime_ns != 0 && BootToEpoch(e, e.proc.start_ns, &start) && start > e.proc.exe_ctime_ns &&
                Num(o, start - e.proc.exe_ctime_ns);
       }, nullptr, 0});
  add({"proc.exe_ino.ctime_duration_pidns_start", T::kNumber, A::kNone, true,
       "ns from the start of the process's pid namespace (its init) to the executable's ctime, when the ctime is "
       "later; else <NA>.",
       GETTER {
         UNUSED_DS;
         const auto& e = *c.event;
         int64_t ns_start = 0;
         return e.proc.exe_ctime_ns != 0 && BootToEpoch(e, e.proc.pidns_start_ns, &ns_start) &&
                e.proc.exe_ctime_ns > ns_start && Num(o, e.proc.exe_ctime_ns - ns_start);
       }, nullptr, 0});
  add({"proc.pidns_init_start_ts", T::kNumber, A::kNone, true,
       "Start of the process's pid namespace (its init process), ns since the epoch; taken at exec.",
       GETTER {
         UNUSED_DS;
         int64_t t = 0;
         return BootToEpoch(*c.event, c.event->proc.pidns_start_ns, &t) && Num(o, t);
       }, nullptr, 0});
  add({"proc.is_exe_upper_layer", T::kBool, A::kNone, true,
       "The executable is on overlayfs and in its upper layer (written or copied up in the container): false for any "
       "other file; <NA> for an overlayfs file when the kernel's BTF lacks the overlay inode (docs/capture.md) and "
       "for processes that predate vigil.",
       GETTER {
         UNUSED_DS;
         ExeLayer l = c.event->proc.exe_layer;
         return l != ExeLayer::kUnknown && Bool(o, l == ExeLayer::kUpper);
       }, nullptr, 0});
  add({"proc.exec_id", T::kString, A::kNone, true, "vigil: \"pid:start_ns\", stable across pid reuse.",
       GETTER { UNUSED_DS; s.buf = c.event->proc.ExecId(); return Str(o, s.buf); }, nullptr, 0});
  add({"proc.cgroup", T::kString, A::kNone, true, "vigil: cgroup v2 path.",
       GETTER { UNUSED_DS; return !c.event->proc.cgroup.empty() && Str(o, c.event->proc.cgroup); }, nullptr, 0});
  add({"proc.memfd_name", T::kString, A::kNone, true, "vigil: memfd_create name / module name argument.",
       GETTER { UNUSED_DS; return !c.event->args.name.empty() && Str(o, c.event->args.name); }, nullptr, 0});
  add({"proc.pre_exec_name", T::kString, A::kNone, true, "vigil: comm before exec (on execve events).",
       GETTER {
         UNUSED_DS;
         return IsExecEvent(c.event->type) && !c.event->args.name.empty() && Str(o, c.event->args.name);
       }, nullptr, 0});

  add({"thread.tid", T::kNumber, A::kNone, true, "Thread id.",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.tid); }, nullptr, 0});
  add({"thread.cap_effective", T::kString, A::kNone, true, "Effective capabilities, names space-separated.",
       GETTER { UNUSED_DS; s.buf.clear(); RenderCaps(c.event->proc.cap_effective, &s.buf); return Str(o, s.buf); }, nullptr, 0});
  add({"thread.cap_permitted", T::kString, A::kNone, true, "Permitted capabilities, names space-separated.",
       GETTER { UNUSED_DS; s.buf.clear(); RenderCaps(c.event->proc.cap_permitted, &s.buf); return Str(o, s.buf); }, nullptr, 0});

  add({"user.uid", T::kNumber, A::kNone, true, "User id.", GETTER { UNUSED_DS; return Num(o, c.event->proc.uid); }, nullptr, 0});
  add({"user.euid", T::kNumber, A::kNone, true, "vigil: effective user id.",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.euid); }, nullptr, 0});
  add({"user.name", T::kString, A::kNone, true, "User name (from this host's /etc/passwd).",
       GETTER {
         UNUSED_DS;
         const std::string* n = c.host->UserName(c.event->proc.uid);
         return n != nullptr && Str(o, *n);
       }, nullptr, 0});
  add({"user.loginuid", T::kNumber, A::kNone, true, "Audit login uid (-1: unset).",
       GETTER {
         UNUSED_DS;
         uint32_t v = c.event->proc.loginuid;
         return Num(o, v == kNoLoginUid ? -1 : static_cast<int64_t>(v));
       }, nullptr, 0});
  add({"user.loginname", T::kString, A::kNone, true, "Name of the login uid.",
       GETTER {
         UNUSED_DS;
         const std::string* n = c.host->UserName(c.event->proc.loginuid);
         return n != nullptr && Str(o, *n);
       }, nullptr, 0});
  add({"group.gid", T::kNumber, A::kNone, true, "Group id.", GETTER { UNUSED_DS; return Num(o, c.event->proc.gid); }, nullptr, 0});
  add({"group.name", T::kString, A::kNone, true, "Group name (from this host's /etc/group).",
       GETTER {
         UNUSED_DS;
         const std::string* n = c.host->GroupName(c.event->proc.gid);
         return n != nullptr && Str(o, *n);
       }, nullptr, 0});
}

// container.id and the fd.* socket fields.
void AddContainerFdFields(const FieldAdder& add) {
  add({"container.id", T::kString, A::kNone, true, "Container id (12 hex), or \"host\".",
       GETTER {
         UNUSED_DS;
         const auto& id = c.event->proc.container_id;
         return Str(o, id.empty() ? std::string_view("host") : std::string_view(id));
       }, nullptr, 0});

  add({"fd.sockfamily", T::kString, A::kNone, true, "ip or unix.",
       GETTER {
         UNUSED_DS;
         if (!IsNetEvent(c.event->type)) return false;
         uint16_t f = c.event->net.family;
         return (f == 2 || f == 10) ? Str(o, "ip") : f == 1 ? Str(o, "unix") : false;
       }, nullptr, 0});
  add({"fd.connected", T::kBool, A::kNone, true, "Socket connected (connect/accept that succeeded; send/recv on a stream socket with a peer).",
       GETTER {
         UNUSED_DS;
         auto t = c.event->type;
         if (!IsNetEvent(t)) return false;
         bool conn = (t == EventType::connect || t == EventType::accept || t == EventType::accept4) &&
                     c.event->res >= 0;
         // A send or receive on a stream socket that has a peer.
         if (IsDataEvent(t))
           conn = c.event->net.type == 1 && c.event->net.remote_port != 0;
         return Bool(o, conn);
       }, nullptr, 0});
  add({"fd.unix_path", T::kString, A::kNone, true, "vigil: AF_UNIX socket path ('@' = abstract).",
       GETTER { UNUSED_DS; return IsNetEvent(c.event->type) && c.event->net.family == 1 && Str(o, c.event->net.unix_path); },
       nullptr, 0});
}

// fs.path.* and the utimensat-family times.
void AddFsFields(const FieldAdder& add) {
  add({"fs.path.name", T::kString, A::kNone, true, "Absolute path of the file an event acts on.",
       GETTER { UNUSED_DS; return !c.event->file.abspath.empty() && Str(o, c.event->file.abspath); }, nullptr, 0});
  add({"fs.path.nameraw", T::kString, A::kNone, true, "Path as given by the process.",
       GETTER { UNUSED_DS; return !c.event->file.path.empty() && Str(o, c.event->file.path); }, nullptr, 0});
  add({"fs.path.target", T::kString, A::kNone, true, "rename/link/symlink/mount: the second path (absolute when known).",
       GETTER {
         UNUSED_DS;
         const auto& f = c.event->file;
         const std::string& t = f.target_abs.empty() ? f.target : f.target_abs;
         return !t.empty() && Str(o, t);
       }, nullptr, 0});
  add({"fs.path.targetraw", T::kString, A::kNone, true, "The second path as given.",
       GETTER { UNUSED_DS; return !c.event->file.target.empty() && Str(o, c.event->file.target); }, nullptr, 0});
  // The utimensat family. A time set to "now" or left unchanged is <NA> in the
  // numeric fields (a check on it is false) and named in the .iso8601 ones.
  add({"fs.atime", T::kNumber, A::kNone, true,
       "vigil: utimensat/futimesat/utimes/utime: the access time set, ns since the epoch (<NA> when set to now or "
       "left unchanged).",
       GETTER { UNUSED_DS; return c.event->file.atime >= kFileTimeMin && Num(o, c.event->file.atime); },
       nullptr, 0});
  add({"fs.mtime", T::kNumber, A::kNone, true,
       "vigil: utimensat/futimesat/utimes/utime: the modification time set, ns since the epoch (<NA> as fs.atime).",
       GETTER { UNUSED_DS; return c.event->file.mtime >= kFileTimeMin && Num(o, c.event->file.mtime); },
       nullptr, 0});
  add({"fs.atime.iso8601", T::kString, A::kNone, true,
       "vigil: fs.atime as ISO 8601 UTC, or now / omit (left unchanged).",
       GETTER { UNUSED_DS; return FileTimeIso(c.event->file.atime, &s.buf, o); }, nullptr, 0});
  add({"fs.mtime.iso8601", T::kString, A::kNone, true,
       "vigil: fs.mtime as ISO 8601 UTC, or now / omit (left unchanged).",
       GETTER { UNUSED_DS; return FileTimeIso(c.event->file.mtime, &s.buf, o); }, nullptr, 0});
  add({"fs.mtime.age", T::kNumber, A::kNone, true,
       "vigil: seconds between the modification time set and the event (evt.rawtime - fs.mtime; negative: a time in "
       "the future); <NA> as fs.mtime.",
       GETTER {
         UNUSED_DS;
         const int64_t m = c.event->file.mtime;
         if (m < kFileTimeMin) return false;
         // In seconds first: the difference of two ns values can overflow.
         const int64_t m_secs = m / 1000000000 - (m % 1000000000 < 0);  // floor
         return Num(o, static_cast<int64_t>(c.event->wall_ns / 1000000000u) - m_secs);
       }, nullptr, 0});
  add({"fs.atime.age", T::kNumber, A::kNone, true,
       "vigil: seconds between the access time set and the event (evt.rawtime - fs.atime; negative: a time in "
       "the future); <NA> as fs.atime.",
       GETTER {
         UNUSED_DS;
         const int64_t m = c.event->file.atime;
         if (m < kFileTimeMin) return false;
         // In seconds first: the difference of two ns values can overflow.
         const int64_t m_secs = m / 1000000000 - (m % 1000000000 < 0);  // floor
         return Num(o, static_cast<int64_t>(c.event->wall_ns / 1000000000u) - m_secs);
       }, nullptr, 0});
}

// ns.* (namespace inodes, host namespaces, depth) and proc.is_vigil_self.
void AddNsFields(const FieldAdder& add) {
  static constexpr const char* kNsNames[] = {"ns.pid", "ns.mnt", "ns.net", "ns.user", "ns.uts", "ns.ipc", "ns.cgroup"};
  for (int i = 0; i < 7; ++i) {
    add({kNsNames[i], T::kNumber, A::kNone, true, "vigil: namespace inode (0 unknown).",
         GETTER {
           (void)s;
           const Namespaces& n = c.event->proc.ns;
           const uint64_t vals[] = {n.pid, n.mnt, n.net, n.user, n.uts, n.ipc, n.cgroup};
           return Num(o, static_cast<int64_t>(vals[d.param]));
         }, nullptr, i});
  }
  // vigil: is the process in the host's namespace (PID 1's)? False when either side is unknown.
  struct HostNs {
    const char* name;
    const char* desc;
  };
  static constexpr HostNs kHostNs[] = {
      {"proc.is_host_mnt_ns", "vigil: the process is in the host's (PID 1's) mount namespace."},
      {"proc.is_host_pid_ns", "vigil: the process is in the host's (PID 1's) pid namespace."},
      {"proc.is_host_net_ns", "vigil: the process is in the host's (PID 1's) network namespace."},
  };
  for (int i = 0; i < 3; ++i) {
    add({kHostNs[i].name, T::kBool, A::kNone, true, kHostNs[i].desc,
         GETTER {
           (void)s;
           const Namespaces& n = c.event->proc.ns;
           const Namespaces& h = c.host->host_ns;
           const uint64_t mine[] = {n.mnt, n.pid, n.net};
           const uint64_t host[] = {h.mnt, h.pid, h.net};
           return Bool(o, mine[d.param] != 0 && mine[d.param] == host[d.param]);
         }, nullptr, i});
  }
  add({"proc.is_vigil_self", T::kBool, A::kNone, true,
       "vigil: the process is the vigil agent evaluating this event (its pid is the agent's own); false in replay.",
       GETTER {
         UNUSED_DS;
         return Bool(o, c.host->sensor_pid != 0 && c.event->proc.pid == c.host->sensor_pid);
       }, nullptr, 0});
  add({"ns.pid_level", T::kNumber, A::kNone, true, "vigil: depth of the process's pid namespace (0 host).",
       GETTER { UNUSED_DS; return Num(o, c.event->proc.pidns_level); }, nullptr, 0});
}

// bpf(2) detail.
void AddBpfFields(const FieldAdder& add) {
  // bpf(2) detail.
  struct BpfNum {
    const char* name;
    const char* desc;
  };
  static constexpr BpfNum kBpfNums[] = {
      {"bpf.cmd", "bpf(2) command number (5 = BPF_PROG_LOAD)."},
      {"bpf.prog.type", "Program type number (BPF_PROG_TYPE_*)."},
      {"bpf.prog.expected_attach_type", "Expected attach type number."},
      {"bpf.attach_type", "Attach type (PROG_ATTACH / LINK_CREATE)."},
      {"bpf.prog.insn_cnt", "Instruction count."},
      {"bpf.prog.flags", "Program flags."},
      {"bpf.prog.attach_btf_id", "BTF id of the attach target."},
      {"bpf.map.type", "Map type number (BPF_MAP_TYPE_*)."},
      {"bpf.id", "Program/map/link id argument or result."},
      {"bpf.target_fd", "Attach target fd."},
  };
  for (int i = 0; i < static_cast<int>(std::size(kBpfNums)); ++i) {
    add({kBpfNums[i].name, T::kNumber, A::kNone, true, kBpfNums[i].desc,
         GETTER {
           (void)s;
           if (c.event->type != EventType::bpf) return false;
           const BpfArgs& b = c.event->bpf;
           const int64_t vals[] = {b.cmd, b.prog_type, b.expected_attach_type, b.attach_type, b.insn_cnt,
                                   b.prog_flags, b.attach_btf_id, b.map_type, b.id, b.target_fd};
           return Num(o, vals[d.param]);
         }, nullptr, i});
  }
  add({"bpf.prog.name", T::kString, A::kNone, true, "Program name.",
       GETTER { UNUSED_DS; return c.event->type == EventType::bpf && Str(o, c.event->bpf.prog_name); }, nullptr, 0});
  add({"bpf.prog.license", T::kString, A::kNone, true, "Program license string.",
       GETTER { UNUSED_DS; return c.event->type == EventType::bpf && Str(o, c.event->bpf.license); }, nullptr, 0});
  add({"bpf.map.name", T::kString, A::kNone, true, "Map name.",
       GETTER { UNUSED_DS; return c.event->type == EventType::bpf && Str(o, c.event->bpf.map_name); }, nullptr, 0});
  add({"bpf.target", T::kString, A::kNone, true, "Raw tracepoint name, pin path or attach symbol.",
       GETTER { UNUSED_DS; return c.event->type == EventType::bpf && Str(o, c.event->bpf.target); }, nullptr, 0});
  add({"bpf.prog.helpers", T::kStringList, A::kNone, true,
       "Helper ids the program calls (decimal); e.g. `bpf.prog.helpers intersects (36, 58)`.",
       GETTER {
         (void)d;
         if (c.event->type != EventType::bpf) return false;
         // Decimal ids 0..255 are stable strings: point into a static table.
         static const std::vector<std::string> kIds = [] {
           std::vector<std::string> ids;
           for (int i = 0; i < 256; ++i) ids.push_back(std::to_string(i));
           return ids;
         }();
         s.list.clear();
         for (uint32_t id = 0; id < 256; ++id)
           if (c.event->bpf.HasHelper(id)) s.list.push_back(kIds[id]);
         o->list = &s.list;
         return true;
       }, nullptr, 0});
  add({"bpf.prog.helpers_complete", T::kBool, A::kNone, true, "All instructions were scanned for helper calls.",
       GETTER { UNUSED_DS; return c.event->type == EventType::bpf && Bool(o, c.event->bpf.helpers_complete); }, nullptr, 0});
}

}  // namespace

void AppendMoreFields(std::vector<FieldDef>* v) {
  const FieldAdder add{v};
  AddEvtFields(add);
  AddProcUserFields(add);
  AddContainerFdFields(add);
  AddFsFields(add);
  AddNsFields(add);
  AddBpfFields(add);
  for (const auto& [name, desc] : kUnavailable)
    v->push_back({name, T::kString, A::kAny, false, desc, NotAvailableGetter(), nullptr, 0});
}

FieldType EffectiveType(const FieldDef& def, const FieldArg& arg) {
  if (def.type == FieldType::kStringList && def.arg_kind == ArgKind::kOptionalIndex && arg.present)
    return def.param == 5 /* kPid */ ? FieldType::kNumber : FieldType::kString;
  return def.type;
}

}  // namespace vigil
