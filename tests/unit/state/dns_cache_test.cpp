// SPDX-License-Identifier: Apache-2.0
// DNS names (issue 18): the cache's libsinsp schedule (10 s, doubling to
// 320 s while unchanged, reset on a change, idle after an hour unused), its
// bounds and failure accounting, and fd.sip.name/fd.cip.name/... in rules
// (`=`, `!=`, `in`, lists, exceptions; outputs) with an injected resolver:
// before this change these fields were always <NA>, so "Contact K8S API
// Server From Container" could never fire.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../engine/engine_test_util.h"
#include "engine/rule_engine.h"
#include "engine/state/dns_cache.h"

namespace vigil {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

DnsAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  DnsAddress x;
  x.family = 2;
  x.addr.bytes[0] = a, x.addr.bytes[1] = b, x.addr.bytes[2] = c, x.addr.bytes[3] = d;
  return x;
}

// A resolver answering from a map the test changes, counting lookups per name.
struct FakeDns {
  std::map<std::string, std::vector<DnsAddress>> answers;
  std::map<std::string, int> lookups;
  uint64_t now = 1000 * kSec;
  std::vector<std::string> logged;

  std::shared_ptr<DnsCache> Make() {
    return std::make_shared<DnsCache>(
        [this](const std::string& name, std::vector<DnsAddress>* out, std::string* error) {
          ++lookups[name];
          auto it = answers.find(name);
          if (it == answers.end()) {
            *error = "Name or service not known";
            return false;
          }
          *out = it->second;
          return true;
        },
        [this] { return now; }, [this](const std::string& line) { logged.push_back(line); });
  }
};

TEST_CASE("dns cache: resolved off the event path, refreshed on libsinsp's schedule", "[unit][state]") {
  FakeDns dns;
  dns.answers["api.example"] = {V4(10, 0, 0, 1), V4(10, 0, 0, 2)};
  auto cache = dns.Make();
  const int id = cache->Register("api.example");
  CHECK(cache->Register("api.example") == id);  // one id per name
  const DnsAddress a1 = V4(10, 0, 0, 1), a3 = V4(10, 0, 0, 3);

  // Nothing is looked up until the resolver runs: no match, no lookup.
  CHECK_FALSE(cache->Contains(id, 2, a1.addr));
  CHECK(dns.lookups["api.example"] == 0);

  CHECK(cache->RefreshDue(dns.now) == DnsCache::kBaseRefreshNs);
  CHECK(dns.lookups["api.example"] == 1);
  CHECK(cache->Contains(id, 2, a1.addr));
  CHECK_FALSE(cache->Contains(id, 2, a3.addr));
  CHECK_FALSE(cache->Contains(id, 10, a1.addr));  // same bytes, other family
  std::string name;
  REQUIRE(cache->NameOf(2, a1.addr, &name));
  CHECK(name == "api.example");
  CHECK_FALSE(cache->NameOf(2, a3.addr, &name));

  // Unchanged answers double the interval: due at +10, +30 (20 later), +70 ...
  const uint64_t t0 = dns.now;
  cache->RefreshDue(t0 + 9 * kSec);
  CHECK(dns.lookups["api.example"] == 1);
  cache->RefreshDue(t0 + 10 * kSec);
  CHECK(dns.lookups["api.example"] == 2);
  cache->RefreshDue(t0 + 29 * kSec);
  CHECK(dns.lookups["api.example"] == 2);
  cache->RefreshDue(t0 + 30 * kSec);
  CHECK(dns.lookups["api.example"] == 3);
  // A change takes effect at the next refresh and resets the interval to 10 s.
  dns.answers["api.example"] = {a3};
  cache->RefreshDue(t0 + 70 * kSec);
  CHECK(dns.lookups["api.example"] == 4);
  CHECK(cache->Contains(id, 2, a3.addr));
  CHECK_FALSE(cache->Contains(id, 2, a1.addr));
  cache->RefreshDue(t0 + 80 * kSec);
  CHECK(dns.lookups["api.example"] == 5);
  CHECK(cache->Stats().changes == 1);

  // The interval stops growing at 320 s.
  uint64_t t = t0 + 80 * kSec;
  for (int i = 0; i < 12; ++i) {
    dns.now = t += DnsCache::kMaxRefreshNs;
    cache->Contains(id, 2, a3.addr);  // in use: not idle
    cache->RefreshDue(t);
  }
  const int before = dns.lookups["api.example"];
  cache->RefreshDue(t + DnsCache::kMaxRefreshNs);
  CHECK(dns.lookups["api.example"] == before + 1);
}

TEST_CASE("dns cache: failures are counted, logged once, and keep the last addresses", "[unit][state]") {
  FakeDns dns;
  dns.answers["svc.example"] = {V4(10, 9, 9, 9)};
  auto cache = dns.Make();
  const int ok = cache->Register("svc.example");
  const int bad = cache->Register("nowhere.invalid");
  cache->RefreshDue(dns.now);
  CHECK(cache->Contains(ok, 2, V4(10, 9, 9, 9).addr));
  auto st = cache->Stats();
  CHECK(st.names == 2);
  CHECK(st.resolved == 1);
  CHECK(st.failures == 1);
  REQUIRE(dns.logged.size() == 1);
  CHECK(dns.logged[0].find("nowhere.invalid") != std::string::npos);

  // The resolver fails for the good name too: its addresses stay.
  dns.answers.clear();
  for (int i = 1; i <= 40; ++i) cache->RefreshDue(dns.now + static_cast<uint64_t>(i) * DnsCache::kMaxRefreshNs);
  CHECK(cache->Contains(ok, 2, V4(10, 9, 9, 9).addr));
  st = cache->Stats();
  CHECK(st.failures > 2);
  CHECK(dns.logged.size() == 2);  // once per name, not per lookup
  CHECK_FALSE(cache->Contains(bad, 2, V4(10, 9, 9, 9).addr));
}

TEST_CASE("dns cache: a name unused for an hour is not refreshed until used again", "[unit][state]") {
  FakeDns dns;
  dns.answers["quiet.example"] = {V4(10, 1, 1, 1)};
  auto cache = dns.Make();
  const int id = cache->Register("quiet.example");
  const uint64_t t0 = dns.now;
  cache->RefreshDue(t0);
  uint64_t t = t0;
  while (t < t0 + DnsCache::kIdleAfterNs + DnsCache::kMaxRefreshNs) cache->RefreshDue(t += 10 * kSec);
  CHECK(cache->Stats().idle == 1);
  const int idle_lookups = dns.lookups["quiet.example"];
  cache->RefreshDue(t += DnsCache::kMaxRefreshNs);
  CHECK(dns.lookups["quiet.example"] == idle_lookups);  // idle: not looked up
  dns.now = t;
  CHECK(cache->Contains(id, 2, V4(10, 1, 1, 1).addr));  // still the last addresses; marks it used
  CHECK(cache->Stats().idle == 0);
  cache->RefreshDue(t + 1);
  CHECK(dns.lookups["quiet.example"] == idle_lookups + 1);  // looked up again at once
}

TEST_CASE("dns cache: bounded names and addresses", "[unit][state]") {
  FakeDns dns;
  auto cache = dns.Make();
  for (std::size_t i = 0; i < DnsCache::kMaxNames; ++i) REQUIRE(cache->Register("n" + std::to_string(i)) >= 0);
  CHECK(cache->Register("one.too.many") == -1);
  CHECK(cache->Stats().refused == 1);

  FakeDns big;
  for (int i = 0; i < 200; ++i) big.answers["wide"].push_back(V4(10, 2, static_cast<uint8_t>(i), 1));
  auto c2 = big.Make();
  const int id = c2->Register("wide");
  c2->RefreshDue(big.now);
  int held = 0;
  for (int i = 0; i < 200; ++i) held += c2->Contains(id, 2, V4(10, 2, static_cast<uint8_t>(i), 1).addr) ? 1 : 0;
  CHECK(held == static_cast<int>(DnsCache::kMaxAddrsPerName));
}

// The rules side: the names come from the compiled conditions, exceptions
// included; the comparison is by address.
TEST_CASE("fd.*ip.name in rules: compared by address, rendered from the cache", "[unit][state]") {
  FakeDns dns;
  dns.answers["kubernetes.default"] = {V4(10, 1, 2, 3)};
  dns.answers["other.example"] = {V4(10, 7, 7, 7)};
  dns.answers["client.example"] = {V4(192, 168, 0, 5)};
  HostInfo host;
  host.dns = dns.Make();
  const std::string rules = R"YAML(
- list: api_names
  items: [kubernetes.default, kubernetes.default.svc]
- rule: api eq
  desc: d
  condition: evt.type = connect and fd.sip.name = kubernetes.default
  output: "to %fd.sip.name from %fd.cip.name (%fd.rip.name %fd.lip.name)"
  priority: NOTICE
- rule: api in list
  desc: d
  condition: evt.type = connect and fd.sip.name in (api_names)
  output: x
  priority: NOTICE
- rule: other
  desc: d
  condition: evt.type = connect and fd.rip.name = other.example
  output: x
  priority: NOTICE
- rule: not other
  desc: d
  condition: evt.type = connect and fd.sip.name != other.example
  output: x
  priority: NOTICE
- rule: client
  desc: d
  condition: evt.type = connect and fd.cip.name = client.example and fd.lip.name in (client.example)
  output: x
  priority: NOTICE
- rule: excepted
  desc: d
  condition: evt.type = connect and fd.sport = 443
  output: x
  priority: NOTICE
  exceptions:
    - name: known
      fields: [fd.sip.name]
      values: [[except.example]]
- rule: text ops
  desc: d
  condition: evt.type = connect and fd.sip.name startswith kubernetes
  output: x
  priority: NOTICE
)YAML";
  Diagnostics diags;
  auto eng = RuleEngine::LoadTexts({{"dns.yaml", rules}}, &diags, host);
  REQUIRE(eng != nullptr);
  INFO(diags.ToString());
  REQUIRE_FALSE(diags.HasErrors());
  for (const auto& r : eng->rules()) CHECK(r->na_condition_fields.empty());
  auto names = host.dns->Names();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"client.example", "except.example", "kubernetes.default",
                                          "kubernetes.default.svc", "other.example"});

  OwnedAncestors anc;
  Event e = testing::MakeConnect(&anc);  // 192.168.0.5:40000 -> 10.1.2.3:443
  auto fired = [&] {
    std::vector<const CompiledRule*> f;
    eng->Match(e, &f);
    std::vector<std::string> out;
    for (auto* r : f) out.push_back(r->name);
    return out;
  };
  // Not resolved yet: `=` false, `!=` true (no block, no lookup on this path).
  CHECK(fired() == std::vector<std::string>{"not other", "excepted"});
  CHECK(dns.lookups.empty());

  host.dns->RefreshDue(dns.now);
  CHECK(fired() == std::vector<std::string>{"api eq", "api in list", "not other", "client", "excepted", "text ops"});
  Alert a = eng->MakeAlert(*eng->FindRule("api eq"), e);
  CHECK(a.output == "to kubernetes.default from client.example (kubernetes.default client.example)");

  // The exception's name now resolves to the server: the rule is excepted
  // once it is looked up again (its failure doubled the interval to 20 s).
  dns.answers["except.example"] = {V4(10, 1, 2, 3)};
  host.dns->RefreshDue(dns.now + DnsCache::kBaseRefreshNs);
  CHECK(fired() == std::vector<std::string>{"api eq", "api in list", "not other", "client", "excepted", "text ops"});
  host.dns->RefreshDue(dns.now + 2 * DnsCache::kBaseRefreshNs);
  CHECK(fired() == std::vector<std::string>{"api eq", "api in list", "not other", "client", "text ops"});

  // Another server address: the names do not hold; rendering is <NA>.
  e.net.remote_addr.bytes[3] = 99;
  CHECK(fired() == std::vector<std::string>{"not other", "client", "excepted"});
  a = eng->MakeAlert(*eng->FindRule("api eq"), e);
  CHECK(a.output == "to <NA> from client.example (<NA> client.example)");
  e.net.remote_addr.bytes = V4(10, 7, 7, 7).addr.bytes;
  CHECK(fired() == std::vector<std::string>{"other", "client", "excepted"});

  // Not a socket event: false for every operator, as libsinsp.
  Event open = testing::MakeOpen(&anc);
  std::vector<const CompiledRule*> f;
  eng->Match(open, &f);
  CHECK(f.empty());
}

}  // namespace
}  // namespace vigil
