// SPDX-License-Identifier: Apache-2.0
// Standard descriptor fields: what fds 0, 1 and 2 of the process are
// (proc.stdin.type, proc.stdout.type, proc.stderr.type, proc.stdin.name) and
// who is at the other end of a pipe on stdin or stdout (proc.stdin.peer.*,
// proc.stdout.peer.*). The descriptors are taken at exec and by the /proc scan
// (ProcessInfo::stdio); the peers come from the process table's pipe index
// (AncestorView::StdioPeer). They let a rule see a pipeline typed at a prompt
// (`curl URL | bash`), whose two ends are siblings with nothing on either
// command line that names the other.
#include <charconv>
#include <string>

#include "engine/fields/field_table.h"

namespace vigil {

bool GetProcessAttr(const ProcessInfo& p, int attr, Scratch& s, FieldValueRef* o);  // field_getters.cpp
std::string SetProcessAttr(ProcessInfo* p, int attr, std::string_view t);

namespace {

using T = FieldType;
using A = ArgKind;

// GetProcessAttr's attributes.
constexpr int kName = 0, kExepath = 1, kExe = 2, kCmdline = 3, kPid = 5;
constexpr int kPpid = 7;  // not one of GetProcessAttr's: read here

bool GetType(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  StdioType t = c.event->proc.stdio[static_cast<std::size_t>(d.param)].type;
  if (t == StdioType::kUnknown) return false;
  o->str = StdioTypeName(t);
  return true;
}

bool GetStdinName(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const ProcessInfo& p = c.event->proc;
  if (p.stdio[0].type != StdioType::kFile) return false;
  o->str = p.stdin_name;
  return true;
}

// param = which * 8 + attr (which: 0 the writer on our stdin, 1 the reader of our stdout)
bool GetPeer(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  if (c.event->ancestors == nullptr) return false;
  const ProcessInfo* peer = c.event->ancestors->StdioPeer(d.param / 8);
  if (peer == nullptr) return false;
  if (d.param % 8 == kPpid) return o->num = peer->ppid, true;
  return GetProcessAttr(*peer, d.param % 8, s, o);
}

std::string SetType(Event& e, std::size_t fd, std::string_view t) {
  if (!StdioTypeFromName(t, &e.proc.stdio[fd].type))
    return "expected file, pipe, socket, char, directory, block, other or none, got '" + std::string(t) + "'";
  return "";
}
std::string SetStdinType(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetType(e, 0, t); }
std::string SetStdoutType(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetType(e, 1, t); }
std::string SetStderrType(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) { return SetType(e, 2, t); }

std::string SetStdinName(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (e.proc.stdio[0].type == StdioType::kUnknown) e.proc.stdio[0].type = StdioType::kFile;
  e.proc.stdin_name = std::string(t);
  return "";
}

// A test that names a peer has a pipe on that descriptor.
std::string SetPeer(Event& e, OwnedAncestors& a, std::size_t which, int attr, std::string_view t) {
  if (!a.peers[which]) a.peers[which].emplace();
  StdioFd& fd = e.proc.stdio[which];
  if (fd.type == StdioType::kUnknown) fd.type = StdioType::kPipe;
  ProcessInfo& peer = *a.peers[which];
  if (attr == kPpid) {
    uint32_t v = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) return "expected a pid, got '" + std::string(t) + "'";
    peer.ppid = v;
    return "";
  }
  return SetProcessAttr(&peer, attr, t);
}

#define VIGIL_PEER_SETTER(NAME, WHICH, ATTR)                                              \
  std::string NAME(Event& e, OwnedAncestors& a, const FieldArg&, std::string_view t) {    \
    return SetPeer(e, a, WHICH, ATTR, t);                                                 \
  }
VIGIL_PEER_SETTER(SetInPeerName, 0, kName)
VIGIL_PEER_SETTER(SetInPeerExe, 0, kExe)
VIGIL_PEER_SETTER(SetInPeerExepath, 0, kExepath)
VIGIL_PEER_SETTER(SetInPeerCmdline, 0, kCmdline)
VIGIL_PEER_SETTER(SetInPeerPid, 0, kPid)
VIGIL_PEER_SETTER(SetInPeerPpid, 0, kPpid)
VIGIL_PEER_SETTER(SetOutPeerName, 1, kName)
VIGIL_PEER_SETTER(SetOutPeerExe, 1, kExe)
VIGIL_PEER_SETTER(SetOutPeerExepath, 1, kExepath)
VIGIL_PEER_SETTER(SetOutPeerCmdline, 1, kCmdline)
VIGIL_PEER_SETTER(SetOutPeerPid, 1, kPid)
VIGIL_PEER_SETTER(SetOutPeerPpid, 1, kPpid)
#undef VIGIL_PEER_SETTER

}  // namespace

void AppendStdioFields(std::vector<FieldDef>* v) {
  static constexpr const char* kTypes =
      "file (a regular file), pipe (a pipe or FIFO), socket, char (a character device: a terminal, /dev/null), "
      "directory, block, other (an inode with no file type: eventfd, epoll...), none (closed). Taken at exec and by "
      "the /proc scan: a descriptor changed by dup2() without a later exec is not seen.";
  v->push_back({"proc.stdin.type", T::kString, A::kNone, true,
                "What the process's standard input (fd 0) is, as the exec left it: "
                "file, pipe, socket, char, directory, block, other or none (see proc.stdout.type).",
                GetType, SetStdinType, 0});
  v->push_back({"proc.stdout.type", T::kString, A::kNone, true, kTypes, GetType, SetStdoutType, 1});
  v->push_back({"proc.stderr.type", T::kString, A::kNone, true, "What fd 2 is (as proc.stdout.type).", GetType,
                SetStderrType, 2});
  v->push_back({"proc.stdin.name", T::kString, A::kNone, true,
                "When standard input is a regular file (proc.stdin.type = file): its name, the last component of "
                "its path (`nc host port < /etc/passwd`: passwd), at most 63 bytes.",
                GetStdinName, SetStdinName, 0});
  struct Peer {
    const char* suffix;
    const char* what;
    int attr;
    FieldSetter in_set;
    FieldSetter out_set;
  };
  static constexpr Peer kPeers[] = {
      {"name", "name", kName, SetInPeerName, SetOutPeerName},
      {"exe", "argv[0]", kExe, SetInPeerExe, SetOutPeerExe},
      {"exepath", "executable path", kExepath, SetInPeerExepath, SetOutPeerExepath},
      {"cmdline", "name and arguments", kCmdline, SetInPeerCmdline, SetOutPeerCmdline},
      {"pid", "pid", kPid, SetInPeerPid, SetOutPeerPid},
      {"ppid", "parent's pid", kPpid, SetInPeerPpid, SetOutPeerPpid},
  };
  // The names and descriptions live as long as the table (static storage).
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> t;
    for (const Peer& p : kPeers) {
      t.push_back(std::string("proc.stdin.peer.") + p.suffix);
      t.push_back(std::string("The ") + p.what +
                  " of the live process writing into the pipe on this process's standard input (its stdout is "
                  "the same pipe): `curl URL | bash` gives bash proc.stdin.peer.name = curl. Known when both ends "
                  "exec'd (or were found by the /proc scan) with the pipe in place; when several hold that end, a sibling "
                  "(same parent: the other side of `a | b`) first, then the latest exec'd.");
      t.push_back(std::string("proc.stdout.peer.") + p.suffix);
      t.push_back(std::string("The ") + p.what +
                  " of the live process reading the pipe on this process's standard output (its stdin is the same "
                  "pipe): `curl URL | bash` gives curl proc.stdout.peer.name = bash. As proc.stdin.peer.name.");
    }
    return t;
  }();
  std::size_t i = 0;
  for (const Peer& p : kPeers) {
    T type = p.attr == kPid || p.attr == kPpid ? T::kNumber : T::kString;
    v->push_back({texts[i].c_str(), type, A::kNone, true, texts[i + 1].c_str(), GetPeer, p.in_set, 0 * 8 + p.attr});
    v->push_back({texts[i + 2].c_str(), type, A::kNone, true, texts[i + 3].c_str(), GetPeer, p.out_set,
                  1 * 8 + p.attr});
    i += 4;
  }
}

}  // namespace vigil
