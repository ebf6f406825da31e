// SPDX-License-Identifier: Apache-2.0
// Falco's own rules files (shared/corpus/falco-rules, beside the repository)
// load with zero errors. Also prints the compatibility figures.
#include <catch2/catch.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/rule_engine.h"
#include "engine/state/dns_cache.h"
#include "engine_test_util.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

TEST_CASE("Falco rules files load without errors", "[unit]") {
  const std::pair<const char*, std::size_t> rules_per_file[] = {
      {"falco_rules.yaml", 25}, {"falco-incubating_rules.yaml", 31}, {"falco-sandbox_rules.yaml", 37}};
  for (const auto& [file, rules] : rules_per_file) {
    std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/" + file;
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    INFO(path << "\n" << diags.ToString());
    CHECK(diags.ErrorCount() == 0);
    REQUIRE(eng != nullptr);
    const auto& s = eng->stats();
    CHECK(s.rules_defined == rules);
    CHECK(s.rules_loaded == rules);
    std::printf("compat: %-28s rules %zu, loaded %zu, enabled %zu, referencing <NA> fields %zu, warnings %zu\n",
                file, s.rules_defined, s.rules_loaded, s.rules_enabled, s.rules_with_na, diags.WarningCount());
  }
}

// Regression (issue 18): Falco's "Run shell untrusted" never fired because
// `proc.aname in (protected_shell_spawning_binaries)` required every ancestor
// to be in the list. libsinsp is true when any one ancestor is (compare_full_aname).
// A bash spawned by nginx under systemd (event-generator's "run shell untrusted"
// pattern) must fire it; the same bash under sshd must not.
TEST_CASE("Falco ancestor-list rules fire as in libsinsp", "[unit]") {
  std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml";
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  const vigil::CompiledRule* rule = eng->FindRule("Run shell untrusted");
  REQUIRE(rule != nullptr);
  const std::pair<std::string, bool> rows[] = {{"nginx", true}, {"sshd", false}};  // bash's parent (in /usr/sbin)
  for (const auto& [parent, fires] : rows) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeExec(&anc);
    anc.chain[0].name = parent;
    anc.chain[0].exepath = "/usr/sbin/" + parent;
    anc.chain[0].argv = {parent};
    INFO(parent << "\n" << eng->Explain(*rule, e));
    CHECK(eng->Matches(*rule, e) == fires);
  }
}

// Regression (issue 18): Falco's "Set Setuid or Setgid bit" checks
// `evt.arg.mode contains "S_ISUID"`; vigil rendered the mode in octal, so the
// rule never fired. event-generator's chmod action sets 04755 (fires); 0755 must not.
TEST_CASE("Falco chmod-mode rules fire as in libsinsp", "[unit]") {
  std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml";
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  const vigil::CompiledRule* rule = eng->FindRule("Set Setuid or Setgid bit");
  REQUIRE(rule != nullptr);
  const std::pair<uint32_t, bool> rows[] = {{04755, true}, {02755, true}, {0755, false}};
  for (const auto& [mode, fires] : rows) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeExec(&anc);
    e.type = vigil::EventType::fchmodat;
    e.file.path = "/tmp/event-generator-bin";
    e.file.mode = mode;
    INFO(mode << "\n" << eng->Explain(*rule, e));
    CHECK(eng->Matches(*rule, e) == fires);
  }
}

// Regression (issue 18): "Contact K8S API Server From Container" compares
// fd.sip.name with kubernetes.default.svc.cluster.local; the field was always
// <NA>, so the rule could never fire. With the name resolved (an injected
// resolver here; getaddrinfo under `vigil run`), a container's connect to the
// API server's address fires it, and a connect elsewhere or from the host does not.
TEST_CASE("Falco's K8S API server rule fires on the resolved address", "[unit]") {
  vigil::HostInfo host;
  host.dns = std::make_shared<vigil::DnsCache>(
      [](const std::string& name, std::vector<vigil::DnsAddress>* out, std::string* error) {
        if (name != "kubernetes.default.svc.cluster.local") {
          *error = "Name or service not known";
          return false;
        }
        vigil::DnsAddress a;
        a.family = 2;
        a.addr.bytes[0] = 10, a.addr.bytes[1] = 96, a.addr.bytes[3] = 1;  // 10.96.0.1
        out->push_back(a);
        return true;
      });
  std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml";
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({path}, &diags, host);
  REQUIRE(eng != nullptr);
  const vigil::CompiledRule* rule = eng->FindRule("Contact K8S API Server From Container");
  REQUIRE(rule != nullptr);
  CHECK(rule->never_fires.empty());
  host.dns->RefreshDue(1);
  struct Row {
    uint8_t last_octet;
    const char* container;
    bool fires;
  };
  const Row rows[] = {{1, "0123456789ab", true}, {2, "0123456789ab", false}, {1, "", false}};  // "": the host
  for (const auto& row : rows) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeConnect(&anc);
    e.net.remote_addr = vigil::IpAddr{};
    e.net.remote_addr.bytes[0] = 10, e.net.remote_addr.bytes[1] = 96, e.net.remote_addr.bytes[3] = row.last_octet;
    e.proc.container_id = row.container;
    INFO(row.container << " 10.96.0." << int(row.last_octet) << "\n" << eng->Explain(*rule, e));
    CHECK(eng->Matches(*rule, e) == row.fires);
  }
}

// Issue 18: Falco's "Drop and execute new binary in container" rests on
// proc.is_exe_upper_layer, which was always <NA> (the rule could never fire).
// A container exec from the overlay's upper layer fires it; from a lower
// layer, from an unknown layer, or on the host it does not. The sandbox's
// "Container Drift Detected (open+create)" rests on evt.is_open_exec.
TEST_CASE("Falco drift rules fire on the upper layer and on executable creation", "[unit]") {
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml"}, &diags,
                                     vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  const vigil::CompiledRule* rule = eng->FindRule("Drop and execute new binary in container");
  REQUIRE(rule != nullptr);
  CHECK(rule->never_fires.empty());
  struct Row {
    vigil::ExeLayer layer;
    const char* container;
    bool fires;
  };
  const Row rows[] = {
      {vigil::ExeLayer::kUpper, "0123456789ab", true},
      {vigil::ExeLayer::kNotUpper, "0123456789ab", false},
      {vigil::ExeLayer::kUnknown, "0123456789ab", false},
      {vigil::ExeLayer::kUpper, "host", false},
  };
  for (const auto& row : rows) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeExec(&anc);
    e.proc.exepath = "/tmp/dropped";
    e.proc.container_id = row.container;
    e.proc.exe_layer = row.layer;
    INFO(static_cast<int>(row.layer) << " " << row.container << "\n" << eng->Explain(*rule, e));
    CHECK(eng->Matches(*rule, e) == row.fires);
  }

  auto sandbox = vigil::RuleEngine::Load({std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml"}, &diags,
                                         vigil::HostInfo{});
  REQUIRE(sandbox != nullptr);
  const vigil::CompiledRule* drift = sandbox->FindRule("Container Drift Detected (open+create)");
  REQUIRE(drift != nullptr);
  CHECK(drift->never_fires.empty());
  for (const auto& [mode, fires] : std::vector<std::pair<uint32_t, bool>>{{0755, true}, {0644, false}}) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeExec(&anc);
    e.type = vigil::EventType::openat;
    e.res = 3;
    e.proc.container_id = "0123456789ab";
    e.file.path = e.file.abspath = "/usr/local/bin/miner";
    e.file.flags = 01 | 0100 | vigil::kOpenFlagCreated;  // O_WRONLY|O_CREAT, created
    e.file.mode = mode;
    INFO(mode << "\n" << sandbox->Explain(*drift, e));
    CHECK(sandbox->Matches(*drift, e) == fires);
  }
}

// Issue 18: the Falco rules that can never fire in vigil are warned about at
// load (located, with the reason). The list is what docs/rules.md shows; a
// change in capture or fields changes it here first.
TEST_CASE("Falco rules that can never fire in vigil are named", "[unit]") {
  std::set<std::string> expected = {
#include "falco_never_fire.inc"
  };
  std::set<std::string> actual;
  for (const char* file : {"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}) {
    std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/" + file;
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    REQUIRE(eng != nullptr);
    std::size_t warned = 0;
    for (const auto& d : diags.items())
      if (d.message.rfind("rule can never fire in vigil: ", 0) == 0) ++warned;
    for (const auto& r : eng->rules()) {
      if (r->never_fires.empty()) continue;
      std::printf("never fires: %s: %s%s: %s\n", file, r->name.c_str(), r->enabled ? "" : " (disabled)",
                  r->never_fires.c_str());
      if (r->enabled) actual.insert(r->name);
    }
    CHECK(warned == eng->stats().rules_never_fire);
  }
  CHECK(actual == expected);
}

// Issue 18: Falco's sandbox rule "Java Process Class File Download" reads
// `evt.buffer bcontains cafebabe` on a java process's recvfrom; evt.buffer was
// always <NA>, so the rule could never fire. event-generator's action (a
// process named java receiving CAFEBABE over UDP on localhost:1234) fires it;
// the same datagram to another program, or other bytes, does not.
TEST_CASE("Falco's Java class file download rule reads evt.buffer", "[unit]") {
  std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml";
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  const vigil::CompiledRule* rule = eng->FindRule("Java Process Class File Download");
  REQUIRE(rule != nullptr);
  CHECK(rule->needs_buffer);
  CHECK(rule->never_fires.empty());
  struct Row {
    const char* exe;
    std::string bytes;
    bool captured;
    bool fires;
  };
  const Row rows[] = {
      {"/usr/lib/jvm/bin/java", std::string("\xca\xfe\xba\xbe", 4), true, true},
      {"/usr/lib/jvm/bin/java", std::string("\x00\x00\xca\xfe\xba\xbe\x00\x37", 8), true, true},
      {"/usr/lib/jvm/bin/java", "HTTP/1.1 200 OK", true, false},
      {"/usr/lib/jvm/bin/java", std::string("\xca\xfe\xba\xbe", 4), false, false},  // not captured: <NA>
      {"/usr/bin/python3", std::string("\xca\xfe\xba\xbe", 4), true, false},
  };
  for (const auto& row : rows) {
    vigil::OwnedAncestors anc;
    vigil::Event e = vigil::testing::MakeConnect(&anc);
    e.type = vigil::EventType::recvfrom;
    e.net.type = 2;  // SOCK_DGRAM
    e.res = static_cast<int64_t>(row.bytes.size());
    e.proc.exepath = row.exe;
    e.proc.argv = {row.exe};
    e.net.data.bytes = row.captured ? row.bytes : std::string();
    e.net.data.captured = row.captured;
    INFO(row.exe << " " << row.bytes.size() << " bytes\n" << eng->Explain(*rule, e));
    CHECK(eng->Matches(*rule, e) == row.fires);
  }
}
