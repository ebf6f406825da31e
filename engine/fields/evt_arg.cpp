// SPDX-License-Identifier: Apache-2.0
// evt.arg.<name> and evt.rawarg.*: Falco's syscall argument names mapped onto
// the blocks vigil's events carry (file, net, bpf, args). Names Falco has and
// vigil does not capture resolve, by prefix, to the unavailable evt.arg.* row.
#include <cstdio>

#include "engine/fields/family.h"

namespace vigil {
namespace {

using T = FieldType;
using A = ArgKind;

enum EvtArgId : uint16_t {
  kFlags, kPath, kName, kSize, kTuple, kFilename, kOldpath, kNewpath, kTarget, kLinkpath, kDev, kDir, kType,
  kUid, kGid, kMode, kRawMode, kRequest, kCmd, kFd, kRes, kResOrFd, kDomain, kPid, kOther, kRawOther,
};

std::string_view PtraceRequestName(int64_t r) {
  switch (r) {
    case 0: return "PTRACE_TRACEME"; case 1: return "PTRACE_PEEKTEXT"; case 2: return "PTRACE_PEEKDATA";
    case 3: return "PTRACE_PEEKUSR"; case 4: return "PTRACE_POKETEXT"; case 5: return "PTRACE_POKEDATA";
    case 6: return "PTRACE_POKEUSR"; case 7: return "PTRACE_CONT"; case 8: return "PTRACE_KILL";
    case 9: return "PTRACE_SINGLESTEP"; case 12: return "PTRACE_GETREGS"; case 13: return "PTRACE_SETREGS";
    case 16: return "PTRACE_ATTACH"; case 17: return "PTRACE_DETACH"; case 24: return "PTRACE_SYSCALL";
    case 0x4206: return "PTRACE_SEIZE"; case 0x4207: return "PTRACE_INTERRUPT";
    default: return {};
  }
}

std::string_view BpfCmdName(int32_t cmd) {
  static constexpr const char* kNames[] = {
      "BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
      "BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET", "BPF_PROG_ATTACH",
      "BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID",
      "BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID", "BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY",
      "BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY",
      "BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
      "BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH", "BPF_LINK_CREATE",
      "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID", "BPF_ENABLE_STATS",
      "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP"};
  if (cmd < 0 || static_cast<std::size_t>(cmd) >= std::size(kNames)) return {};
  return kNames[cmd];
}

std::string_view FamilyName(uint16_t f) {
  switch (f) {
    case 1: return "AF_UNIX"; case 2: return "AF_INET"; case 10: return "AF_INET6";
    case 16: return "AF_NETLINK"; case 17: return "AF_PACKET"; default: return {};
  }
}

// A value's name when it has one, else its number.
bool NameOrNum(std::string_view name, int64_t n, Scratch& s, FieldValueRef* o) {
  if (!name.empty()) return Str(o, name);
  AppendNum(&s.buf, n);
  return Str(o, s.buf);
}

bool NumText(int64_t n, Scratch& s, FieldValueRef* o) {
  AppendNum(&s.buf, n);
  return Str(o, s.buf);
}

bool EvtArgFlags(const Event& e, bool file, Scratch& s, FieldValueRef* o) {
  if (IsOpenEvent(e.type)) {
    RenderOpenFlags(e.file.flags, &s.buf);
    return Str(o, s.buf);
  }
  return NumText(file ? static_cast<int64_t>(e.file.flags) : static_cast<int64_t>(e.args.flags), s, o);
}

// name, path, oldpath, filename, target: the path of a file event, the exe
// of an exec, the name of a memfd or module (name only).
bool EvtArgPath(uint16_t id, const Event& e, bool file, FieldValueRef* o) {
  if (id == kName && IsXattrEvent(e.type)) return !e.file.xattr_name.empty() && Str(o, e.file.xattr_name);
  if (IsExecEvent(e.type) && (id == kFilename || id == kPath)) return Str(o, e.proc.exepath);
  if (e.type == EventType::memfd_create || e.type == EventType::init_module || e.type == EventType::finit_module)
    return id == kName && Str(o, e.args.name);
  if (!file || e.file.path.empty()) return false;
  return Str(o, e.file.path);
}

bool EvtArgType(const Event& e, Scratch& s, FieldValueRef* o) {
  if (e.type == EventType::mount) return Str(o, e.file.fstype);
  return IsNetEvent(e.type) && NumText(e.net.type, s, o);
}

// uid, gid: the user or group name when the host knows it, else the number.
bool EvtArgId(uint16_t id, const FieldContext& c, bool file, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  uint32_t v;
  if (file) v = id == kUid ? e.file.owner_uid : e.file.owner_gid;
  else v = e.args.ids[0];
  if (v == 0xffffffffu) return false;
  const std::string* name = id == kUid ? c.host->UserName(v) : c.host->GroupName(v);
  if (name != nullptr) return Str(o, *name);
  return NumText(v, s, o);
}

bool EvtArgMode(const Event& e, bool file, Scratch& s, FieldValueRef* o) {
  if (!file) return false;
  if (e.type == EventType::chmod || e.type == EventType::fchmod || e.type == EventType::fchmodat) {
    RenderChmodMode(e.file.mode, &s.buf);
    return Str(o, s.buf);
  }
  char b[16];
  int n = std::snprintf(b, sizeof b, "0%o", e.file.mode);
  s.buf.assign(b, static_cast<std::size_t>(n));
  return Str(o, s.buf);
}

bool EvtArgFd(const Event& e, bool file, Scratch& s, FieldValueRef* o) {
  if (file) return NumText(e.file.fd, s, o);
  if (IsNetEvent(e.type)) return NumText(e.net.fd, s, o);
  return e.args.fd >= 0 && NumText(e.args.fd, s, o);
}

bool EvtArgSize(const Event& e, Scratch& s, FieldValueRef* o) {
  if (IsDataEvent(e.type)) return NumText(static_cast<int64_t>(e.net.size), s, o);
  // A removal has no value.
  if (IsXattrEvent(e.type) && e.type != EventType::removexattr && e.type != EventType::lremovexattr &&
      e.type != EventType::fremovexattr)
    return NumText(static_cast<int64_t>(e.file.length), s, o);
  return false;
}

bool GetEvtArg(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  const bool file = IsFileEvent(e.type);
  s.buf.clear();
  switch (d.id) {
    case kFlags: return EvtArgFlags(e, file, s, o);
    case kName:
    case kPath:
    case kOldpath:
    case kFilename:
    case kTarget: return EvtArgPath(d.id, e, file, o);
    case kNewpath:
    case kLinkpath:
    case kDir: return file && !e.file.target.empty() && Str(o, e.file.target);
    case kDev: return file && Str(o, e.file.source);
    case kType: return EvtArgType(e, s, o);
    case kUid:
    case kGid: return EvtArgId(d.id, c, file, s, o);
    case kMode: return EvtArgMode(e, file, s, o);
    case kRequest:
      return e.type == EventType::ptrace && NameOrNum(PtraceRequestName(e.args.request), e.args.request, s, o);
    case kCmd: return e.type == EventType::bpf && NameOrNum(BpfCmdName(e.bpf.cmd), e.bpf.cmd, s, o);
    case kFd: return EvtArgFd(e, file, s, o);
    case kRes:
    case kResOrFd: return NumText(e.res, s, o);
    case kDomain: return IsNetEvent(e.type) && NameOrNum(FamilyName(e.net.family), e.net.family, s, o);
    case kSize: return EvtArgSize(e, s, o);
    case kTuple: return SocketName(e, s, o);
    case kPid: return e.args.target_pid != 0 && NumText(e.args.target_pid, s, o);
  }
  return false;
}

// Open flags by name (O_WRONLY|O_CREAT, as evt.arg.flags renders them) or as a number.
std::string SetOpenFlags(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  uint32_t flags = 0;
  if (ParseOpenFlags(t, &flags)) {
    e.file.flags = flags;
    return "";
  }
  return SetNumber(t, [&](int64_t v) { e.file.flags = static_cast<uint32_t>(v); });
}

// evt.arg.name in a test event: the setxattr family's attribute name, the
// path of file events (the getter picks by evt.type, which a test may set
// after this field).
std::string SetEvtArgName(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.file.path.assign(t);
  e.file.xattr_name.assign(t);
  return "";
}

std::string SetArgSize(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  return SetNumber(t, [&](int64_t v) {
    e.net.size = static_cast<uint64_t>(v);
    e.file.length = static_cast<uint64_t>(v);
  });
}

// A test gives evt.arg.mode in octal ("04755"), whatever form it renders in.
std::string SetArgMode(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  uint32_t mode = 0;
  if (t.empty() || t.size() > 7) return "expected an octal mode such as 04755, got '" + std::string(t) + "'";
  for (char ch : t) {
    if (ch < '0' || ch > '7') return "expected an octal mode such as 04755, got '" + std::string(t) + "'";
    mode = mode * 8 + static_cast<uint32_t>(ch - '0');
  }
  e.file.mode = mode;
  return "";
}

// A row of an evt.arg.* field that GetEvtArg reads: a string, no argument.
// `set` fills the field in rule tests (nullptr: tests cannot set it).
constexpr FieldDef ArgRow(uint16_t id, const char* name, const char* description, FieldSetter set = nullptr) {
  return {id, name, T::kString, A::kNone, true, description, GetEvtArg, set};
}

constexpr FieldDef kEvtArgRows[] = {
    ArgRow(kFlags, "evt.arg.flags",
           "Flags: open flags as names (O_WRONLY|O_CREAT|...; O_F_CREATED when the open created the file), else "
           "the number (clone/unshare/mount flags).",
           SetOpenFlags),
    ArgRow(kPath, "evt.arg.path", "Path argument as given (file events); exe path for exec.", SetFilePath),
    ArgRow(kName, "evt.arg.name",
           "Name argument: the path of open family events, memfd or module name, the attribute of the setxattr "
           "and removexattr family (security.capability, ...).",
           SetEvtArgName),
    ArgRow(kSize, "evt.arg.size", "sendto/recvfrom: the length argument; setxattr family: the value's size.",
           SetArgSize),
    ArgRow(kTuple, "evt.arg.tuple", "Socket events: the socket's endpoints (as fd.name)."),
    ArgRow(kFilename, "evt.arg.filename", "File name argument (chmod family; exe path for exec).", SetFilePath),
    ArgRow(kOldpath, "evt.arg.oldpath", "rename/link: the source path.", SetFilePath),
    ArgRow(kNewpath, "evt.arg.newpath", "rename/link: the new path.", SetFileTarget),
    ArgRow(kTarget, "evt.arg.target", "symlink: what the link points to.", SetFilePath),
    ArgRow(kLinkpath, "evt.arg.linkpath", "symlink: the link created.", SetFileTarget),
    ArgRow(kDev, "evt.arg.dev", "mount: the device or source.",
           VIGIL_SETTER { return e.file.source = std::string(t), ""; }),
    ArgRow(kDir, "evt.arg.dir", "mount/umount: the mount point.", SetFileTarget),
    ArgRow(kType, "evt.arg.type", "mount: file-system type; socket: socket type.",
           VIGIL_SETTER { return e.file.fstype = std::string(t), ""; }),
    ArgRow(kUid, "evt.arg.uid", "setuid family: the uid (user name when known); chown: owner."),
    ArgRow(kGid, "evt.arg.gid", "setgid family: the gid (group name when known); chown: group."),
    ArgRow(kMode, "evt.arg.mode",
           "Mode argument: chmod family as names (S_IXUSR|S_IRUSR|S_ISUID, as Falco); open/creat/mkdir in octal.",
           SetArgMode),
    {kRawMode, "evt.rawarg.mode", T::kNumber, A::kNone, true, "Mode argument as a number (file events).",
     VIGIL_GETTER { return IsFileEvent(c.event->type) && Num(o, c.event->file.mode); }, nullptr},
    ArgRow(kRequest, "evt.arg.request", "ptrace request name (PTRACE_ATTACH, ...).",
           VIGIL_SETTER { return SetNumber(t, [&](int64_t v) { e.args.request = v; }); }),
    ArgRow(kCmd, "evt.arg.cmd", "bpf command name (BPF_PROG_LOAD, ...).",
           VIGIL_SETTER { return SetNumber(t, [&](int64_t v) { e.bpf.cmd = static_cast<int32_t>(v); }); }),
    ArgRow(kFd, "evt.arg.fd", "File descriptor argument.", SetFdNum),
    ArgRow(kRes, "evt.arg.res", "Result as a number string.", SetRawRes),
    ArgRow(kResOrFd, "evt.arg.res_or_fd", "Result (the new fd on success).", SetRawRes),
    ArgRow(kDomain, "evt.arg.domain", "socket: address family (AF_INET, AF_UNIX, ...)."),
    ArgRow(kPid, "evt.arg.pid", "Target pid (ptrace, process_vm_readv/writev, pidfd_getfd's pidfd, clone child)."),
    {kOther, "evt.arg.*", T::kString, A::kNone, false,
     "Other syscall arguments Falco names: not captured by vigil (<NA>).", NotAvailable, nullptr},
    {kRawOther, "evt.rawarg.*", T::kNumber, A::kNone, false, "Raw syscall arguments: not captured by vigil (<NA>).",
     NotAvailable, nullptr},
};
static_assert(IdsInOrder(kEvtArgRows, kFlags));

}  // namespace

std::span<const FieldDef> EvtArgFields() { return kEvtArgRows; }

}  // namespace vigil
