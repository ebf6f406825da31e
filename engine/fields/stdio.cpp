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
#include <optional>
#include <string>

#include "engine/fields/family.h"

namespace vigil {

namespace {

enum StdioId : uint16_t {
  kStdinType, kStdoutType, kStderrType, kStdinName,
  kInPeerName, kOutPeerName, kInPeerExe, kOutPeerExe, kInPeerExepath, kOutPeerExepath,
  kInPeerCmdline, kOutPeerCmdline, kInPeerPid, kOutPeerPid, kInPeerPpid, kOutPeerPpid,
};

// Which pipe peer (0: the writer on our stdin, 1: the reader of our stdout)
// and which of its attributes each peer row reads (no attribute: its ppid), by id.
struct PeerRead {
  int which;
  std::optional<ProcAttr> attr;
};
constexpr PeerRead kPeerReads[] = {
    {0, ProcAttr::kName},    {1, ProcAttr::kName},    {0, ProcAttr::kExe},     {1, ProcAttr::kExe},
    {0, ProcAttr::kExepath}, {1, ProcAttr::kExepath}, {0, ProcAttr::kCmdline}, {1, ProcAttr::kCmdline},
    {0, ProcAttr::kPid},     {1, ProcAttr::kPid},     {0, std::nullopt},       {1, std::nullopt},
};
static_assert(std::size(kPeerReads) == kOutPeerPpid - kInPeerName + 1);

bool GetType(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  StdioType t = c.event->proc.stdio[d.id - kStdinType].type;
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

bool GetPeer(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  if (c.event->ancestors == nullptr) return false;
  const PeerRead& r = kPeerReads[d.id - kInPeerName];
  const ProcessInfo* peer = c.event->ancestors->StdioPeer(r.which);
  if (peer == nullptr) return false;
  if (!r.attr) return o->num = peer->ppid, true;
  return GetProcessAttr(*peer, *r.attr, s, o);
}

std::string SetType(Event& e, std::size_t fd, std::string_view t) {
  if (!StdioTypeFromName(t, &e.proc.stdio[fd].type))
    return "expected file, pipe, socket, char, directory, block, other or none, got '" + std::string(t) + "'";
  return "";
}

std::string SetStdinName(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (e.proc.stdio[0].type == StdioType::kUnknown) e.proc.stdio[0].type = StdioType::kFile;
  e.proc.stdin_name = std::string(t);
  return "";
}

// A test that names a peer has a pipe on that descriptor.
std::string SetPeer(Event& e, OwnedAncestors& a, std::size_t which, std::optional<ProcAttr> attr, std::string_view t) {
  if (!a.peers[which]) a.peers[which].emplace();
  StdioFd& fd = e.proc.stdio[which];
  if (fd.type == StdioType::kUnknown) fd.type = StdioType::kPipe;
  ProcessInfo& peer = *a.peers[which];
  if (!attr) {
    uint32_t v = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) return "expected a pid, got '" + std::string(t) + "'";
    peer.ppid = v;
    return "";
  }
  return SetProcessAttr(&peer, *attr, t);
}

#define STDOUT_TYPES                                                                                            \
  "file (a regular file), pipe (a pipe or FIFO), socket, char (a character device: a terminal, /dev/null), "   \
  "directory, block, other (an inode with no file type: eventfd, epoll...), none (closed). Taken at exec and by " \
  "the /proc scan: a descriptor changed by dup2() without a later exec is not seen."
#define STDIN_PEER(what)                                                                                        \
  "The " what                                                                                                  \
  " of the live process writing into the pipe on this process's standard input (its stdout is "                \
  "the same pipe): `curl URL | bash` gives bash proc.stdin.peer.name = curl. Known when both ends "             \
  "exec'd (or were found by the /proc scan) with the pipe in place; when several hold that end, a sibling "     \
  "(same parent: the other side of `a | b`) first, then the latest exec'd."
#define STDOUT_PEER(what)                                                                                       \
  "The " what                                                                                                  \
  " of the live process reading the pipe on this process's standard output (its stdin is the same "             \
  "pipe): `curl URL | bash` gives curl proc.stdout.peer.name = bash. As proc.stdin.peer.name."
#define PEER_ROWS(in_id, out_id, suffix, type, what, attr)                                                    \
  {in_id, "proc.stdin.peer." suffix, type, A::kNone, true, STDIN_PEER(what), GetPeer,                           \
   VIGIL_SETTER { return SetPeer(e, anc, 0, attr, t); }},                                                        \
  {out_id, "proc.stdout.peer." suffix, type, A::kNone, true, STDOUT_PEER(what), GetPeer,                       \
   VIGIL_SETTER { return SetPeer(e, anc, 1, attr, t); }}

constexpr FieldDef kRows[] = {
    {kStdinType, "proc.stdin.type", T::kString, A::kNone, true,
     "What the process's standard input (fd 0) is, as the exec left it: "
     "file, pipe, socket, char, directory, block, other or none (see proc.stdout.type).",
     GetType, VIGIL_SETTER { return SetType(e, 0, t); }},
    {kStdoutType, "proc.stdout.type", T::kString, A::kNone, true, STDOUT_TYPES, GetType,
     VIGIL_SETTER { return SetType(e, 1, t); }},
    {kStderrType, "proc.stderr.type", T::kString, A::kNone, true, "What fd 2 is (as proc.stdout.type).", GetType,
     VIGIL_SETTER { return SetType(e, 2, t); }},
    {kStdinName, "proc.stdin.name", T::kString, A::kNone, true,
     "When standard input is a regular file (proc.stdin.type = file): its name, the last component of "
     "its path (`nc host port < /etc/passwd`: passwd), at most 63 bytes.",
     GetStdinName, SetStdinName},
    PEER_ROWS(kInPeerName, kOutPeerName, "name", T::kString, "name", ProcAttr::kName),
    PEER_ROWS(kInPeerExe, kOutPeerExe, "exe", T::kString, "argv[0]", ProcAttr::kExe),
    PEER_ROWS(kInPeerExepath, kOutPeerExepath, "exepath", T::kString, "executable path", ProcAttr::kExepath),
    PEER_ROWS(kInPeerCmdline, kOutPeerCmdline, "cmdline", T::kString, "name and arguments", ProcAttr::kCmdline),
    PEER_ROWS(kInPeerPid, kOutPeerPid, "pid", T::kNumber, "pid", ProcAttr::kPid),
    PEER_ROWS(kInPeerPpid, kOutPeerPpid, "ppid", T::kNumber, "parent's pid", std::nullopt),
};
static_assert(IdsInOrder(kRows));
#undef PEER_ROWS
#undef STDOUT_PEER
#undef STDIN_PEER
#undef STDOUT_TYPES

}  // namespace

std::span<const FieldDef> StdioFields() { return kRows; }

}  // namespace vigil
