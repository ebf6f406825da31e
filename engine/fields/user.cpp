// SPDX-License-Identifier: Apache-2.0
// user.* and group.*: the process's ids, and their names from this host's
// /etc/passwd and /etc/group (HostInfo).
#include "engine/fields/family.h"

namespace vigil {
namespace {

enum UserId : uint16_t { kUid, kEuid, kName, kLoginuid, kLoginname, kGid, kGroupName };

bool NameOf(const std::string* name, FieldValueRef* o) { return name != nullptr && Str(o, *name); }

constexpr FieldDef kRows[] = {
    {kUid, "user.uid", T::kNumber, A::kNone, true, "User id.", VIGIL_GETTER { return Num(o, c.event->proc.uid); },
     SetMember},
    {kEuid, "user.euid", T::kNumber, A::kNone, true, "vigil: effective user id.",
     VIGIL_GETTER { return Num(o, c.event->proc.euid); }, SetMember},
    {kName, "user.name", T::kString, A::kNone, true, "User name (from this host's /etc/passwd).",
     VIGIL_GETTER { return NameOf(c.host->UserName(c.event->proc.uid), o); }, nullptr},
    {kLoginuid, "user.loginuid", T::kNumber, A::kNone, true, "Audit login uid (-1: unset).",
     VIGIL_GETTER {
       uint32_t v = c.event->proc.loginuid;
       return Num(o, v == kNoLoginUid ? -1 : static_cast<int64_t>(v));
     },
     SetMember},
    {kLoginname, "user.loginname", T::kString, A::kNone, true, "Name of the login uid.",
     VIGIL_GETTER { return NameOf(c.host->UserName(c.event->proc.loginuid), o); }, nullptr},
    {kGid, "group.gid", T::kNumber, A::kNone, true, "Group id.", VIGIL_GETTER { return Num(o, c.event->proc.gid); },
     SetMember},
    {kGroupName, "group.name", T::kString, A::kNone, true, "Group name (from this host's /etc/group).",
     VIGIL_GETTER { return NameOf(c.host->GroupName(c.event->proc.gid), o); }, nullptr},
};
static_assert(IdsInOrder(kRows));

}  // namespace

std::span<const FieldDef> UserFields() { return kRows; }

}  // namespace vigil
