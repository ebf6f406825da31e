// SPDX-License-Identifier: Apache-2.0
#include "engine/fields/field_dns.h"

#include <array>
#include <string_view>

#include "engine/state/dns_cache.h"

namespace vigil {
namespace {

// The address rows (fd.lip, fd.rip, fd.sip, fd.cip), copied from the table
// as it is built, so these fields read exactly what those do.
std::array<FieldDef, 4> g_addr_rows{};

bool GetDnsName(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  if (c.host == nullptr || c.host->dns == nullptr) return false;
  uint16_t family = 0;
  IpAddr addr;
  if (!DnsFieldAddress(d, c, &family, &addr)) return false;
  if (!c.host->dns->NameOf(family, addr, &s.buf)) return false;
  o->str = s.buf;
  return true;
}

}  // namespace

bool IsDnsNameField(const FieldDef& def) { return def.get == GetDnsName; }

bool DnsFieldAddress(const FieldDef& def, const FieldContext& ctx, uint16_t* family, IpAddr* addr) {
  const FieldDef& row = g_addr_rows[static_cast<std::size_t>(def.param)];
  if (row.get == nullptr) return false;
  Scratch unused;
  FieldValueRef v;
  if (!row.get(row, ctx, FieldArg{}, unused, &v)) return false;
  *family = v.family;
  *addr = v.ip;
  return true;
}

// Called while AllFields() builds the table, after the fd.* address rows.
void AppendDnsFields(std::vector<FieldDef>* v) {
  static constexpr std::array<std::string_view, 4> kAddr = {"fd.lip", "fd.rip", "fd.sip", "fd.cip"};
  for (std::size_t i = 0; i < kAddr.size(); ++i)
    for (const auto& row : *v)
      if (row.name == kAddr[i]) g_addr_rows[i] = row;
  const char* kWhat =
      " DNS name: `=`, `!=` and `in` hold when the address is one the compared name resolves to now (names "
      "the loaded rules compare it with are resolved in the background with getaddrinfo, libsinsp's refresh "
      "schedule; docs/state.md \"DNS names\"); read or rendered: such a name holding the address, else <NA>.";
  v->push_back({"fd.lip.name", FieldType::kString, ArgKind::kNone, true, nullptr, GetDnsName, nullptr, 0});
  v->push_back({"fd.rip.name", FieldType::kString, ArgKind::kNone, true, nullptr, GetDnsName, nullptr, 1});
  v->push_back({"fd.sip.name", FieldType::kString, ArgKind::kNone, true, nullptr, GetDnsName, nullptr, 2});
  v->push_back({"fd.cip.name", FieldType::kString, ArgKind::kNone, true, nullptr, GetDnsName, nullptr, 3});
  static const std::array<std::string, 4> kDesc = {"Local IP's" + std::string(kWhat), "Remote IP's" + std::string(kWhat),
                                                   "Server IP's" + std::string(kWhat), "Client IP's" + std::string(kWhat)};
  for (std::size_t i = 0; i < 4; ++i) (*v)[v->size() - 4 + i].description = kDesc[i].c_str();
}

}  // namespace vigil
