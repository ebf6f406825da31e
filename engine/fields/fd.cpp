// SPDX-License-Identifier: Apache-2.0
// fd.*: the file or socket an event acts on (its name, type, number and, for
// an IP socket, its ends), then the socket's family, connection and unix path.
#include <cstring>

#include "engine/fields/family.h"

namespace vigil {
namespace {

enum FdId : uint16_t {
  // FdFields
  kName, kNameResolved, kNameraw, kDirectory, kFilename, kType, kTypechar, kNum, kL4proto,
  kLip, kRip, kSip, kCip, kIp, kLnet, kRnet, kSnet, kCnet, kNet,
  kLport, kRport, kSport, kCport, kPort,
  // FdSocketFields
  kSockfamily, kConnected, kUnixPath,
};

// The end each address and port row reads, by id.
constexpr SocketEnd EndOf(uint16_t id) {
  constexpr SocketEnd kEnds[] = {SocketEnd::kLocal, SocketEnd::kRemote, SocketEnd::kServer, SocketEnd::kClient,
                                 SocketEnd::kEither};
  if (id >= kLport) return kEnds[id - kLport];
  if (id >= kLnet) return kEnds[id - kLnet];
  return kEnds[id - kLip];
}

bool IsIp(const NetArgs& n) { return n.family == 2 || n.family == 10; }

void AppendIp(std::string* s, const IpAddr& a, uint16_t family) {
  FieldValueRef v;
  v.ip = a;
  v.family = family;
  RenderFieldValue(FieldType::kIpAddr, v, s);
}

// The server side of a socket is the remote end for connect, the local end
// for accept, bind, listen. A send or receive does not say which end its
// socket was: the end with the lower port is taken as the server (a client's
// port is an ephemeral one, 32768+ on Linux), as for Falco's fd.sport on a
// socket whose connect or accept it did not see.
bool ServerIsRemote(const Event& e) {
  if (IsDataEvent(e.type)) return e.net.remote_port != 0 && e.net.remote_port < e.net.local_port;
  return e.type == EventType::connect;
}

// Whether `end` is the remote one; false when the event has no IP socket.
bool PickSide(const Event& e, SocketEnd end, bool* remote) {
  if (!IsNetEvent(e.type) || !IsIp(e.net)) return false;
  switch (end) {
    case SocketEnd::kLocal: *remote = false; return true;
    case SocketEnd::kServer: *remote = ServerIsRemote(e); return true;
    case SocketEnd::kClient: *remote = !ServerIsRemote(e); return true;
    default: *remote = true; return true;
  }
}

// A socket with no peer yet (bound, listening: no remote address, port 0) is
// libsinsp's server socket (SCAP_FD_IPV4_SERVSOCK/IPV6_SERVSOCK): it has one
// end, the local one, so fd.ip, fd.net and fd.port read only that end (the
// all-zero remote end would make `fd.ip != "0.0.0.0"` false on a listen,
// which silenced Falco's inbound macro, issue 18).
bool NoPeer(const Event& e) { return e.net.remote_port == 0 && e.net.remote_addr.bytes == IpAddr{}.bytes; }

std::string_view FilePath(const Event& e) {
  return e.file.abspath.empty() ? std::string_view(e.file.path) : std::string_view(e.file.abspath);
}

// fd.name: the file path for file events, "lip:lport->rip:rport" for sockets.
bool GetFdName(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  const Event& e = *c.event;
  if (IsFileEvent(e.type)) return !FilePath(e).empty() && Str(o, FilePath(e));
  return SocketName(e, s, o);
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
  if (d.id == kDirectory) {
    if (slash == std::string_view::npos) return false;
    return Str(o, slash == 0 ? p.substr(0, 1) : p.substr(0, slash));
  }
  return Str(o, slash == std::string_view::npos ? p : p.substr(slash + 1));
}

bool GetFdType(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  bool typechar = d.id == kTypechar;
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

bool GetFdIp(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  const SocketEnd end = EndOf(d.id);
  bool remote = false;
  if (!PickSide(e, end, &remote)) return false;
  if (end == SocketEnd::kEither && NoPeer(e)) return Ip(o, e.net.local_addr, e.net.family);
  Ip(o, remote ? e.net.remote_addr : e.net.local_addr, e.net.family);
  if (end == SocketEnd::kEither) {  // fd.ip / fd.net: either end
    o->has_second = true;
    o->ip2 = e.net.local_addr;
  }
  return true;
}

bool GetFdPort(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  const SocketEnd end = EndOf(d.id);
  bool remote = false;
  if (!PickSide(e, end, &remote)) return false;
  if (end == SocketEnd::kEither && NoPeer(e)) return Num(o, e.net.local_port);
  if (end == SocketEnd::kEither) {
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

std::string SetIp(Event& e, std::string_view t, bool remote) {
  IpAddr a;
  uint16_t family = 0;
  if (!ParseIpText(t, &a, &family)) return "expected an IP address";
  (remote ? e.net.remote_addr : e.net.local_addr) = a;
  e.net.family = family;
  return "";
}

std::string SetL4Proto(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (t == "tcp") e.net.protocol = 6, e.net.type = 1;
  else if (t == "udp") e.net.protocol = 17, e.net.type = 2;
  else return "expected tcp or udp";
  if (e.net.family == 0) e.net.family = 2;
  return "";
}

#define FD_NAME_DESC                                                                                             \
  "File: the path as the process gave it, made absolute against cwd or dirfd and normalised lexically (`.`, "    \
  "`..`, `//`), symlinks not followed (libsinsp's meaning: `/proc/self/fd/1` stays as written; the resolved path " \
  "is fd.name.resolved); fd-based calls: the name the fd was opened with when vigil saw that open (docs/state.md " \
  "\"Descriptors\"), else the file's own path (a path deeper than 16 names: `...` and its last 16 names, never "  \
  "starting with `/`; docs/capture.md \"Limits\"); socket: \"lip:lport->rip:rport\" (IP) or the unix path."

constexpr FieldDef kFdRows[] = {
    {kName, "fd.name", T::kString, A::kNone, true, FD_NAME_DESC, GetFdName, SetFileAbspath},
    {kNameResolved, "fd.name.resolved", T::kString, A::kNone, true,
     "vigil: file: the file's own path as the kernel has it, symlinks resolved (`/proc/self/fd/1` -> the file it "
     "names), for a successful open and fd-based calls; else as fd.name. Rules about a file's identity (credential "
     "files) match on it: fd.name follows the name given.",
     GetFdNameResolved, VIGIL_SETTER { return e.file.resolved = std::string(t), ""; }},
    {kNameraw, "fd.nameraw", T::kString, A::kNone, true, "File path as the process gave it.",
     VIGIL_GETTER { return IsFileEvent(c.event->type) && !c.event->file.path.empty() && Str(o, c.event->file.path); },
     SetFilePath},
    {kDirectory, "fd.directory", T::kString, A::kNone, true, "Directory of fd.name.", GetFdDirFile, nullptr},
    {kFilename, "fd.filename", T::kString, A::kNone, true, "Last component of fd.name.", GetFdDirFile, nullptr},
    {kType, "fd.type", T::kString, A::kNone, true, "file, directory, ipv4, ipv6, unix, netlink.", GetFdType, nullptr},
    {kTypechar, "fd.typechar", T::kString, A::kNone, true, "f, d, 4, 6, u, n (as fd.type).", GetFdType, nullptr},
    {kNum, "fd.num", T::kNumber, A::kNone, true, "File descriptor number.", GetFdNum, SetFdNum},
    {kL4proto, "fd.l4proto", T::kString, A::kNone, true, "tcp, udp, icmp, raw.", GetL4Proto, SetL4Proto},
    {kLip, "fd.lip", T::kIpAddr, A::kNone, true, "Local IP address.", GetFdIp,
     VIGIL_SETTER { return SetIp(e, t, false); }},
    {kRip, "fd.rip", T::kIpAddr, A::kNone, true, "Remote IP address.", GetFdIp,
     VIGIL_SETTER { return SetIp(e, t, true); }},
    {kSip, "fd.sip", T::kIpAddr, A::kNone, true, "Server IP (remote for connect, local for bind/accept/listen).",
     GetFdIp, nullptr},
    {kCip, "fd.cip", T::kIpAddr, A::kNone, true, "Client IP (the other end from fd.sip).", GetFdIp, nullptr},
    {kIp, "fd.ip", T::kIpAddr, A::kNone, true, "Either end's IP (true if the check holds for one).", GetFdIp, nullptr},
    {kLnet, "fd.lnet", T::kIpNet, A::kNone, true, "Local IP, compared with networks (CIDR).", GetFdIp, nullptr},
    {kRnet, "fd.rnet", T::kIpNet, A::kNone, true, "Remote IP, compared with networks.", GetFdIp, nullptr},
    {kSnet, "fd.snet", T::kIpNet, A::kNone, true, "Server IP, compared with networks.", GetFdIp, nullptr},
    {kCnet, "fd.cnet", T::kIpNet, A::kNone, true, "Client IP, compared with networks.", GetFdIp, nullptr},
    {kNet, "fd.net", T::kIpNet, A::kNone, true, "Either end's IP, compared with networks.", GetFdIp, nullptr},
    {kLport, "fd.lport", T::kNumber, A::kNone, true, "Local port.", GetFdPort,
     VIGIL_SETTER { return SetNumber(t, [&](int64_t v) { e.net.local_port = static_cast<uint16_t>(v); }); }},
    {kRport, "fd.rport", T::kNumber, A::kNone, true, "Remote port.", GetFdPort,
     VIGIL_SETTER { return SetNumber(t, [&](int64_t v) { e.net.remote_port = static_cast<uint16_t>(v); }); }},
    {kSport, "fd.sport", T::kNumber, A::kNone, true, "Server port.", GetFdPort, nullptr},
    {kCport, "fd.cport", T::kNumber, A::kNone, true, "Client port.", GetFdPort, nullptr},
    {kPort, "fd.port", T::kNumber, A::kNone, true, "Either end's port.", GetFdPort, nullptr},
};
static_assert(IdsInOrder(kFdRows, kName));

bool GetConnected(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  auto t = c.event->type;
  if (!IsNetEvent(t)) return false;
  bool conn = (t == EventType::connect || t == EventType::accept || t == EventType::accept4) && c.event->res >= 0;
  // A send or receive on a stream socket that has a peer.
  if (IsDataEvent(t)) conn = c.event->net.type == 1 && c.event->net.remote_port != 0;
  return Bool(o, conn);
}

constexpr FieldDef kSocketRows[] = {
    {kSockfamily, "fd.sockfamily", T::kString, A::kNone, true, "ip or unix.",
     VIGIL_GETTER {
       if (!IsNetEvent(c.event->type)) return false;
       uint16_t f = c.event->net.family;
       return (f == 2 || f == 10) ? Str(o, "ip") : f == 1 ? Str(o, "unix") : false;
     },
     VIGIL_SETTER {
       if (t == "ip") e.net.family = 2;
       else if (t == "unix") e.net.family = 1;
       else return "expected ip or unix";
       return "";
     }},
    {kConnected, "fd.connected", T::kBool, A::kNone, true,
     "Socket connected (connect/accept that succeeded; send/recv on a stream socket with a peer).", GetConnected,
     nullptr},
    {kUnixPath, "fd.unix_path", T::kString, A::kNone, true, "vigil: AF_UNIX socket path ('@' = abstract).",
     VIGIL_GETTER {
       return IsNetEvent(c.event->type) && c.event->net.family == 1 && Str(o, c.event->net.unix_path);
     },
     VIGIL_SETTER {
       e.net.unix_path = std::string(t);
       e.net.family = 1;  // AF_UNIX: fd.unix_path only exists on unix sockets
       return "";
     }},
};
static_assert(IdsInOrder(kSocketRows, kSockfamily));

}  // namespace

std::span<const FieldDef> FdFields() { return kFdRows; }
std::span<const FieldDef> FdSocketFields() { return kSocketRows; }

bool SocketAddress(const Event& e, SocketEnd end, uint16_t* family, IpAddr* addr) {
  bool remote = false;
  if (!PickSide(e, end, &remote)) return false;
  *family = e.net.family;
  *addr = remote ? e.net.remote_addr : e.net.local_addr;
  return true;
}

bool SocketName(const Event& e, Scratch& s, FieldValueRef* o) {
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

}  // namespace vigil
