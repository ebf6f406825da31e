// SPDX-License-Identifier: Apache-2.0
// The DNS names rules compare fd.sip.name, fd.cip.name, fd.lip.name and
// fd.rip.name against, and their current addresses, as libsinsp's DNS manager
// keeps them: `fd.sip.name = NAME` holds when the event's server address is
// one NAME resolves to now; rendering `%fd.sip.name` gives a name whose
// addresses hold the event's address.
//
// Contract:
// - Names come from the loaded rules only: Register() is called at load (the
//   compiler, for `=`, `!=`, `in` and exception values on these fields), never
//   per event. At most kMaxNames names (more are refused and counted) and
//   kMaxAddrsPerName addresses per name (the rest ignored): the cache's memory
//   is bounded by the ruleset, not by traffic.
// - Thread-safe. The event path (Contains, NameOf) takes one mutex for a scan
//   of a few addresses; it is never held across a lookup, so no event waits
//   for DNS. Lookups run on the resolver thread (Start()) or on the caller of
//   RefreshDue() (tests); the resolver is injected (SystemResolver():
//   getaddrinfo, so /etc/hosts and the system's resolvers answer).
// - Schedule (libsinsp's): a name is resolved as soon as the resolver starts,
//   then again kBaseRefreshNs later; each refresh that finds the same
//   addresses doubles the interval up to kMaxRefreshNs, a change resets it. A
//   name the event path has not compared or rendered for kIdleAfterNs stops
//   being refreshed (libsinsp erases it; here it keeps its last addresses,
//   since the set of names is fixed by the rules) and is refreshed again at
//   once when it is used next.
// - Until a name's first lookup has answered it has no addresses: `=` is
//   false and `!=` true for it (libsinsp instead resolves synchronously on the
//   first comparison, blocking that event).
// - A failed lookup keeps the previous addresses, is counted, and is logged
//   once per name (through the log hook) until the name resolves again.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/event.h"
#include "engine/non_copyable.h"

namespace vigil {

struct DnsAddress {
  uint16_t family = 0;  // 2 (AF_INET) or 10 (AF_INET6)
  IpAddr addr;
  bool operator==(const DnsAddress& o) const { return family == o.family && addr.bytes == o.addr.bytes; }
};

// Resolves `name` into *out (cleared first); false and *error on failure.
using DnsResolver = std::function<bool(const std::string& name, std::vector<DnsAddress>* out, std::string* error)>;

struct DnsCacheStats {
  std::size_t names = 0;      // registered
  std::size_t resolved = 0;   // names with at least one address now
  std::size_t idle = 0;       // names not used for kIdleAfterNs (not refreshed)
  uint64_t lookups = 0;       // lookups made
  uint64_t failures = 0;      // lookups that failed (no answer, or no address)
  uint64_t changes = 0;       // lookups whose addresses differed from the previous ones
  uint64_t refused = 0;       // names not registered: kMaxNames reached
};

class DnsCache : NonCopyable {
 public:
  static constexpr uint64_t kBaseRefreshNs = 10'000'000'000ull;    // 10 s
  static constexpr uint64_t kMaxRefreshNs = 320'000'000'000ull;    // 320 s
  static constexpr uint64_t kIdleAfterNs = 3'600'000'000'000ull;   // 1 h
  static constexpr std::size_t kMaxNames = 1024;
  static constexpr std::size_t kMaxAddrsPerName = 64;

  // `now_ns`: a monotonic clock (default CLOCK_MONOTONIC); `log`: called
  // with one line for each name's first failure (default: none).
  explicit DnsCache(DnsResolver resolver, std::function<uint64_t()> now_ns = {},
                    std::function<void(const std::string&)> log = {});
  ~DnsCache();  // stops the resolver thread (a lookup in flight finishes on its own)

  // getaddrinfo(name, AF_UNSPEC): every IPv4 and IPv6 address, deduplicated.
  static DnsResolver SystemResolver();

  // Load time. The id of `name` (the same for the same text), or -1 when
  // kMaxNames are registered already (counted in `refused`).
  int Register(std::string_view name);
  // Event path. True when the name `id` resolves to (family, addr) now.
  // Marks the name used.
  bool Contains(int id, uint16_t family, const IpAddr& addr) const;
  // Event path (outputs, string operators). The first registered name whose
  // addresses hold (family, addr), copied into *out; false when none.
  bool NameOf(uint16_t family, const IpAddr& addr, std::string* out) const;

  // Looks up every name that is due at `now_ns` (in registration order) and
  // returns the time until the next one is due (at most kBaseRefreshNs).
  // The resolver thread calls it; tests call it directly.
  uint64_t RefreshDue(uint64_t now_ns);
  // Starts the resolver thread (idempotent). Without it nothing resolves.
  // `log`, when given, replaces the constructor's failure log hook.
  void Start(std::function<void(const std::string&)> log = {});
  // Takes over `old`'s addresses for the names both have (a rules reload
  // keeps what is known instead of starting empty); they are still looked up
  // again as soon as this cache's resolver starts.
  void AdoptAddresses(const DnsCache& old);

  DnsCacheStats Stats() const;
  std::vector<std::string> Names() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> s_;  // shared with the resolver thread, which may outlive a lookup in flight
};

}  // namespace vigil
