// SPDX-License-Identifier: Apache-2.0
// ns.*: the process's namespace inodes and pid namespace depth, and whether
// it shares the host's (PID 1's) namespaces; proc.is_vigil_self.
#include "engine/fields/family.h"

namespace vigil {
namespace {

enum NsId : uint16_t {
  kPid, kMnt, kNet, kUser, kUts, kIpc, kCgroup, kIsHostMntNs, kIsHostPidNs, kIsHostNetNs, kIsVigilSelf, kPidLevel,
};

bool GetNsInode(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Namespaces& n = c.event->proc.ns;
  const uint64_t vals[] = {n.pid, n.mnt, n.net, n.user, n.uts, n.ipc, n.cgroup};
  return Num(o, static_cast<int64_t>(vals[d.id - kPid]));
}

// False when either side is unknown.
bool GetIsHostNs(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Namespaces& n = c.event->proc.ns;
  const Namespaces& h = c.host->host_ns;
  const uint64_t mine[] = {n.mnt, n.pid, n.net};
  const uint64_t host[] = {h.mnt, h.pid, h.net};
  const std::size_t i = d.id - kIsHostMntNs;
  return Bool(o, mine[i] != 0 && mine[i] == host[i]);
}

#define NS_INODE_ROW(id, name) {id, name, T::kNumber, A::kNone, true, "vigil: namespace inode (0 unknown).", GetNsInode, SetMember}

constexpr FieldDef kRows[] = {
    NS_INODE_ROW(kPid, "ns.pid"),
    NS_INODE_ROW(kMnt, "ns.mnt"),
    NS_INODE_ROW(kNet, "ns.net"),
    NS_INODE_ROW(kUser, "ns.user"),
    NS_INODE_ROW(kUts, "ns.uts"),
    NS_INODE_ROW(kIpc, "ns.ipc"),
    NS_INODE_ROW(kCgroup, "ns.cgroup"),
    {kIsHostMntNs, "proc.is_host_mnt_ns", T::kBool, A::kNone, true,
     "vigil: the process is in the host's (PID 1's) mount namespace.", GetIsHostNs, nullptr},
    {kIsHostPidNs, "proc.is_host_pid_ns", T::kBool, A::kNone, true,
     "vigil: the process is in the host's (PID 1's) pid namespace.", GetIsHostNs, nullptr},
    {kIsHostNetNs, "proc.is_host_net_ns", T::kBool, A::kNone, true,
     "vigil: the process is in the host's (PID 1's) network namespace.", GetIsHostNs, nullptr},
    {kIsVigilSelf, "proc.is_vigil_self", T::kBool, A::kNone, true,
     "vigil: the process is the vigil agent evaluating this event (its pid is the agent's own); false in replay.",
     VIGIL_GETTER { return Bool(o, c.host->sensor_pid != 0 && c.event->proc.pid == c.host->sensor_pid); }, nullptr},
    {kPidLevel, "ns.pid_level", T::kNumber, A::kNone, true, "vigil: depth of the process's pid namespace (0 host).",
     VIGIL_GETTER { return Num(o, c.event->proc.pidns_level); },
     VIGIL_SETTER { return SetNumber(t, [&](int64_t v) { e.proc.pidns_level = static_cast<uint32_t>(v); }); }},
};
static_assert(IdsInOrder(kRows));
#undef NS_INODE_ROW

}  // namespace

std::span<const FieldDef> NsFields() { return kRows; }

}  // namespace vigil
