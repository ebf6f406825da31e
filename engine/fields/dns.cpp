// SPDX-License-Identifier: Apache-2.0
// fd.lip.name, fd.rip.name, fd.sip.name, fd.cip.name (dns.h).
#include "engine/fields/dns.h"

#include "engine/fields/family.h"
#include "engine/state/dns_cache.h"

namespace vigil {
namespace {

enum DnsId : uint16_t { kLipName, kRipName, kSipName, kCipName };

// The socket end whose address each row names, by id.
constexpr SocketEnd kEnds[] = {SocketEnd::kLocal, SocketEnd::kRemote, SocketEnd::kServer, SocketEnd::kClient};

bool GetDnsName(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  if (c.host == nullptr || c.host->dns == nullptr) return false;
  uint16_t family = 0;
  IpAddr addr;
  if (!DnsFieldAddress(d, c, &family, &addr)) return false;
  if (!c.host->dns->NameOf(family, addr, &s.buf)) return false;
  o->str = s.buf;
  return true;
}

#define DNS_WHAT                                                                                               \
  " DNS name: `=`, `!=` and `in` hold when the address is one the compared name resolves to now (names "       \
  "the loaded rules compare it with are resolved in the background with getaddrinfo, libsinsp's refresh "      \
  "schedule; docs/state.md \"DNS names\"); read or rendered: such a name holding the address, else <NA>."

constexpr FieldDef kRows[] = {
    {kLipName, "fd.lip.name", T::kString, A::kNone, true, "Local IP's" DNS_WHAT, GetDnsName, nullptr},
    {kRipName, "fd.rip.name", T::kString, A::kNone, true, "Remote IP's" DNS_WHAT, GetDnsName, nullptr},
    {kSipName, "fd.sip.name", T::kString, A::kNone, true, "Server IP's" DNS_WHAT, GetDnsName, nullptr},
    {kCipName, "fd.cip.name", T::kString, A::kNone, true, "Client IP's" DNS_WHAT, GetDnsName, nullptr},
};
static_assert(IdsInOrder(kRows) && std::size(kRows) == std::size(kEnds));
#undef DNS_WHAT

}  // namespace

bool IsDnsNameField(const FieldDef& def) { return def.get == GetDnsName; }

bool DnsFieldAddress(const FieldDef& def, const FieldContext& ctx, uint16_t* family, IpAddr* addr) {
  return SocketAddress(*ctx.event, kEnds[def.id], family, addr);
}

std::span<const FieldDef> DnsFields() { return kRows; }

}  // namespace vigil
