// SPDX-License-Identifier: Apache-2.0
// The field table and its getters/setters. Getters are captureless lambdas
// (plain function pointers) so a compiled check calls them directly.
#include <charconv>
#include <cstdio>
#include <cstring>

#include "engine/event_members.h"
#include "engine/fields/field_table.h"
#include "engine/iso_time.h"

namespace vigil {
namespace {

using T = FieldType;
using A = ArgKind;

// The server side of a socket is the remote end for connect, the local end
// for accept, bind, listen. A send or receive does not say which end its
// socket was: the end with the lower port is taken as the server (a client's
// port is an ephemeral one, 32768+ on Linux), as for Falco's fd.sport on a
// socket whose connect or accept it did not see.
bool ServerIsRemote(const Event& e) {
  if (IsDataEvent(e.type)) return e.net.remote_port != 0 && e.net.remote_port < e.net.local_port;
  return e.type == EventType::connect;
}

bool IsIp(const NetArgs& n) { return n.family == 2 || n.family == 10; }

const ProcessInfo* Ancestor(const FieldContext& c, int level) {
  if (level == 0) return &c.event->proc;
  return c.event->ancestors ? c.event->ancestors->Ancestor(level) : nullptr;
}

bool Str(FieldValueRef* o, std::string_view s) {
  o->str = s;
  return true;
}
bool Num(FieldValueRef* o, int64_t n) {
  o->num = n;
  return true;
}
bool Bool(FieldValueRef* o, bool b) {
  o->boolean = b;
  return true;
}
bool Ip(FieldValueRef* o, const IpAddr& a, uint16_t family) {
  o->ip = a;
  o->family = family;
  return true;
}

void AppendNum(std::string* s, int64_t v) {
  char b[32];
  auto r = std::to_chars(b, b + sizeof b, v);
  s->append(b, r.ptr);
}

void AppendIp(std::string* s, const IpAddr& a, uint16_t family) {
  FieldValueRef v;
  v.ip = a;
  v.family = family;
  RenderFieldValue(FieldType::kIpAddr, v, s);
}

// Process attributes, shared by proc.X (level 0), proc.pX (level 1) and proc.aX[N].
enum ProcAttr { kName, kExepath, kExe, kCmdline, kArgs, kPid, kArgv };

bool GetProcAttr(const ProcessInfo& p, int attr, Scratch& s, FieldValueRef* o) {
  switch (attr) {
    case kName: return Str(o, p.name);
    case kExepath: return Str(o, p.exepath);
    case kExe: return Str(o, p.argv.empty() ? std::string_view(p.exepath) : std::string_view(p.argv[0]));
    case kCmdline:
    case kArgs: {
      s.buf.clear();
      if (attr == kCmdline) s.buf = p.name;
      for (std::size_t i = 1; i < p.argv.size(); ++i) {
        if (!s.buf.empty()) s.buf.push_back(' ');
        s.buf += p.argv[i];
      }
      return Str(o, s.buf);
    }
    case kPid: return Num(o, p.pid);
    case kArgv: {
      if (p.argv.empty()) return Str(o, p.exepath);
      s.buf.clear();
      for (const auto& a : p.argv) {
        if (!s.buf.empty()) s.buf.push_back(' ');
        s.buf += a;
      }
      return Str(o, s.buf);
    }
  }
  return false;
}

// proc.X (param = attr) and proc.pX (param = attr + 16).
bool GetProcLevel(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const ProcessInfo* p = Ancestor(c, d.param / 16);
  return p != nullptr && GetProcAttr(*p, d.param % 16, s, o);
}

// proc.argv[N]: one argument; without an index, every argument joined (GetProcAttr kArgv).
bool GetProcArgv(const FieldDef&, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  const ProcessInfo& p = c.event->proc;
  if (!a.present) return GetProcAttr(p, kArgv, s, o);
  if (a.index < 0 || static_cast<std::size_t>(a.index) >= p.argv.size()) return false;
  return Str(o, p.argv[static_cast<std::size_t>(a.index)]);
}

// proc.aX[N]; without an index, the list over every ancestor (for proc.aname, proc.apid...).
bool GetProcAncestor(const FieldDef& d, const FieldContext& c, const FieldArg& a, Scratch& s, FieldValueRef* o) {
  if (a.present) {
    const ProcessInfo* p = Ancestor(c, a.index);
    return p != nullptr && GetProcAttr(*p, d.param, s, o);
  }
  s.list.clear();
  s.owned.resize(64);
  for (int level = 1; level <= 64; ++level) {
    const ProcessInfo* p = Ancestor(c, level);
    if (p == nullptr) break;
    // One scratch per thread, reused: a fresh one per level allocated for every
    // ancestor whose value passes 15 bytes (proc.acmdline), on every event.
    static thread_local Scratch inner;
    FieldValueRef v;
    if (d.param == kPid) {
      s.owned[static_cast<std::size_t>(level - 1)].clear();
      AppendNum(&s.owned[static_cast<std::size_t>(level - 1)], p->pid);
      s.list.push_back(s.owned[static_cast<std::size_t>(level - 1)]);
    } else if (d.param == kName) {
      s.list.push_back(p->name);
    } else if (d.param == kExepath) {
      s.list.push_back(p->exepath);
    } else {
      GetProcAttr(*p, d.param, inner, &v);
      s.owned[static_cast<std::size_t>(level - 1)].assign(v.str);
      s.list.push_back(s.owned[static_cast<std::size_t>(level - 1)]);
    }
  }
  if (s.list.empty()) return false;
  o->list = &s.list;
  return true;
}

}  // namespace

bool ComparesEachAncestor(const FieldDef& def, const FieldArg& arg) {
  return def.get == GetProcAncestor && !arg.present;
}

namespace {

bool NotAvailable(const FieldDef&, const FieldContext&, const FieldArg&, Scratch&, FieldValueRef*) { return false; }

std::string_view FilePath(const Event& e) {
  return e.file.abspath.empty() ? std::string_view(e.file.path) : std::string_view(e.file.abspath);
}

// fd.name: the file path for file events, "lip:lport->rip:rport" for sockets.
bool GetFdName(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  if (IsFileEvent(e.type)) return !FilePath(e).empty() && Str(o, FilePath(e));
  if (!IsNetEvent(e.type)) return false;
  if (e.net.family == 1) return Str(o, e.net.unix_path);
  if (!IsIp(e.net)) return false;
  s.buf.clear();
  AppendIp(&s.buf, e.net.local_addr, e.net.family);
  s.buf.push_back(':');
  AppendNum(&s.buf, e.net.local_port);
  s.buf += "->";
  AppendIp(&s.buf, e.net.remote_addr, e.net.family);
  s.buf.push_back(':');
  AppendNum(&s.buf, e.net.remote_port);
  return Str(o, s.buf);
}

// fd.name.resolved (vigil): the kernel's path of the file where the capture
// has it, else fd.name's file path.
bool GetFdNameResolved(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  if (!IsFileEvent(e.type)) return false;
  if (!e.file.resolved.empty()) return Str(o, e.file.resolved);
  return !FilePath(e).empty() && Str(o, FilePath(e));
}

bool GetFdDirFile(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  if (!IsFileEvent(e.type)) return false;
  std::string_view p = FilePath(e);
  if (p.empty()) return false;
  // glibc's memrchr (vectorised) instead of rfind's byte loop: read for every open.
  const void* last = memrchr(p.data(), '/', p.size());
  const std::size_t slash = last == nullptr ? std::string_view::npos
                                            : static_cast<std::size_t>(static_cast<const char*>(last) - p.data());
  if (d.param == 0) {  // directory
    if (slash == std::string_view::npos) return false;
    return Str(o, slash == 0 ? p.substr(0, 1) : p.substr(0, slash));
  }
  return Str(o, slash == std::string_view::npos ? p : p.substr(slash + 1));
}

bool GetFdType(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  bool typechar = d.param == 1;
  if (IsFileEvent(e.type)) {
    bool dir = (IsOpenEvent(e.type) && (e.file.flags & 0200000)) || e.type == EventType::mkdir ||
               e.type == EventType::mkdirat || e.type == EventType::rmdir;
    return Str(o, dir ? (typechar ? "d" : "directory") : (typechar ? "f" : "file"));
  }
  if (!IsNetEvent(e.type)) return false;
  switch (e.net.family) {
    case 2: return Str(o, typechar ? "4" : "ipv4");
    case 10: return Str(o, typechar ? "6" : "ipv6");
    case 1: return Str(o, typechar ? "u" : "unix");
    case 16: return Str(o, typechar ? "n" : "netlink");
    default: return false;
  }
}

bool GetL4Proto(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const NetArgs& n = c.event->net;
  if (!IsNetEvent(c.event->type) || !IsIp(n)) return false;
  if (n.protocol == 6 || (n.protocol == 0 && n.type == 1)) return Str(o, "tcp");
  if (n.protocol == 17 || (n.protocol == 0 && n.type == 2)) return Str(o, "udp");
  if (n.protocol == 1 || n.protocol == 58) return Str(o, "icmp");
  if (n.type == 3) return Str(o, "raw");
  return false;
}

// param: 0 local, 1 remote, 2 server, 3 client, 4 either (both values).
bool PickSide(const Event& e, int param, bool* remote) {
  if (!IsNetEvent(e.type) || !IsIp(e.net)) return false;
  switch (param) {
    case 0: *remote = false; return true;
    case 1: *remote = true; return true;
    case 2: *remote = ServerIsRemote(e); return true;
    case 3: *remote = !ServerIsRemote(e); return true;
    default: *remote = true; return true;
  }
}

// A socket with no peer yet (bound, listening: no remote address, port 0) is
// libsinsp's server socket (SCAP_FD_IPV4_SERVSOCK/IPV6_SERVSOCK): it has one
// end, the local one, so fd.ip, fd.net and fd.port read only that end (the
// all-zero remote end would make `fd.ip != "0.0.0.0"` false on a listen,
// which silenced Falco's inbound macro, issue 18).
bool NoPeer(const Event& e) { return e.net.remote_port == 0 && e.net.remote_addr.bytes == IpAddr{}.bytes; }

bool GetFdIp(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  bool remote = false;
  if (!PickSide(e, d.param, &remote)) return false;
  if (d.param == 4 && NoPeer(e)) return Ip(o, e.net.local_addr, e.net.family);
  Ip(o, remote ? e.net.remote_addr : e.net.local_addr, e.net.family);
  if (d.param == 4) {  // fd.ip / fd.net: either end
    o->has_second = true;
    o->ip2 = e.net.local_addr;
  }
  return true;
}

bool GetFdPort(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  bool remote = false;
  if (!PickSide(e, d.param, &remote)) return false;
  if (d.param == 4 && NoPeer(e)) return Num(o, e.net.local_port);
  if (d.param == 4) {
    o->has_second = true;
    o->num2 = e.net.local_port;
  }
  return Num(o, remote ? e.net.remote_port : e.net.local_port);
}

bool GetFdNum(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  if (IsFileEvent(e.type)) return Num(o, e.file.fd);
  if (IsNetEvent(e.type)) return Num(o, e.net.fd);
  if (IsDupEvent(e.type)) return Num(o, e.args.newfd);
  return false;
}

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

// evt.arg.<name>: Falco's syscall argument names mapped onto vigil's blocks.
enum ArgName { kArgFlags, kArgPath, kArgName, kArgOldpath, kArgNewpath, kArgUid, kArgGid, kArgMode, kArgRequest,
               kArgCmd, kArgTarget, kArgFilename, kArgFd, kArgRes, kArgLinkpath, kArgDomain, kArgPid,
               kArgDev, kArgDir, kArgType, kArgSize, kArgTuple };

// A value's name when it has one, else its number.
bool NameOrNum(std::string_view name, int64_t n, Scratch& s, FieldValueRef* o) {
  if (!name.empty()) return Str(o, name);
  AppendNum(&s.buf, n);
  return Str(o, s.buf);
}

bool EvtArgFlags(const Event& e, bool file, Scratch& s, FieldValueRef* o) {
  if (IsOpenEvent(e.type)) {
    RenderOpenFlags(e.file.flags, &s.buf);
    return Str(o, s.buf);
  }
  if (file) AppendNum(&s.buf, e.file.flags);
  else AppendNum(&s.buf, static_cast<int64_t>(e.args.flags));
  return Str(o, s.buf);
}

// name, path, oldpath, filename, target: the path of a file event, the exe
// of an exec, the name of a memfd or module (name only).
bool EvtArgPath(int param, const Event& e, bool file, FieldValueRef* o) {
  if (param == kArgName && IsXattrEvent(e.type)) return !e.file.xattr_name.empty() && Str(o, e.file.xattr_name);
  if (IsExecEvent(e.type) && (param == kArgFilename || param == kArgPath)) return Str(o, e.proc.exepath);
  if (e.type == EventType::memfd_create || e.type == EventType::init_module || e.type == EventType::finit_module)
    return param == kArgName && Str(o, e.args.name);
  if (!file || e.file.path.empty()) return false;
  return Str(o, e.file.path);
}

bool EvtArgType(const Event& e, Scratch& s, FieldValueRef* o) {
  if (e.type == EventType::mount) return Str(o, e.file.fstype);
  if (!IsNetEvent(e.type)) return false;
  AppendNum(&s.buf, e.net.type);
  return Str(o, s.buf);
}

// uid, gid: the user or group name when the host knows it, else the number.
bool EvtArgId(int param, const FieldContext& c, bool file, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  uint32_t id;
  if (file) id = param == kArgUid ? e.file.owner_uid : e.file.owner_gid;
  else id = e.args.ids[0];
  if (id == 0xffffffffu) return false;
  const std::string* name = param == kArgUid ? c.host->UserName(id) : c.host->GroupName(id);
  if (name != nullptr) return Str(o, *name);
  AppendNum(&s.buf, id);
  return Str(o, s.buf);
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
  if (file) AppendNum(&s.buf, e.file.fd);
  else if (IsNetEvent(e.type)) AppendNum(&s.buf, e.net.fd);
  else if (e.args.fd >= 0) AppendNum(&s.buf, e.args.fd);
  else return false;
  return Str(o, s.buf);
}

bool EvtArgSize(const Event& e, Scratch& s, FieldValueRef* o) {
  if (IsDataEvent(e.type)) AppendNum(&s.buf, static_cast<int64_t>(e.net.size));
  else if (IsXattrEvent(e.type) && e.type != EventType::removexattr && e.type != EventType::lremovexattr &&
           e.type != EventType::fremovexattr)
    AppendNum(&s.buf, static_cast<int64_t>(e.file.length));  // a removal has no value
  else return false;
  return Str(o, s.buf);
}

bool GetEvtArg(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  const bool file = IsFileEvent(e.type);
  s.buf.clear();
  switch (d.param) {
    case kArgFlags: return EvtArgFlags(e, file, s, o);
    case kArgName:
    case kArgPath:
    case kArgOldpath:
    case kArgFilename:
    case kArgTarget: return EvtArgPath(d.param, e, file, o);
    case kArgNewpath:
    case kArgLinkpath:
    case kArgDir: return file && !e.file.target.empty() && Str(o, e.file.target);
    case kArgDev: return file && Str(o, e.file.source);
    case kArgType: return EvtArgType(e, s, o);
    case kArgUid:
    case kArgGid: return EvtArgId(d.param, c, file, s, o);
    case kArgMode: return EvtArgMode(e, file, s, o);
    case kArgRequest:
      return e.type == EventType::ptrace && NameOrNum(PtraceRequestName(e.args.request), e.args.request, s, o);
    case kArgCmd: return e.type == EventType::bpf && NameOrNum(BpfCmdName(e.bpf.cmd), e.bpf.cmd, s, o);
    case kArgFd: return EvtArgFd(e, file, s, o);
    case kArgRes:
      AppendNum(&s.buf, e.res);
      return Str(o, s.buf);
    case kArgDomain: return IsNetEvent(e.type) && NameOrNum(FamilyName(e.net.family), e.net.family, s, o);
    case kArgSize: return EvtArgSize(e, s, o);
    case kArgTuple: return IsNetEvent(e.type) && GetFdName(d, c, FieldArg{}, s, o);
    case kArgPid:
      if (e.args.target_pid == 0) return false;
      AppendNum(&s.buf, e.args.target_pid);
      return Str(o, s.buf);
  }
  return false;
}

// evt.args: the arguments as one "name=value ..." string, for outputs.
bool GetEvtArgs(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  s.buf.clear();
  s.buf += "res=";
  AppendNum(&s.buf, e.res);
  if (IsFileEvent(e.type)) {
    s.buf.append(" path=").append(e.file.path);
    if (!e.file.target.empty()) s.buf.append(" target=").append(e.file.target);
    if (IsXattrEvent(e.type)) {
      s.buf.append(" name=").append(e.file.xattr_name).append(" size=");
      AppendNum(&s.buf, static_cast<int64_t>(e.file.length));
    }
    if (IsOpenEvent(e.type)) {
      s.buf += " flags=";
      RenderOpenFlags(e.file.flags, &s.buf);
    }
    if (IsFileTimesEvent(e.type)) {
      if (e.file.atime != kFileTimeUnset) {
        s.buf += " atime=";
        RenderFileTime(e.file.atime, &s.buf);
      }
      if (e.file.mtime != kFileTimeUnset) {
        s.buf += " mtime=";
        RenderFileTime(e.file.mtime, &s.buf);
      }
    }
  } else if (IsNetEvent(e.type)) {
    FieldValueRef v;
    static thread_local Scratch inner;  // reused: no allocation per event once warm
    if (GetFdName(FieldDef{}, c, FieldArg{}, inner, &v)) {
      s.buf += " tuple=";
      s.buf.append(v.str);
    }
    if (IsDataEvent(e.type)) {
      s.buf += " size=";
      AppendNum(&s.buf, static_cast<int64_t>(e.net.size));
    }
  } else if (IsExecEvent(e.type)) {
    s.buf.append(" filename=").append(e.proc.exepath);
  } else if (!e.args.name.empty()) {
    s.buf.append(" name=").append(e.args.name);
  }
  return Str(o, s.buf);
}

// ---- setters (rule tests)

bool ParseI64(std::string_view t, int64_t* v) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), *v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

ProcessInfo* SetTarget(Event& e, OwnedAncestors& anc, int level) {
  if (level == 0) return &e.proc;
  if (anc.chain.size() < static_cast<std::size_t>(level)) anc.chain.resize(static_cast<std::size_t>(level));
  e.ancestors = &anc;
  return &anc.chain[static_cast<std::size_t>(level - 1)];
}

std::string SetProcAttr(ProcessInfo* p, int attr, std::string_view t) {
  switch (attr) {
    case kName: p->name = std::string(t); return "";
    case kExepath: p->exepath = std::string(t); return "";
    case kExe:
      if (p->argv.empty()) p->argv.emplace_back();
      p->argv[0] = std::string(t);
      return "";
    case kCmdline:
    case kArgs: {
      std::vector<std::string> words;
      std::size_t i = 0;
      while (i < t.size()) {
        while (i < t.size() && t[i] == ' ') ++i;
        std::size_t j = i;
        while (j < t.size() && t[j] != ' ') ++j;
        if (j > i) words.emplace_back(t.substr(i, j - i));
        i = j;
      }
      std::string argv0 = p->argv.empty() ? std::string() : p->argv[0];
      if (attr == kCmdline) {
        if (words.empty()) return "expected 'name args...'";
        p->name = words[0];
        if (argv0.empty()) argv0 = words[0];
        words.erase(words.begin());
      }
      p->argv.assign(1, argv0);
      p->argv.insert(p->argv.end(), words.begin(), words.end());
      return "";
    }
    case kArgv: {
      p->argv.clear();
      std::size_t i = 0;
      while (i < t.size()) {
        while (i < t.size() && t[i] == ' ') ++i;
        std::size_t j = i;
        while (j < t.size() && t[j] != ' ') ++j;
        if (j > i) p->argv.emplace_back(t.substr(i, j - i));
        i = j;
      }
      return "";
    }
    case kPid: {
      int64_t v;
      if (!ParseI64(t, &v) || v < 0) return "expected a pid";
      p->pid = static_cast<uint32_t>(v);
      return "";
    }
  }
  return "cannot be set";
}

std::string SetProcLevel(Event& e, OwnedAncestors& a, const FieldArg&, std::string_view t, int param) {
  return SetProcAttr(SetTarget(e, a, param / 16), param % 16, t);
}

#define VIGIL_PROC_SETTER(NAME, PARAM)                                                               \
  std::string NAME(Event& e, OwnedAncestors& a, const FieldArg& g, std::string_view t) {             \
    return SetProcLevel(e, a, g, t, PARAM);                                                           \
  }
VIGIL_PROC_SETTER(SetProcName, kName)
VIGIL_PROC_SETTER(SetProcExepath, kExepath)
VIGIL_PROC_SETTER(SetProcExe, kExe)
VIGIL_PROC_SETTER(SetProcCmdline, kCmdline)
VIGIL_PROC_SETTER(SetProcArgs, kArgs)
VIGIL_PROC_SETTER(SetProcPid, kPid)
VIGIL_PROC_SETTER(SetPName, 16 + kName)
VIGIL_PROC_SETTER(SetPExepath, 16 + kExepath)
VIGIL_PROC_SETTER(SetPExe, 16 + kExe)
VIGIL_PROC_SETTER(SetPCmdline, 16 + kCmdline)
VIGIL_PROC_SETTER(SetPArgv, 16 + kArgv)
#undef VIGIL_PROC_SETTER

// proc.argv in a test: every argument (split on spaces), or with [N] the Nth.
std::string SetProcArgv(Event& e, OwnedAncestors&, const FieldArg& g, std::string_view t) {
  if (!g.present) return SetProcAttr(&e.proc, kArgv, t);
  if (g.index < 0 || g.index > 4096) return "expected an index from 0 to 4096";
  if (e.proc.argv.size() <= static_cast<std::size_t>(g.index)) e.proc.argv.resize(static_cast<std::size_t>(g.index) + 1);
  e.proc.argv[static_cast<std::size_t>(g.index)] = std::string(t);
  return "";
}

#define VIGIL_ANC_SETTER(NAME, ATTR)                                                                 \
  std::string NAME(Event& e, OwnedAncestors& a, const FieldArg& g, std::string_view t) {             \
    if (!g.present) return "needs an index in a test, e.g. proc.aname[2]";                           \
    return SetProcAttr(SetTarget(e, a, g.index), ATTR, t);                                            \
  }
VIGIL_ANC_SETTER(SetAName, kName)
VIGIL_ANC_SETTER(SetAExepath, kExepath)
VIGIL_ANC_SETTER(SetAExe, kExe)
VIGIL_ANC_SETTER(SetAPid, kPid)
#undef VIGIL_ANC_SETTER

template <typename F>
std::string SetNumber(std::string_view t, F assign) {
  int64_t v;
  if (!ParseI64(t, &v)) return "expected a number, got '" + std::string(t) + "'";
  assign(v);
  return "";
}

#define VIGIL_NUM_SETTER(NAME, EXPR)                                                                  \
  std::string NAME(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {                  \
    return SetNumber(t, [&](int64_t v) { EXPR; });                                                     \
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
VIGIL_NUM_SETTER(SetRawRes, e.res = v)
VIGIL_NUM_SETTER(SetFdNum, e.file.fd = e.net.fd = static_cast<int32_t>(v))
VIGIL_NUM_SETTER(SetLPort, e.net.local_port = static_cast<uint16_t>(v))
VIGIL_NUM_SETTER(SetRPort, e.net.remote_port = static_cast<uint16_t>(v))
VIGIL_NUM_SETTER(SetBpfCmd, e.bpf.cmd = static_cast<int32_t>(v))
VIGIL_NUM_SETTER(SetArgFlags, e.args.flags = static_cast<uint64_t>(v))
VIGIL_NUM_SETTER(SetPtraceReq, e.args.request = v)
VIGIL_NUM_SETTER(SetPidnsLevel, e.proc.pidns_level = static_cast<uint32_t>(v))
#undef VIGIL_NUM_SETTER

// Open flags by name (O_WRONLY|O_CREAT, as evt.arg.flags renders them) or as a number.
std::string SetOpenFlags(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  uint32_t flags = 0;
  if (ParseOpenFlags(t, &flags)) {
    e.file.flags = flags;
    return "";
  }
  return SetNumber(t, [&](int64_t v) { e.file.flags = static_cast<uint32_t>(v); });
}

std::string SetBool(std::string_view t, bool* out) {
  if (t == "true") *out = true;
  else if (t == "false") *out = false;
  else return "expected true or false, got '" + std::string(t) + "'";
  return "";
}

std::string SetExeUpper(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  bool upper = false;
  std::string err = SetBool(t, &upper);
  if (err.empty()) e.proc.exe_layer = upper ? ExeLayer::kUpper : ExeLayer::kNotUpper;
  return err;
}

#define VIGIL_STR_SETTER(NAME, EXPR)                                                                  \
  std::string NAME(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {                  \
    EXPR = std::string(t);                                                                             \
    return "";                                                                                         \
  }
VIGIL_STR_SETTER(SetFdName, e.file.abspath)
VIGIL_STR_SETTER(SetFdNameRaw, e.file.path)
VIGIL_STR_SETTER(SetFdNameResolved, e.file.resolved)
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
VIGIL_STR_SETTER(SetTarget, e.file.target)
VIGIL_STR_SETTER(SetArgName, e.args.name)
VIGIL_STR_SETTER(SetMountType, e.file.fstype)
VIGIL_STR_SETTER(SetMountSource, e.file.source)
#undef VIGIL_STR_SETTER

std::string SetUnixPath(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  e.net.unix_path = std::string(t);
  e.net.family = 1;  // AF_UNIX: fd.unix_path only exists on unix sockets
  return "";
}

// evt.rawtime in rule tests: ns since the epoch, not before 1970 (the event
// clock is unsigned; a negative value must not wrap to the year 2554).
std::string SetRawTime(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  int64_t v;
  if (!ParseI64(t, &v) || v < 0) return "expected ns since the epoch (0 or more), got '" + std::string(t) + "'";
  e.wall_ns = static_cast<uint64_t>(v);
  return "";
}

// fs.atime / fs.mtime in rule tests: ns since the epoch, "now" or "omit".
std::string SetFileTime(int64_t* dst, std::string_view t) {
  if (t == "now") return *dst = kFileTimeNow, "";
  if (t == "omit") return *dst = kFileTimeOmit, "";
  int64_t v;
  if (!ParseI64(t, &v) || v < kFileTimeMin) return "expected ns since the epoch, now or omit";
  *dst = v;
  return "";
}
std::string SetSockFamily(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (t == "ip") e.net.family = 2;
  else if (t == "unix") e.net.family = 1;
  else return "expected ip or unix";
  return "";
}

std::string SetEvtType(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (!EventTypeFromName(t, &e.type)) return "unknown event type '" + std::string(t) + "'";
  return "";
}

std::string SetEvtRes(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (t == "SUCCESS") {
    e.res = 0;
    return "";
  }
  int64_t v;
  if (ParseI64(t, &v)) {
    e.res = v;
    return "";
  }
  for (int err = 1; err < 134; ++err) {
    const char* name = strerrorname_np(err);
    if (name != nullptr && t == name) {
      e.res = -err;
      return "";
    }
  }
  return "expected SUCCESS, an errno name or a number";
}

std::string SetIp(Event& e, std::string_view t, bool remote) {
  IpAddr a;
  uint16_t family = 0;
  if (!ParseIpText(t, &a, &family)) return "expected an IP address";
  (remote ? e.net.remote_addr : e.net.local_addr) = a;
  e.net.family = family;
  return "";
}
std::string SetRip(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetIp(e, t, true); }
std::string SetLip(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetIp(e, t, false); }

std::string SetL4Proto(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (t == "tcp") e.net.protocol = 6, e.net.type = 1;
  else if (t == "udp") e.net.protocol = 17, e.net.type = 2;
  else return "expected tcp or udp";
  if (e.net.family == 0) e.net.family = 2;
  return "";
}

std::string SetHelpers(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t j = t.find_first_of(", ", i);
    if (j == std::string_view::npos) j = t.size();
    if (j > i) {
      int64_t id;
      if (!ParseI64(t.substr(i, j - i), &id) || id < 0 || id > 255) return "expected helper ids 0..255";
      e.bpf.AddHelper(static_cast<uint32_t>(id));
    }
    i = j + 1;
  }
  e.bpf.helpers_complete = true;
  return "";
}

}  // namespace

void RenderFileTime(int64_t t, std::string* out) {
  if (t == kFileTimeUnset) return;
  if (t == kFileTimeNow) return out->append("now"), void();
  if (t == kFileTimeOmit) return out->append("omit"), void();
  char b[kIsoTimeLen];
  out->append(b, FormatIsoTimeSigned(t, b));
}

// Defined in field_values.cpp (the getters for the remaining families).
void AppendMoreFields(std::vector<FieldDef>* out);
void AppendContainerFields(std::vector<FieldDef>* out);
void AppendEnvFields(std::vector<FieldDef>* out);
void AppendBufferFields(std::vector<FieldDef>* out);  // field_buffer.cpp
void AppendSessionFields(std::vector<FieldDef>* out);  // field_session.cpp
void AppendStdioFields(std::vector<FieldDef>* out);    // field_stdio.cpp
void AppendDnsFields(std::vector<FieldDef>* out);      // field_dns.cpp

// The process attributes of proc.X for another process (field_stdio.cpp's
// pipe peers): attr is 0 name, 1 exepath, 2 exe, 3 cmdline, 5 pid.
bool GetProcessAttr(const ProcessInfo& p, int attr, Scratch& s, FieldValueRef* o) { return GetProcAttr(p, attr, s, o); }
std::string SetProcessAttr(ProcessInfo* p, int attr, std::string_view t) { return SetProcAttr(p, attr, t); }

namespace {

// evt.*: the event, its result and its arguments.
void AppendEvtFields(std::vector<FieldDef>* out) {
  const FieldDef rows[] = {
    {"evt.type", T::kString, A::kNone, true, "Event type (syscall name, procexit, container: a container seen for the first time, or container_removed: "
     "a container that exited).",
     [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
       return Str(o, EventTypeName(c.event->type));
     }, SetEvtType, 0},
    {"evt.res", T::kString, A::kNone, true, "Result: SUCCESS, or the errno name (ENOENT, EACCES, ...).",
     [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
       return Str(o, ResultName(c.event->res, &s.buf));
     }, SetEvtRes, 0},
    {"evt.rawres", T::kNumber, A::kNone, true, "Result as a number (>= 0 success, < 0 is -errno).",
     [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
       return Num(o, c.event->res);
     }, SetRawRes, 0},
    {"evt.failed", T::kBool, A::kNone, true, "True when the syscall returned an error.",
     [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
       return Bool(o, c.event->res < 0);
     }, nullptr, 0},
    {"evt.args", T::kString, A::kNone, true, "All arguments as one name=value string.", GetEvtArgs, nullptr, 0},
    {"evt.arg.flags", T::kString, A::kNone, true,
     "Flags: open flags as names (O_WRONLY|O_CREAT|...; O_F_CREATED when the open created the file), else "
     "the number (clone/unshare/mount flags).",
     GetEvtArg, SetOpenFlags, kArgFlags},
    {"evt.arg.path", T::kString, A::kNone, true, "Path argument as given (file events); exe path for exec.",
     GetEvtArg, SetFdNameRaw, kArgPath},
    {"evt.arg.name", T::kString, A::kNone, true,
     "Name argument: the path of open family events, memfd or module name, the attribute of the setxattr and removexattr "
     "family (security.capability, ...).",
     GetEvtArg, SetEvtArgName, kArgName},
    {"evt.arg.size", T::kString, A::kNone, true,
     "sendto/recvfrom: the length argument; setxattr family: the value's size.", GetEvtArg, SetArgSize, kArgSize},
    {"evt.arg.tuple", T::kString, A::kNone, true, "Socket events: the socket's endpoints (as fd.name).",
     GetEvtArg, nullptr, kArgTuple},
    {"evt.arg.filename", T::kString, A::kNone, true, "File name argument (chmod family; exe path for exec).",
     GetEvtArg, SetFdNameRaw, kArgFilename},
    {"evt.arg.oldpath", T::kString, A::kNone, true, "rename/link: the source path.", GetEvtArg, SetFdNameRaw, kArgOldpath},
    {"evt.arg.newpath", T::kString, A::kNone, true, "rename/link: the new path.", GetEvtArg, SetTarget, kArgNewpath},
    {"evt.arg.target", T::kString, A::kNone, true, "symlink: what the link points to.", GetEvtArg, SetFdNameRaw, kArgTarget},
    {"evt.arg.linkpath", T::kString, A::kNone, true, "symlink: the link created.", GetEvtArg, SetTarget, kArgLinkpath},
    {"evt.arg.dev", T::kString, A::kNone, true, "mount: the device or source.", GetEvtArg, SetMountSource, kArgDev},
    {"evt.arg.dir", T::kString, A::kNone, true, "mount/umount: the mount point.", GetEvtArg, SetTarget, kArgDir},
    {"evt.arg.type", T::kString, A::kNone, true, "mount: file-system type; socket: socket type.", GetEvtArg, SetMountType, kArgType},
    {"evt.arg.uid", T::kString, A::kNone, true, "setuid family: the uid (user name when known); chown: owner.",
     GetEvtArg, nullptr, kArgUid},
    {"evt.arg.gid", T::kString, A::kNone, true, "setgid family: the gid (group name when known); chown: group.",
     GetEvtArg, nullptr, kArgGid},
    {"evt.arg.mode", T::kString, A::kNone, true,
     "Mode argument: chmod family as names (S_IXUSR|S_IRUSR|S_ISUID, as Falco); open/creat/mkdir in octal.",
     GetEvtArg, SetArgMode, kArgMode},
    {"evt.rawarg.mode", T::kNumber, A::kNone, true, "Mode argument as a number (file events).",
     [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
       return IsFileEvent(c.event->type) && Num(o, c.event->file.mode);
     }, nullptr, 0},
    {"evt.arg.request", T::kString, A::kNone, true, "ptrace request name (PTRACE_ATTACH, ...).", GetEvtArg, SetPtraceReq, kArgRequest},
    {"evt.arg.cmd", T::kString, A::kNone, true, "bpf command name (BPF_PROG_LOAD, ...).", GetEvtArg, SetBpfCmd, kArgCmd},
    {"evt.arg.fd", T::kString, A::kNone, true, "File descriptor argument.", GetEvtArg, SetFdNum, kArgFd},
    {"evt.arg.res", T::kString, A::kNone, true, "Result as a number string.", GetEvtArg, SetRawRes, kArgRes},
    {"evt.arg.res_or_fd", T::kString, A::kNone, true, "Result (the new fd on success).", GetEvtArg, SetRawRes, kArgRes},
    {"evt.arg.domain", T::kString, A::kNone, true, "socket: address family (AF_INET, AF_UNIX, ...).", GetEvtArg, nullptr, kArgDomain},
    {"evt.arg.pid", T::kString, A::kNone, true, "Target pid (ptrace, process_vm_readv/writev, pidfd_getfd's pidfd, clone child).", GetEvtArg, nullptr, kArgPid},
    {"evt.arg.*", T::kString, A::kNone, false, "Other syscall arguments Falco names: not captured by vigil (<NA>).",
     NotAvailable, nullptr, 0},
    {"evt.rawarg.*", T::kNumber, A::kNone, false, "Raw syscall arguments: not captured by vigil (<NA>).",
     NotAvailable, nullptr, 0},
  };
  out->insert(out->end(), std::begin(rows), std::end(rows));
}

// proc.*: the process, its parent and its ancestors.
void AppendProcFields(std::vector<FieldDef>* out) {
  const FieldDef rows[] = {
    {"proc.name", T::kString, A::kNone, true, "Process name (comm, at most 15 bytes).", GetProcLevel, SetProcName, kName},
    {"proc.exepath", T::kString, A::kNone, true, "Full path of the executable (a path deeper than 16 names: `...` and its last 16 names, docs/capture.md \"Limits\").", GetProcLevel, SetProcExepath, kExepath},
    {"proc.exe", T::kString, A::kNone, true, "argv[0] as the process was started.", GetProcLevel, SetProcExe, kExe},
    {"proc.cmdline", T::kString, A::kNone, true, "Name and arguments (\"name arg1 arg2\").", GetProcLevel, SetProcCmdline, kCmdline},
    {"proc.args", T::kString, A::kNone, true, "Arguments after argv[0], space-separated.", GetProcLevel, SetProcArgs, kArgs},
    {"proc.pid", T::kNumber, A::kNone, true, "Process id (tgid, host view).", GetProcLevel, SetProcPid, kPid},
    {"proc.argv", T::kString, A::kOptionalIndex, true,
     "vigil: the command line as exec'd: every argument from argv[0], space-separated; [N] argument N alone.",
     GetProcArgv, SetProcArgv, 0},
    {"proc.pname", T::kString, A::kNone, true, "Parent process name.", GetProcLevel, SetPName, 16 + kName},
    {"proc.pexepath", T::kString, A::kNone, true, "Parent executable path.", GetProcLevel, SetPExepath, 16 + kExepath},
    {"proc.pexe", T::kString, A::kNone, true, "Parent argv[0].", GetProcLevel, SetPExe, 16 + kExe},
    {"proc.pcmdline", T::kString, A::kNone, true, "Parent name and arguments.", GetProcLevel, SetPCmdline, 16 + kCmdline},
    {"proc.pargv", T::kString, A::kNone, true, "vigil: the parent's command line as exec'd (as proc.argv).",
     GetProcLevel, SetPArgv, 16 + kArgv},
    {"proc.aname", T::kStringList, A::kOptionalIndex, true,
     "Ancestor name: [N] the Nth (1 parent, 2 grandparent, 0 self); without index, any ancestor.",
     GetProcAncestor, SetAName, kName},
    {"proc.aexepath", T::kStringList, A::kOptionalIndex, true, "Ancestor executable path ([N] as proc.aname).",
     GetProcAncestor, SetAExepath, kExepath},
    {"proc.aexe", T::kStringList, A::kOptionalIndex, true, "Ancestor argv[0] ([N] as proc.aname).",
     GetProcAncestor, SetAExe, kExe},
    {"proc.acmdline", T::kStringList, A::kOptionalIndex, true, "Ancestor command line ([N] as proc.aname).",
     GetProcAncestor, nullptr, kCmdline},
    {"proc.apid", T::kStringList, A::kOptionalIndex, true, "Ancestor pid ([N] as proc.aname).",
     GetProcAncestor, SetAPid, kPid},
  };
  out->insert(out->end(), std::begin(rows), std::end(rows));
}

// fd.*: the file or socket an event acts on.
void AppendFdFields(std::vector<FieldDef>* out) {
  std::vector<FieldDef>& v = *out;
  v.push_back({"fd.name", T::kString, A::kNone, true,
               "File: the path as the process gave it, made absolute against cwd or dirfd and normalised lexically (`.`, `..`, `//`), symlinks not followed (libsinsp's meaning: `/proc/self/fd/1` stays as written; the resolved path is fd.name.resolved); fd-based calls: the name the fd was opened with when vigil saw that open (docs/state.md \"Descriptors\"), else the file's own path (a path deeper than 16 names: `...` and its last 16 names, never starting with `/`; docs/capture.md \"Limits\"); socket: \"lip:lport->rip:rport\" (IP) or the unix path.", GetFdName, SetFdName, 0});
  v.push_back({"fd.name.resolved", T::kString, A::kNone, true,
               "vigil: file: the file's own path as the kernel has it, symlinks resolved (`/proc/self/fd/1` -> the file it names), for a successful open and fd-based calls; else as fd.name. Rules about a file's identity (credential files) match on it: fd.name follows the name given.",
               GetFdNameResolved, SetFdNameResolved, 0});
  v.push_back({"fd.nameraw", T::kString, A::kNone, true, "File path as the process gave it.", nullptr, SetFdNameRaw, 0});
  v.back().get = [](const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
    return IsFileEvent(c.event->type) && !c.event->file.path.empty() && Str(o, c.event->file.path);
  };
  v.push_back({"fd.directory", T::kString, A::kNone, true, "Directory of fd.name.", GetFdDirFile, nullptr, 0});
  v.push_back({"fd.filename", T::kString, A::kNone, true, "Last component of fd.name.", GetFdDirFile, nullptr, 1});
  v.push_back({"fd.type", T::kString, A::kNone, true, "file, directory, ipv4, ipv6, unix, netlink.", GetFdType, nullptr, 0});
  v.push_back({"fd.typechar", T::kString, A::kNone, true, "f, d, 4, 6, u, n (as fd.type).", GetFdType, nullptr, 1});
  v.push_back({"fd.num", T::kNumber, A::kNone, true, "File descriptor number.", GetFdNum, SetFdNum, 0});
  v.push_back({"fd.l4proto", T::kString, A::kNone, true, "tcp, udp, icmp, raw.", GetL4Proto, SetL4Proto, 0});
  v.push_back({"fd.lip", T::kIpAddr, A::kNone, true, "Local IP address.", GetFdIp, SetLip, 0});
  v.push_back({"fd.rip", T::kIpAddr, A::kNone, true, "Remote IP address.", GetFdIp, SetRip, 1});
  v.push_back({"fd.sip", T::kIpAddr, A::kNone, true, "Server IP (remote for connect, local for bind/accept/listen).",
               GetFdIp, nullptr, 2});
  v.push_back({"fd.cip", T::kIpAddr, A::kNone, true, "Client IP (the other end from fd.sip).", GetFdIp, nullptr, 3});
  v.push_back({"fd.ip", T::kIpAddr, A::kNone, true, "Either end's IP (true if the check holds for one).", GetFdIp, nullptr, 4});
  v.push_back({"fd.lnet", T::kIpNet, A::kNone, true, "Local IP, compared with networks (CIDR).", GetFdIp, nullptr, 0});
  v.push_back({"fd.rnet", T::kIpNet, A::kNone, true, "Remote IP, compared with networks.", GetFdIp, nullptr, 1});
  v.push_back({"fd.snet", T::kIpNet, A::kNone, true, "Server IP, compared with networks.", GetFdIp, nullptr, 2});
  v.push_back({"fd.cnet", T::kIpNet, A::kNone, true, "Client IP, compared with networks.", GetFdIp, nullptr, 3});
  v.push_back({"fd.net", T::kIpNet, A::kNone, true, "Either end's IP, compared with networks.", GetFdIp, nullptr, 4});
  v.push_back({"fd.lport", T::kNumber, A::kNone, true, "Local port.", GetFdPort, SetLPort, 0});
  v.push_back({"fd.rport", T::kNumber, A::kNone, true, "Remote port.", GetFdPort, SetRPort, 1});
  v.push_back({"fd.sport", T::kNumber, A::kNone, true, "Server port.", GetFdPort, nullptr, 2});
  v.push_back({"fd.cport", T::kNumber, A::kNone, true, "Client port.", GetFdPort, nullptr, 3});
  v.push_back({"fd.port", T::kNumber, A::kNone, true, "Either end's port.", GetFdPort, nullptr, 4});
}

}  // namespace

const std::vector<FieldDef>& AllFields() {
  static const std::vector<FieldDef> table = [] {
    std::vector<FieldDef> v;
    AppendEvtFields(&v);
    AppendBufferFields(&v);  // evt.buffer: field_buffer.cpp
    AppendProcFields(&v);
    AppendFdFields(&v);
    AppendDnsFields(&v);  // fd.sip.name and kin, after the address rows they read: field_dns.cpp
    AppendEnvFields(&v);  // proc.env and its kin: field_env.cpp
    AppendSessionFields(&v);  // proc.sid, proc.sname, proc.vpgid and kin: field_session.cpp
    AppendStdioFields(&v);  // proc.stdin.type, pipe peers and kin: field_stdio.cpp
    AppendMoreFields(&v);  // the other families: field_values.cpp
    AppendContainerFields(&v);  // container.* and k8s.* from runtime metadata: field_container.cpp
    return v;
  }();
  return table;
}

namespace {

// Rule-test setters made from the member table (engine/event_members.h): a
// field named as the JSON key of a number, string, boolean or file-time
// member of the event or of the acting process sets that member, as a JSON
// line would. Fields whose test value means something else (names, several
// members) have a setter of their own: in their row, or in kSetters.
template <typename T>
std::string SetMemberNum(T* v, std::string_view t) {
  return SetNumber(t, [&](int64_t x) { *v = static_cast<T>(x); });
}
std::string SetMemberStr(std::string* v, std::string_view t) {
  v->assign(t);
  return "";
}
std::string SetMemberBool(bool* v, std::string_view t) { return SetBool(t, v); }
std::string SetMemberFileTime(int64_t* v, std::string_view t) { return SetFileTime(v, t); }

#define VIGIL_MEMBER_SETTER(key, expr, codec)                                                        \
  {key, [](Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetMember##codec(&expr, t); }},
#define VIGIL_SETTER_Num(key, expr) VIGIL_MEMBER_SETTER(key, expr, Num)
#define VIGIL_SETTER_Str(key, expr) VIGIL_MEMBER_SETTER(key, expr, Str)
#define VIGIL_SETTER_Bool(key, expr) VIGIL_MEMBER_SETTER(key, expr, Bool)
#define VIGIL_SETTER_FileTime(key, expr) VIGIL_MEMBER_SETTER(key, expr, FileTime)
#define VIGIL_SETTER_Ip(key, expr)
#define VIGIL_SETTER_Array(key, expr)
#define VIGIL_SETTER_Helpers(key, expr)
#define VIGIL_SETTER_Argv(key, expr)
#define VIGIL_SETTER_Env(key, expr)
#define VIGIL_SETTER_Session(key, expr)
#define VIGIL_SETTER_Stdio(key, expr)
#define VIGIL_SETTER_ExeLayer(key, expr)
#define VIGIL_SETTER_Buffer(key, expr)  // field_buffer.cpp's SetBuffer
#define VIGIL_SETTER_Type(key, expr)
#define VIGIL_SETTER_WallTime(key, expr)
#define VIGIL_SETTER_Process(key, expr)
#define VIGIL_EVENT_SETTER(key, m, codec, when, anc) VIGIL_SETTER_##codec(key, e.m)
#define VIGIL_PROCESS_SETTER(key, m, codec, when, anc) VIGIL_SETTER_##codec(key, e.proc.m)
const std::pair<const char*, FieldSetter> kMemberSetters[] = {
    VIGIL_EVENT_MEMBERS(VIGIL_EVENT_SETTER) VIGIL_PROCESS_MEMBERS(VIGIL_PROCESS_SETTER)};
#undef VIGIL_EVENT_SETTER
#undef VIGIL_PROCESS_SETTER
#undef VIGIL_MEMBER_SETTER

}  // namespace

// Exposed for field_values.cpp.
FieldGetter ProcLevelGetter() { return GetProcLevel; }
FieldGetter NotAvailableGetter() { return NotAvailable; }
FieldSetter SetterFor(std::string_view name) {
  static const std::pair<const char*, FieldSetter> kSetters[] = {
      {"bpf.prog.helpers", SetHelpers}, {"fd.sockfamily", SetSockFamily}, {"fd.unix_path", SetUnixPath},
      {"evt.arg.flags.raw", SetArgFlags}, {"ns.pid_level", SetPidnsLevel}, {"proc.memfd_name", SetArgName},
      {"fs.path.name", SetFdName}, {"fs.path.nameraw", SetFdNameRaw}, {"fs.path.target", SetTarget},
      {"evt.rawtime", SetRawTime}, {"proc.pre_exec_name", SetArgName},
      {"proc.is_exe_upper_layer", SetExeUpper},
  };
  for (const auto& [n, s] : kSetters)
    if (name == n) return s;
  for (const auto& [n, s] : kMemberSetters)
    if (name == n) return s;
  return nullptr;
}

}  // namespace vigil
