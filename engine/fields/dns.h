// SPDX-License-Identifier: Apache-2.0
// fd.sip.name, fd.cip.name, fd.lip.name, fd.rip.name: the DNS names of an
// event's addresses, from the DnsCache of the names the rules compare them
// with (engine/state/dns_cache.h, reached through HostInfo::dns).
//
// As libsinsp: `=`, `!=` and `in` (exceptions too) hold when the event's
// address is among a compared name's current addresses (the compiler builds
// a DnsNameCheck for them, engine/compile/dns_check.h); the value read for
// outputs and the other operators is the first registered name whose
// addresses hold the event's address, `<NA>` when none does (or no cache).
#pragma once

#include <cstdint>

#include "engine/fields/field_table.h"

namespace vigil {

// True for the four DNS name fields.
bool IsDnsNameField(const FieldDef& def);
// The address `def` (a DNS name field) names for this event: fd.sip's for
// fd.sip.name, and so on. False when the event has no IP endpoint.
bool DnsFieldAddress(const FieldDef& def, const FieldContext& ctx, uint16_t* family, IpAddr* addr);

}  // namespace vigil
