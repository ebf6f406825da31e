// SPDX-License-Identifier: Apache-2.0
// `fd.sip.name = NAME` (and fd.cip.name, fd.lip.name, fd.rip.name with `=`,
// `!=`, `in`, `intersects`): libsinsp's DNS comparison. The names are
// registered with the DnsCache at load; per event the check reads the
// field's address and asks the cache whether a name resolves to it now
// (engine/state/dns_cache.h: no lookup on this path, only the cache's lock).
// `!=` is the negation of `=`; an event without an IP endpoint is false for
// every operator, as libsinsp's compare_domain.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/compile/checks.h"

namespace vigil {
class DnsCache;
}

namespace vigil::compile {

// True when `field` (no transformers) with `op` compares by address.
bool IsDnsNameCompare(const FieldAccessor& field, condition::CmpOp op);
// Requires IsDnsNameCompare(*field, op). `dns` must outlive the check.
std::unique_ptr<Check> MakeDnsNameCheck(std::unique_ptr<FieldAccessor> field, condition::CmpOp op,
                                        const std::vector<std::string>& names, DnsCache* dns);

}  // namespace vigil::compile
