// SPDX-License-Identifier: Apache-2.0
// Table-driven tests of CompilePolicy: what compiles to which kernel
// dimensions, and the located error for everything the kernel cannot decide.
#include <catch2/catch.hpp>

#include "engine/fields/field_table.h"
#include "engine/policy/policy.h"

namespace vigil::policy {
namespace {

std::string RuleYaml(const std::string& condition, const std::string& action = "deny") {
  return "- list: shells\n  items: [bash, sh]\n"
         "- macro: spawned\n  condition: evt.type in (execve, execveat)\n"
         "- macro: bad_or\n  condition: proc.name = a or proc.name = b\n"
         "- rule: r\n  desc: d\n  condition: " + condition + "\n  output: o\n  priority: WARNING\n  action: " + action + "\n";
}

struct Compiled {
  std::optional<PolicySpec> spec;
  Diagnostics diags;
};

Compiled CompileText(const std::string& text, PolicyLimits limits = PolicyLimits{}) {
  Compiled c;
  auto engine = RuleEngine::LoadTexts({{"t.yaml", text}}, &c.diags);
  REQUIRE(engine);
  REQUIRE_FALSE(c.diags.HasErrors());
  c.spec = CompilePolicy(*engine, &c.diags, limits);
  return c;
}

TEST_CASE("enforcing conditions compile to kernel dimensions", "[unit]") {
  struct Row {
    std::string condition;
    HookClass hook;
    std::size_t comms, pcomms, paths, uids, ports, cidrs, cmds;
    uint32_t access;
    Placement placement;
  };
  const Row rows[] = {
      {"evt.type = execve and proc.name = nc", HookClass::kExec, 1, 0, 0, 0, 0, 0, 0, 0, Placement::kAny},
      {"spawned and proc.name in (shells) and proc.pname = sshd", HookClass::kExec, 2, 1, 0, 0, 0, 0, 0, 0,
       Placement::kAny},
      {"evt.type = execve and proc.exepath startswith /tmp/", HookClass::kExec, 0, 0, 1, 0, 0, 0, 0, 0,
       Placement::kAny},
      {"evt.type = execve and proc.exepath in (/bin/nc, /usr/bin/nc) and container.id != host", HookClass::kExec, 0, 0,
       2, 0, 0, 0, 0, 0, Placement::kContainer},
      {"evt.type in (open, openat, openat2) and fd.name startswith /etc/shadow and evt.is_open_write = true",
       HookClass::kOpen, 0, 0, 1, 0, 0, 0, 0, kAccessWrite, Placement::kAny},
      {"evt.type = openat and fd.name = /etc/passwd and user.uid in (1000, 1001)", HookClass::kOpen, 0, 0, 1, 2, 0,
       0, 0, 0, Placement::kAny},
      {"evt.type = connect and fd.rport in (4444, 1337) and fd.rnet in (10.0.0.0/8, fd00::/8)", HookClass::kConnect,
       0, 0, 0, 0, 2, 2, 0, 0, Placement::kAny},
      {"evt.type = connect and fd.rip = 127.0.0.1 and container.id = host", HookClass::kConnect, 0, 0, 0, 0, 0, 1, 0,
       0, Placement::kHost},
      {"evt.type = bpf and bpf.cmd in (13, 14) and proc.name = bpftool", HookClass::kBpf, 1, 0, 0, 0, 0, 0, 2, 0,
       Placement::kAny},
      {"evt.type in (init_module, finit_module)", HookClass::kModule, 0, 0, 0, 0, 0, 0, 0, 0, Placement::kAny},
      {"evt.type = ptrace and user.uid = 0", HookClass::kPtrace, 0, 0, 0, 1, 0, 0, 0, 0, Placement::kAny},
      {"evt.type = mount and proc.name = mount", HookClass::kMount, 1, 0, 0, 0, 0, 0, 0, 0, Placement::kAny},
      {"evt.type in (setuid, setresuid) and proc.name in (a, a)", HookClass::kSetuid, 1, 0, 0, 0, 0, 0, 0, 0,
       Placement::kAny},
  };
  for (const Row& row : rows) {
    INFO(row.condition);
    Compiled c = CompileText(RuleYaml(row.condition));
    INFO(c.diags.ToString());
    REQUIRE(c.spec);
    REQUIRE(c.spec->rules.size() == 1);
    const PolicyRule& r = c.spec->rules[0];
    CHECK(r.name == "r");
    CHECK(r.hook == row.hook);
    CHECK(r.comms.size() == row.comms);
    CHECK(r.parent_comms.size() == row.pcomms);
    CHECK(r.paths.size() == row.paths);
    CHECK(r.uids.size() == row.uids);
    CHECK(r.ports.size() == row.ports);
    CHECK(r.cidrs.size() == row.cidrs);
    CHECK(r.bpf_cmds.size() == row.cmds);
    CHECK(r.access == row.access);
    CHECK(r.placement == row.placement);
  }
}

TEST_CASE("values are decoded exactly", "[unit]") {
  Compiled c = CompileText(RuleYaml("evt.type = connect and fd.rnet = 10.1.2.3/8 and fd.rport = 4444", "kill"));
  REQUIRE(c.spec);
  const PolicyRule& r = c.spec->rules[0];
  CHECK(r.action == Action::kKill);
  REQUIRE(r.cidrs.size() == 1);
  CHECK_FALSE(r.cidrs[0].v6);
  CHECK(r.cidrs[0].prefix_len == 8);
  CHECK(r.cidrs[0].addr[0] == 10);
  CHECK(r.cidrs[0].addr[1] == 0);  // host bits cleared
  CHECK(r.ports == std::vector<uint16_t>{4444});

  Compiled p = CompileText(RuleYaml("evt.type = execve and proc.exepath startswith /tmp/"));
  REQUIRE(p.spec);
  CHECK(p.spec->rules[0].paths == std::vector<PathMatch>{{"/tmp/", true}});
}

TEST_CASE("bpf.prog.helpers compiles to helper ids", "[unit]") {
  struct Row {
    std::string condition;
    std::vector<uint32_t> helpers;
  };
  const Row rows[] = {
      {"evt.type = bpf and bpf.cmd = 5 and bpf.prog.helpers intersects (36, 58, 36)", {36, 58}},
      {"evt.type = bpf and bpf.prog.helpers contains 36", {36}},
      {"evt.type = bpf and bpf.prog.helpers intersects (0, 255) and proc.name = loader", {0, 255}},
  };
  for (const Row& row : rows) {
    INFO(row.condition);
    Compiled c = CompileText(RuleYaml(row.condition));
    INFO(c.diags.ToString());
    REQUIRE(c.spec);
    REQUIRE(c.spec->rules.size() == 1);
    CHECK(c.spec->rules[0].hook == HookClass::kBpf);
    CHECK(c.spec->rules[0].helpers == row.helpers);
  }
  PolicyLimits small;
  small.max_bpf_values = 2;
  Compiled over = CompileText(RuleYaml("evt.type = bpf and bpf.cmd = 5 and bpf.prog.helpers intersects (1, 2)"), small);
  CHECK_FALSE(over.spec);
  CHECK(over.diags.ToString().find("need 3 bpf command/program-type/helper entries") != std::string::npos);
}

TEST_CASE("the policy compiler reads the lists and macros the rules engine expanded", "[unit]") {
  const std::string lists =
      "- list: inner\n  items: [bash]\n- list: outer\n  items: [inner, sh, \"zsh\"]\n"
      "- macro: spawned_shell\n  condition: evt.type = execve and proc.name in (outer)\n";
  auto rule = [](const std::string& cond) {
    return "- rule: r\n  desc: d\n  condition: " + cond + "\n  output: o\n  priority: WARNING\n  action: deny\n";
  };
  // A nested list through a macro: the three names the rules compiler matches, in its order.
  Compiled c = CompileText(lists + rule("spawned_shell"));
  REQUIRE(c.spec);
  CHECK(c.spec->rules[0].comms == std::vector<std::string>{"bash", "sh", "zsh"});
  // Outside a list operator a list's name is a plain value, for both compilers.
  Compiled eq = CompileText(lists + rule("evt.type = execve and proc.name = outer"));
  REQUIRE(eq.spec);
  CHECK(eq.spec->rules[0].comms == std::vector<std::string>{"outer"});
  // `in name` without parentheses must name a list: the same error as the rules compiler's.
  Diagnostics diags;
  auto engine = RuleEngine::LoadTexts({{"t.yaml", lists + rule("evt.type = execve and proc.name in nolist")}}, &diags);
  CHECK(diags.ToString().find("undefined list 'nolist'") != std::string::npos);
}

TEST_CASE("alert rules are not part of the policy", "[unit]") {
  Compiled c = CompileText(RuleYaml("proc.name = x or fd.name contains y", "alert"));
  REQUIRE(c.spec);
  CHECK(c.spec->rules.empty());
}

TEST_CASE("conditions the kernel cannot decide are located load errors", "[unit]") {
  struct Row {
    std::string condition;
    std::string expect;  // a substring of the error
  };
  const Row rows[] = {
      {"evt.type = execve or proc.name = nc", "t.yaml:9:32: error: rule 'r': condition: action deny: 'or'"},
      {"evt.type = execve and not proc.name = nc", "t.yaml:9:36: error: rule 'r': condition: action deny: 'not'"},
      {"evt.type = execve and bad_or", "in macro 'bad_or': 'or' cannot be decided"},
      {"evt.type = execve and proc.cmdline contains nc", "field proc.cmdline cannot be decided in the kernel"},
      {"evt.type = execve and proc.name contains nc", "proc.name only with '=' or 'in'"},
      {"evt.type = execve and tolower(proc.name) = nc", "transformers"},
      {"evt.type = unlink and proc.name = rm", "event type 'unlink' has no kernel enforcement hook"},
      {"evt.type in (execve, connect)", "two hook classes (exec, connect)"},
      {"proc.name = nc", "needs an evt.type check"},
      {"evt.type = execve and fd.rport = 22", "a remote address cannot be decided at the exec hook"},
      {"evt.type = openat and proc.exepath = /bin/cat", "proc.exepath (the acting binary) cannot be decided at the open"},
      {"evt.type = connect and fd.rport = 99999", "'99999' is not a number in range"},
      {"evt.type = bpf and bpf.prog.helpers = 6", "bpf.prog.helpers only with 'intersects' or 'contains'"},
      {"evt.type = bpf and bpf.prog.helpers intersects (6, 256)", "'256' is not a helper id (0..255)"},
      {"evt.type = bpf and bpf.prog.helpers intersects (x)", "'x' is not a helper id"},
      {"evt.type = execve and bpf.prog.helpers contains 36", "a bpf() argument cannot be decided at the exec hook"},
      {"evt.type = bpf and bpf.prog.helpers contains 36 and bpf.prog.helpers contains 6",
       "a second check on bpf.prog.helpers"},
      {"evt.type = openat and fd.name = etc/passwd", "is not an absolute path"},
      {"evt.type = execve and proc.name = nc and proc.name = ncat", "a second check on proc.name"},
      {"evt.type = execve and proc.name = averyveryverylongname", "is not a task name"},
      {"evt.type = connect and container.id = abc", "'= host' or '!= host'"},
  };
  for (const Row& row : rows) {
    INFO(row.condition);
    Compiled c = CompileText(RuleYaml(row.condition));
    CHECK_FALSE(c.spec);
    INFO(c.diags.ToString());
    CHECK(c.diags.ToString().find(row.expect) != std::string::npos);
  }
}

TEST_CASE("exceptions on an enforcing rule are refused", "[unit]") {
  std::string text = RuleYaml("evt.type = execve and proc.name = nc") +
                     "  exceptions:\n    - name: e\n      fields: [proc.pname]\n      values: [[sshd]]\n";
  Compiled c = CompileText(text);
  CHECK_FALSE(c.spec);
  CHECK(c.diags.ToString().find("exceptions cannot be decided in the kernel") != std::string::npos);
}

TEST_CASE("a policy larger than the maps is an error, never partial", "[unit]") {
  PolicyLimits small;
  small.max_comms = 2;
  Compiled c = CompileText(RuleYaml("evt.type = execve and proc.name in (a, b, c)"), small);
  CHECK_FALSE(c.spec);
  CHECK(c.diags.ToString().find("need 3 process-name entries; the kernel maps hold 2") != std::string::npos);

  PolicyLimits one_rule;
  one_rule.max_rules = 1;
  std::string two = RuleYaml("evt.type = execve and proc.name = a") +
                    "- rule: r2\n  desc: d\n  condition: evt.type = execve and proc.name = b\n  output: o\n"
                    "  priority: WARNING\n  action: kill\n";
  Compiled c2 = CompileText(two, one_rule);
  CHECK_FALSE(c2.spec);
  CHECK(c2.diags.ToString().find("need 2 rule entries") != std::string::npos);
}

TEST_CASE("ParseCidr", "[unit]") {
  struct Row {
    const char* text;
    bool ok;
    bool v6;
    int len;
  };
  const Row rows[] = {{"1.2.3.4", true, false, 32},   {"10.0.0.0/8", true, false, 8}, {"::1", true, true, 128},
                      {"fd00::/8", true, true, 8},    {"1.2.3.4/", false, false, 0},  {"1.2.3/8", false, false, 0},
                      {"::/129", false, false, 0},    {"x", false, false, 0}};
  for (const Row& row : rows) {
    INFO(row.text);
    Cidr c;
    REQUIRE(ParseCidr(row.text, &c) == row.ok);
    if (row.ok) {
      CHECK(c.v6 == row.v6);
      CHECK(c.prefix_len == row.len);
    }
  }
}

// Issue 22: the policy compiler and the condition compiler had two address
// parsers; an address in a rule must mean the same to both.
TEST_CASE("ParseCidr accepts exactly what the condition compiler accepts", "[unit]") {
  const char* texts[] = {"1.2.3.4",   "10.0.0.0/8", "::1",          "::1/128", "fd00::/8",        "::ffff:1.2.3.4",
                         "0.0.0.0/0", "::/0",       "1.2.3.4/",     "1.2.3/8", "::/129",          "1.2.3.4/33",
                         "x",         "",           "/8",           "1.2.3.4/-1", "1.2.3.4/ 8",   "10.0.0.0/8/8",
                         " 1.2.3.4",  "1.2.3.4 ",   "fe80::1%eth0", "1.2.3.04"};
  for (const char* t : texts) {
    INFO(t);
    Cidr c;
    IpAddr ip;
    uint16_t family = 0;
    int len = 0;
    const bool cond = vigil::ParseCidr(t, &ip, &family, &len);
    REQUIRE(ParseCidr(t, &c) == cond);
    if (cond) {
      CHECK(c.v6 == (family == 10));
      CHECK(c.prefix_len == len);
    }
  }
}

}  // namespace
}  // namespace vigil::policy
