// SPDX-License-Identifier: Apache-2.0
// DeriveInterest: which event types a ruleset can use (engine/interest.h).
#include <catch2/catch.hpp>

#include "engine/interest.h"
#include "engine_test_util.h"

namespace {

using vigil::EventType;

bool Has(const vigil::Interest& in, EventType t) { return in.types.test(static_cast<std::size_t>(t)); }

using vigil::testing::LoadCleanText;

}  // namespace

TEST_CASE("interest: derived from the enabled rules, state types always", "[unit]") {
  const std::string exec_rule =
      "- rule: shell\n  desc: d\n  condition: evt.type in (execve, execveat) and proc.name = bash\n"
      "  output: o\n  priority: WARNING\n";
  const std::string open_rule =
      "- rule: shadow\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/shadow\n"
      "  output: o\n  priority: WARNING\n";
  const std::string any_rule =
      "- rule: any\n  desc: d\n  condition: proc.name = nc\n  output: o\n  priority: WARNING\n";
  const std::string not_rule =  // `not` of an exact evt.type check: every other type
      "- rule: notopen\n  desc: d\n  condition: not evt.type = openat and proc.name = nc\n"
      "  output: o\n  priority: WARNING\n";
  const std::string disabled_open = open_rule + "  enabled: false\n";
  const std::string exc_rule =  // exceptions never widen or narrow the set
      "- rule: conn\n  desc: d\n  condition: evt.type = connect\n  output: o\n  priority: WARNING\n"
      "  exceptions:\n  - name: e\n    fields: [evt.type]\n    values: [[openat]]\n";
  struct Row {
    const char* name;
    std::string text;
    std::vector<EventType> in;
    std::vector<EventType> out;
    bool unrestricted;
  };
  const std::string send_rule =  // types past the 64th (the interest mask's second word)
      "- rule: send\n  desc: d\n  condition: evt.type in (sendto, sendmsg) and fd.sport = 3333\n"
      "  output: o\n  priority: WARNING\n";
  const std::string rmx_rule =  // issue 18: the removexattr family, sent only when named
      "- rule: rmx\n  desc: d\n  condition: evt.type in (removexattr, fremovexattr) and evt.arg.name = security.ima\n"
      "  output: o\n  priority: WARNING\n";
  const std::vector<Row> rows = {
      {"exec only", exec_rule, {EventType::execve, EventType::clone, EventType::procexit, EventType::setuid,
                                EventType::capset, EventType::setns, EventType::unshare},
       {EventType::openat, EventType::open, EventType::connect, EventType::bpf, EventType::dup2}, false},
      {"exec + open", exec_rule + open_rule, {EventType::execve, EventType::openat},
       {EventType::open, EventType::openat2, EventType::connect}, false},
      {"no evt.type: everything", exec_rule + any_rule, {EventType::openat, EventType::connect, EventType::bpf,
                                                          EventType::utime, EventType::dup3}, {}, true},
      {"not evt.type = openat", not_rule, {EventType::open, EventType::connect}, {EventType::openat}, false},
      {"disabled rule adds nothing", exec_rule + disabled_open, {EventType::execve}, {EventType::openat}, false},
      {"exceptions do not widen", exc_rule, {EventType::connect}, {EventType::openat}, false},
      {"send calls named: sent, receives not", send_rule, {EventType::sendto, EventType::sendmsg, EventType::execve},
       {EventType::recvfrom, EventType::recvmsg, EventType::openat, EventType::rmdir}, false},
      {"no evt.type: the new types too", any_rule, {EventType::sendto, EventType::recvmsg, EventType::userfaultfd,
                                                    EventType::setxattr, EventType::lremovexattr}, {}, true},
      {"removexattr named: sent, lremovexattr not", rmx_rule, {EventType::removexattr, EventType::fremovexattr},
       {EventType::lremovexattr, EventType::setxattr, EventType::openat}, false},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto eng = LoadCleanText(row.text);
    const vigil::Interest in = vigil::DeriveInterest(*eng);
    INFO("sent: " << vigil::EventTypeNames(in.types));
    for (EventType t : row.in) CHECK(Has(in, t));
    for (EventType t : row.out) CHECK_FALSE(Has(in, t));
    CHECK((in.state_types & ~in.types).none());
    CHECK(in.unrestricted_rule.empty() != row.unrestricted);
  }
}

TEST_CASE("interest: every enabled rule's types are sent (default and Falco rules)", "[unit]") {
  const std::vector<std::string> sets = vigil::testing::DefaultAndFalcoRuleSets();
  for (const auto& path : sets) {
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    INFO(path << "\n" << diags.ToString());
    REQUIRE(eng != nullptr);
    const vigil::Interest in = vigil::DeriveInterest(*eng);
    std::size_t enabled = 0;
    for (const auto& r : eng->rules()) {
      if (!r->enabled) continue;
      ++enabled;
      INFO(r->name);
      CHECK((r->types & ~in.types).none());
    }
    CHECK(enabled > 0);
    std::printf("interest: %s: %zu of %zu event types sent; left in the kernel: %s\n", path.c_str(),
                in.types.count(), vigil::kEventTypeCount, vigil::EventTypeNames(~in.types).c_str());
  }
}

// The data calls (sendto, sendmsg, recvfrom, recvmsg) are the hottest syscalls
// of a busy host: the default rules must leave them in the kernel, and the
// setxattr family (the setcap rule) must be sent.
TEST_CASE("interest: default rules leave the data calls in the kernel", "[unit]") {
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({std::string(VIGIL_RULES_DIR)}, &diags, vigil::HostInfo{});
  INFO(diags.ToString());
  REQUIRE(eng != nullptr);
  const vigil::Interest in = vigil::DeriveInterest(*eng);
  CHECK(in.unrestricted_rule.empty());
  for (EventType t : {EventType::sendto, EventType::sendmsg, EventType::recvfrom, EventType::recvmsg}) {
    INFO(vigil::EventTypeName(t));
    CHECK_FALSE(Has(in, t));
  }
  CHECK(Has(in, EventType::setxattr));
  CHECK(Has(in, EventType::lsetxattr));
  CHECK(Has(in, EventType::fsetxattr));
  // no default rule names the removexattr family (issue 18): it stays in the kernel
  for (EventType t : {EventType::removexattr, EventType::lremovexattr, EventType::fremovexattr}) {
    INFO(vigil::EventTypeName(t));
    CHECK_FALSE(Has(in, t));
  }
}

// The environment is copied at exec only while an enabled rule reads it: in
// its condition, its exceptions or its output (vigil's capture switch, like
// the data calls' types). The default rules read it (T1574.006), and so do
// Falco's incubating rules; Falco's stable rules do not.
TEST_CASE("interest: environment capture follows the rules that read proc.env", "[unit]") {
  using vigil::testing::InterestRule;
  const std::string rmx_rule =  // issue 18: the removexattr family, sent only when named
      "- rule: rmx\n  desc: d\n  condition: evt.type in (removexattr, fremovexattr) and evt.arg.name = security.ima\n"
      "  output: o\n  priority: WARNING\n";
  const std::vector<vigil::testing::InterestRow> rows = {
      {"no env field", InterestRule("evt.type = execve and proc.name = id", "o %proc.cmdline"), false},
      {"condition", InterestRule("evt.type = execve and proc.env[LD_PRELOAD] != ''"), true},
      {"output only", InterestRule("evt.type = execve", "o %proc.env"), true},
      {"proc.aenv", InterestRule("evt.type = execve and proc.aenv[HOME] = /root"), true},
      {"through a macro",
       "- macro: m\n  condition: proc.env icontains GLIBC_TUNABLES\n" + InterestRule("evt.type = execve and m"), true},
      {"exceptions",
       InterestRule("evt.type = execve", "o", "  exceptions:\n  - name: e\n    fields: [proc.env_truncated]\n"
                                              "    values: [[true]]\n"),
       true},
      {"disabled", InterestRule("evt.type = execve and proc.env contains X", "o", "  enabled: false\n"), false},
  };
  vigil::testing::CheckInterestRows(rows, &vigil::Interest::env, &vigil::Interest::env_rule);
  const std::vector<std::pair<std::string, bool>> sets = {
      {std::string(VIGIL_RULES_DIR), true},
      {std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml", false},
  };
  for (const auto& [path, want] : sets) {
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    INFO(path << "\n" << diags.ToString());
    REQUIRE(eng != nullptr);
    const vigil::Interest in = vigil::DeriveInterest(*eng);
    CHECK(in.env == want);
    std::printf("interest: %s: environment %s%s\n", path.c_str(), in.env ? "captured, first rule: " : "not captured",
                in.env_rule.c_str());
  }
}
