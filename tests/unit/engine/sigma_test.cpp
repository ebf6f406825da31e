// SPDX-License-Identifier: Apache-2.0
// Sigma rules (engine/sigma): every modifier, every condition form, value
// forms (lists, maps, null, wildcards, keywords), logsources and auditd
// forms, metadata, located errors and unsupported reasons, the config field
// override, and the import-sigma round trip. Each rule is loaded by the real
// loader and evaluated by the real compiled rule against an event.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "engine/rule_engine.h"
#include "engine/sigma/logsource.h"
#include "engine/sigma/sigma.h"
#include "engine/sigma/values.h"
#include "engine_test_util.h"

using vigil::Diagnostics;
using vigil::Event;
using vigil::EventType;
using vigil::OwnedAncestors;
using vigil::RuleEngine;

namespace {

using vigil::testing::Loaded;

vigil::HostInfo Host() {
  vigil::HostInfo h;
  h.users = {{0, "root"}, {1000, "alice"}};
  h.hostname = "testhost";
  return h;
}

std::unique_ptr<Loaded> LoadSigma(const std::string& text, const vigil::rules::LoadOptions& opts = {}) {
  auto l = std::make_unique<Loaded>();
  l->engine = RuleEngine::LoadTexts({{"s.yml", text}}, &l->diags, Host(), opts);
  return l;
}

// A process_creation rule whose detection is `detection` (YAML lines indented by 4).
std::string ProcRule(const std::string& detection, const std::string& category = "process_creation") {
  return "title: T\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlevel: high\n"
         "logsource:\n    product: linux\n    category: " +
         category + "\ndetection:\n" + detection;
}

bool Fires(const Loaded& l, const Event& e) {
  std::vector<const vigil::CompiledRule*> fired;
  l.engine->Match(e, &fired);
  return !fired.empty();
}

// bash (pid 100) run by sshd: argv {"bash", "-c", "Echo Hi"}, cwd /home/u (engine_test_util.h).
struct ExecRow {
  const char* selection;  // the body of `selection:`, indented by 8
  bool expect;
  std::vector<std::string> argv = {};  // replaces the exec's argv when given
};

void RunExecRows(const std::vector<ExecRow>& rows) {
  for (const auto& row : rows) {
    std::string rule = ProcRule(std::string("    selection:\n") + row.selection + "    condition: selection\n");
    INFO(rule);
    auto l = LoadSigma(rule);
    INFO(l->diags.ToString());
    REQUIRE(!l->diags.HasErrors());
    REQUIRE(l->engine->rules().size() == 1);
    OwnedAncestors anc;
    Event e = vigil::testing::MakeExec(&anc);
    if (!row.argv.empty()) e.proc.argv = row.argv;
    INFO("condition: " << l->engine->rules()[0]->condition);
    CHECK(Fires(*l, e) == row.expect);
  }
}

}  // namespace

TEST_CASE("sigma: plain values, wildcards and case", "[unit]") {
  RunExecRows({
      {"        Image: /usr/bin/bash\n", true},
      {"        Image: /USR/BIN/BASH\n", true},  // Sigma compares case-insensitively
      {"        Image|cased: /USR/BIN/BASH\n", false},
      {"        Image|cased: /usr/bin/bash\n", true},
      {"        Image: /usr/bin/bas\n", false},
      {"        Image: '/usr/*/bash'\n", true},
      {"        Image: '/usr/?in/bash'\n", true},
      {"        Image: '/usr/\\*/bash'\n", false},  // an escaped '*' is literal
      {"        Image: '*'\n", true},
      {"        Image:\n            - /bin/sh\n            - /usr/bin/bash\n", true},  // a list is OR
      {"        Image:\n            - /bin/sh\n            - /bin/dash\n", false},
      {"        User: root\n", true},
      {"        CurrentDirectory: /home/u\n", true},
      {"        ParentImage: /usr/sbin/sshd\n        ParentCommandLine: sshd -D\n", true},  // a map is AND
      {"        ParentImage: /usr/sbin/sshd\n        ParentCommandLine: sshd -X\n", false},
      {"        CommandLine: bash -c Echo Hi\n", true},  // argv from argv[0], not the comm name
  });
}

TEST_CASE("sigma: each modifier", "[unit]") {
  RunExecRows({
      {"        Image|endswith: /bash\n", true},
      {"        Image|endswith: sh\n", true},
      {"        Image|endswith: /sh\n", false},
      {"        Image|endswith: /zsh\n", false},
      {"        Image|startswith: /usr/\n", true},
      {"        Image|startswith: /bin/\n", false},
      {"        CommandLine|contains: 'echo h'\n", true},
      {"        CommandLine|contains: nope\n", false},
      {"        CommandLine|contains:\n            - nope\n            - Echo\n", true},
      {"        CommandLine|contains|all:\n            - Echo\n            - ' -c '\n", true},
      {"        CommandLine|contains|all:\n            - Echo\n            - nope\n", false},
      {"        CommandLine|contains: 'Ec*Hi'\n", true},  // a wildcard inside contains
      {"        CommandLine|re: 'Ech.\\sHi$'\n", true},
      {"        CommandLine|re: 'echo'\n", false},  // re is case-sensitive
      {"        CommandLine|re|i: 'echo'\n", true},
      {"        CommandLine|re: '^bash'\n", true},
      {"        CommandLine|re: '^-c'\n", false},
      {"        CommandLine|base64|contains: 'Echo Hi'\n", true, {"sh", "-c", "echo RWNobyBIaQ== | base64 -d"}},
      {"        CommandLine|base64|contains: 'Echo Hi'\n", false, {"sh", "-c", "echo rwnobybiaq== | base64 -d"}},
      {"        CommandLine|base64offset|contains: 'Echo Hi'\n", true, {"sh", "-c", "echo cnVuOiBFY2hvIEhpIG5vdw=="}},
      {"        CommandLine|base64offset|contains: 'Echo Hi'\n", true, {"sh", "-c", "echo eEVjaG8gSGk="}},
      {"        CommandLine|base64offset|contains: 'Echo Hi'\n", false, {"sh", "-c", "echo RWNobyBIbw=="}},
      {"        CommandLine|windash|contains: ' -c '\n", true},
      {"        CommandLine|windash|contains: ' -c '\n", true, {"bash", "/c", "x"}},
      {"        CommandLine|windash|contains: ' -c '\n", false, {"bash", "+c", "x"}},
      {"        CurrentDirectory|exists: true\n", true},
      {"        CurrentDirectory|exists: false\n", false},
      {"        CurrentDirectory: null\n", false},
      {"        CurrentDirectory: ''\n", false},
      {"        ProcessId|gt: 99\n", true},
      {"        ProcessId|gte: 100\n", true},
      {"        ProcessId|lt: 100\n", false},
      {"        ProcessId|lte: 100\n", true},
      {"        ProcessId: 100\n", true},
      {"        ProcessId:\n            - 7\n            - 100\n", true},
  });
}

// Four or more prefix/suffix/substring values become one RE2 alternation (values.cpp kRegexListMin).
TEST_CASE("sigma: long value lists are one regex with the same meaning", "[unit]") {
  RunExecRows({
      {"        Image|endswith:\n            - /a\n            - /b\n            - /c\n            - /BASH\n", true},
      {"        Image|endswith:\n            - /a\n            - /b\n            - /c\n            - /bas\n", false},
      {"        Image|startswith:\n            - /a\n            - /b\n            - /c\n            - /USR/b\n", true},
      {"        Image|startswith:\n            - /a\n            - /b\n            - /c\n            - /bin\n", false},
      {"        CommandLine|contains:\n            - a.c\n            - 'x|y'\n            - '(('\n            - 'o h'\n",
       true},  // regex metacharacters in values are literal
      {"        CommandLine|contains:\n            - a.c\n            - 'x|y'\n            - '(('\n            - 'h.o'\n",
       false},
      {"        Image|cased|endswith:\n            - /a\n            - /b\n            - /c\n            - /BASH\n", false},
      {"        Image|cased|endswith:\n            - /a\n            - /b\n            - /c\n            - /bash\n", true},
  });
  auto l = LoadSigma(ProcRule("    s:\n        Image|endswith:\n            - /a\n            - /b\n            - /c\n"
                              "            - /d\n        User: root\n    condition: s\n"));
  REQUIRE(l->engine->rules().size() == 1);
  const std::string& cond = l->engine->rules()[0]->condition;
  INFO(cond);
  CHECK(cond.find("proc.exepath regex \"(?si:.*\\\\/a|.*\\\\/b|.*\\\\/c|.*\\\\/d)\"") != std::string::npos);
  CHECK(cond.find("endswith") == std::string::npos);
}

TEST_CASE("sigma: keywords search the command line", "[unit]") {
  RunExecRows({
      {"        - 'Echo Hi'\n", true},
      {"        - nope\n        - 'echo hi'\n", true},
      {"        - nope\n", false},
      {"        '|all':\n            - Echo\n            - '-c'\n", true},
      {"        '|all':\n            - Echo\n            - '-x'\n", false},
  });
}

TEST_CASE("sigma: null and empty values", "[unit]") {
  auto l = LoadSigma(ProcRule("    selection:\n        CurrentDirectory: null\n    condition: selection\n"));
  REQUIRE(l->engine->rules().size() == 1);
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  CHECK_FALSE(Fires(*l, e));
  e.proc.cwd.clear();  // unknown: the field is empty
  CHECK(Fires(*l, e));
}

TEST_CASE("sigma: the condition grammar", "[unit]") {
  // sel_a and filter_x hold for the exec, sel_b and _hidden do not.
  const std::string det =
      "    sel_a:\n        Image|endswith: /bash\n"
      "    sel_b:\n        Image|endswith: /zsh\n"
      "    filter_x:\n        User: root\n"
      "    _hidden:\n        User: nobody\n";
  struct Row {
    const char* condition;
    bool expect;
  };
  const Row rows[] = {
      {"sel_a", true},
      {"sel_b", false},
      {"sel_a and sel_b", false},
      {"sel_a or sel_b", true},
      {"not sel_b", true},
      {"not sel_a", false},
      {"sel_a and not sel_b", true},
      {"1 of sel_*", true},
      {"any of sel_*", true},
      {"all of sel_*", false},
      {"all of filter_*", true},
      {"1 of them", true},
      {"all of them", false},  // sel_b is among them
      {"(sel_a or sel_b) and not filter_x", false},
      {"not (sel_b or not sel_a)", true},
      {"sel_b or sel_a and filter_x", true},  // and binds tighter than or
      {"(sel_b or sel_a) and filter_x", true},
      {"sel_b or sel_a and _hidden", false},
      {"not not sel_a", true},
      {"1 of sel_* and not 1 of _hid*", true},
  };
  for (const auto& row : rows) {
    std::string rule = ProcRule(det + "    condition: " + row.condition + "\n");
    auto l = LoadSigma(rule);
    INFO(row.condition << "\n" << l->diags.ToString());
    REQUIRE(l->engine->rules().size() == 1);
    OwnedAncestors anc;
    Event e = vigil::testing::MakeExec(&anc);
    CHECK(Fires(*l, e) == row.expect);
  }
  // `them` leaves out identifiers starting with '_'.
  auto l = LoadSigma(ProcRule("    sel_a:\n        Image|endswith: /bash\n    _hidden:\n        User: nobody\n"
                              "    condition: all of them\n"));
  OwnedAncestors anc;
  CHECK(Fires(*l, vigil::testing::MakeExec(&anc)));
  // A list of conditions: any of them.
  l = LoadSigma(ProcRule("    a:\n        User: nobody\n    b:\n        User: root\n    condition:\n        - a\n"
                         "        - b\n"));
  CHECK(Fires(*l, vigil::testing::MakeExec(&anc)));
}

TEST_CASE("sigma: logsources select their events", "[unit]") {
  OwnedAncestors anc;
  Event exec = vigil::testing::MakeExec(&anc);
  Event open = vigil::testing::MakeOpen(&anc);  // /etc/shadow, O_RDWR|O_CREAT
  Event conn = vigil::testing::MakeConnect(&anc);  // 192.168.0.5:40000 -> 10.1.2.3:443
  Event unlink = open;
  unlink.type = EventType::unlinkat;
  unlink.res = 0;
  Event rename = open;
  rename.type = EventType::renameat2;
  rename.res = 0;
  rename.file.target_abs = "/etc/shadow.new";
  struct Row {
    const char* category;
    const char* selection;
    const Event* event;
    bool expect;
  };
  const Row rows[] = {
      {"process_creation", "        Image|endswith: /bash\n", &exec, true},
      {"process_creation", "        Image|endswith: /bash\n", &open, false},
      {"file_event", "        TargetFilename: /etc/shadow\n", &open, true},
      {"file_event", "        TargetFilename: /etc/shadow\n", &exec, false},
      {"file_change", "        TargetFilename|startswith: /etc/\n", &open, true},
      {"file_delete", "        TargetFilename: /etc/shadow\n", &unlink, true},
      {"file_delete", "        TargetFilename: /etc/shadow\n", &open, false},
      {"file_rename", "        SourceFilename: /etc/shadow\n        TargetFilename|endswith: .new\n", &rename, true},
      {"network_connection", "        DestinationIp: 10.1.2.3\n        DestinationPort: 443\n", &conn, true},
      {"network_connection", "        DestinationIp|cidr: 10.0.0.0/8\n", &conn, true},
      {"network_connection", "        DestinationIp|cidr:\n            - 172.16.0.0/12\n            - 10.1.0.0/16\n",
       &conn, true},
      {"network_connection", "        DestinationIp|cidr: 192.168.0.0/16\n", &conn, false},
      {"network_connection", "        SourceIp|cidr: 192.168.0.0/16\n        Protocol: tcp\n", &conn, true},
      {"network_connection", "        Initiated: 'true'\n", &conn, true},
      {"network_connection", "        Initiated: 'false'\n", &conn, false},
      {"network_connection", "        DestinationPort:\n            - 80\n            - 8443\n", &conn, false},
  };
  for (const auto& row : rows) {
    std::string rule = ProcRule(std::string("    selection:\n") + row.selection + "    condition: selection\n",
                                row.category);
    auto l = LoadSigma(rule);
    INFO(rule << "\n" << l->diags.ToString());
    REQUIRE(l->engine->rules().size() == 1);
    INFO(l->engine->rules()[0]->condition);
    CHECK(Fires(*l, *row.event) == row.expect);
  }
}

TEST_CASE("sigma: auditd EXECVE, PATH and SYSCALL records", "[unit]") {
  OwnedAncestors anc;
  Event exec = vigil::testing::MakeExec(&anc);
  Event open = vigil::testing::MakeOpen(&anc);
  struct Row {
    const char* selection;
    const Event* event;
    bool expect;
  };
  const Row rows[] = {
      {"        type: EXECVE\n        a0: bash\n        a1: '-c'\n", &exec, true},
      {"        type: 'execve'\n        a1: '-x'\n", &exec, false},
      {"        a2|contains: Echo\n", &exec, true},  // an argument implies the EXECVE record
      {"        a2|contains: Echo\n", &open, false},
      {"        type: PATH\n        name: /etc/shadow\n", &open, true},
      {"        type: PATH\n        name: /etc/shadow\n", &exec, false},
      {"        type: SYSCALL\n        exe|endswith: /bash\n", &exec, true},  // no SYSCALL field: the exec
      {"        type: SYSCALL\n        exe|endswith: /bash\n", &open, false},
      {"        type: SYSCALL\n        SYSCALL: openat\n        comm: bash\n", &open, true},
      {"        type: SYSCALL\n        SYSCALL: openat\n", &exec, false},
  };
  for (const auto& row : rows) {
    std::string rule = std::string("title: A\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n"
                                   "    selection:\n") + row.selection + "    condition: selection\n";
    auto l = LoadSigma(rule);
    INFO(rule << "\n" << l->diags.ToString());
    REQUIRE(l->engine->rules().size() == 1);
    CHECK(l->diags.WarningCount() == 0);  // every form has event types: no "every event type" warning
    CHECK(Fires(*l, *row.event) == row.expect);
  }
}

TEST_CASE("sigma: metadata becomes name, priority, tags, desc", "[unit]") {
  auto l = LoadSigma(
      "title: Shell From Java\nid: d292e0af-9a18-420c-9525-ec0ac3936892\nstatus: test\n"
      "description: A shell.\nlevel: critical\ntags:\n    - attack.execution\n    - attack.t1059.004\n"
      "    - attack.privilege-escalation\n    - cve.2021-44228\nfalsepositives:\n    - Builds\n    - Admins\n"
      "logsource:\n    product: linux\n    category: process_creation\n"
      "detection:\n    s:\n        Image|endswith: /bash\n    condition: s\n");
  INFO(l->diags.ToString());
  REQUIRE(l->engine->rules().size() == 1);
  const auto& r = *l->engine->rules()[0];
  CHECK(r.name == "Shell From Java");
  CHECK(r.priority == vigil::Priority::kCritical);
  CHECK(r.tags == std::vector<std::string>{"sigma", "mitre_execution", "T1059.004", "mitre_privilege_escalation",
                                           "cve.2021-44228"});
  CHECK(r.desc == "A shell. False positives: Builds; Admins. (Sigma d292e0af-9a18-420c-9525-ec0ac3936892, status test)");
  CHECK(r.enabled);
  const std::pair<const char*, vigil::Priority> levels[] = {{"informational", vigil::Priority::kInformational},
                                                            {"low", vigil::Priority::kNotice},
                                                            {"medium", vigil::Priority::kWarning},
                                                            {"high", vigil::Priority::kError}};
  for (const auto& [level, prio] : levels) {
    auto m = LoadSigma("title: L\nlevel: " + std::string(level) +
                       "\nlogsource:\n    category: process_creation\ndetection:\n    s:\n        User: x\n"
                       "    condition: s\n");
    REQUIRE(m->engine->rules().size() == 1);
    CHECK(m->engine->rules()[0]->priority == prio);
  }
  auto d = LoadSigma("title: D\nstatus: deprecated\nlogsource:\n    category: process_creation\ndetection:\n"
                     "    s:\n        User: x\n    condition: s\n");
  REQUIRE(d->engine->rules().size() == 1);
  CHECK_FALSE(d->engine->rules()[0]->enabled);
}

TEST_CASE("sigma: errors and unsupported rules are located and named", "[unit]") {
  struct Row {
    std::string text;
    bool unsupported;   // a warning "unsupported (...)", the rule skipped; else an error
    const char* where;  // s.yml:line:col
    const char* message;
  };
  const std::string head = "title: R\nlogsource:\n    category: process_creation\ndetection:\n";
  const Row rows[] = {
      {head + "    s:\n        Image: /x\n    condition: s and t\n", false, "s.yml:7:22",
       "no search identifier 't' in the detection"},
      {head + "    s:\n        Image: /x\n    condition: s or\n", false, "s.yml:7:20", "expected a search identifier"},
      {head + "    s:\n        Image: /x\n    condition: (s\n", false, "s.yml:7:18", "expected ')'"},
      {head + "    s:\n        Image: /x\n    condition: 1 of x*\n", false, "s.yml:7:21", "no search identifier matches"},
      {head + "    s:\n        Image|nosuch: /x\n    condition: s\n", false, "s.yml:6:9", "unknown modifier 'nosuch'"},
      {head + "    s:\n        Image|re: '('\n    condition: s\n", false, "s.yml:6:19", "invalid regular expression"},
      {head + "    s:\n        ProcessId: abc\n    condition: s\n", false, "s.yml:6:20", "expected an integer"},
      {head + "    s:\n        Image: /x\n", false, "s.yml:5:5", "expected key 'condition'"},
      {"logsource:\n    category: process_creation\ndetection:\n    s:\n        Image: /x\n    condition: s\n", false,
       "s.yml:1:1", "expected a non-empty title"},
      {head + "    s:\n        Image|utf16|contains: x\n    condition: s\n", true, "s.yml:6:9",
       "unsupported (modifier 'utf16')"},
      {head + "    s:\n        Image|re: 'a(?=b)'\n    condition: s\n", true, "s.yml:6:19",
       "unsupported (regular expression syntax RE2 lacks)"},
      {head + "    s:\n        Image: /x\n    condition: s | count() > 5\n", true, "s.yml:7:18",
       "unsupported (aggregation)"},
      {head + "    s:\n        Image: /x\n    timeframe: 5m\n    condition: s\n", true, "s.yml:7:5",
       "unsupported (timeframe)"},
      {head + "    s:\n        OriginalFileName: x.exe\n    condition: s\n", true, "s.yml:6:9",
       "unsupported (field 'OriginalFileName')"},
      {"title: R\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    s:\n"
       "        Image: /x\n    condition: s\n", true, "s.yml:3:5", "unsupported (logsource product 'windows')"},
      {"title: R\nlogsource:\n    product: linux\n    service: sshd\ndetection:\n    s:\n        - x\n"
       "    condition: s\n", true, "s.yml:3:5", "unsupported (logsource service 'sshd')"},
      {"title: R\nlogsource:\n    service: auditd\ndetection:\n    s:\n        type: USER_CMD\n    condition: s\n",
       true, "s.yml:6:9", "unsupported (auditd record type 'USER_CMD')"},
      {"title: R\nlogsource:\n    service: auditd\ndetection:\n    s:\n        SYSCALL: sysinfo\n    condition: s\n",
       true, "s.yml:6:9", "unsupported (syscall not captured)"},
      {"title: R\nlogsource:\n    category: file_event\ndetection:\n    s:\n        - x\n    condition: s\n", true,
       "s.yml:6:9", "unsupported (keywords outside process events)"},
  };
  for (const auto& row : rows) {
    auto l = LoadSigma(row.text);
    std::string all = l->diags.ToString();
    INFO(row.text << "\n" << all);
    CHECK(l->engine->rules().empty());
    CHECK(l->diags.HasErrors() == !row.unsupported);
    CHECK(all.find(std::string(row.where) + ": ") != std::string::npos);
    CHECK((all.find("rule 'R'") != std::string::npos || std::string(row.message).find("title") != std::string::npos));
    CHECK(all.find(row.message) != std::string::npos);
    if (row.unsupported) {
      CHECK(l->engine->stats().sigma_unsupported == 1);
      CHECK(l->engine->stats().rules_skipped == 1);
    }
  }
}

TEST_CASE("sigma: sigma.fields overrides the built-in field table", "[unit]") {
  const std::string rule = ProcRule("    s:\n        Image: bash\n        Hostname: x\n    condition: s\n");
  auto plain = LoadSigma(rule);
  CHECK(plain->engine->rules().empty());  // Hostname has no built-in mapping
  vigil::rules::LoadOptions opts;
  opts.sigma_fields = {{"Image", "proc.name"}, {"Hostname", "evt.hostname"}};
  auto l = LoadSigma(ProcRule("    s:\n        Image: bash\n        Hostname: testhost\n    condition: s\n"), opts);
  INFO(l->diags.ToString());
  REQUIRE(l->engine->rules().size() == 1);
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  CHECK(Fires(*l, e));  // proc.name is bash, evt.hostname is the test host's
  CHECK(l->engine->rules()[0]->condition.find("tolower(proc.name) = \"bash\"") != std::string::npos);
  opts.sigma_fields = {{"Image", "proc.nosuch"}};
  auto bad = LoadSigma(rule, opts);
  CHECK(bad->diags.ToString().find("maps to 'proc.nosuch', which is not a vigil field") != std::string::npos);
}

TEST_CASE("sigma: documents, duplicate titles and Falco files side by side", "[unit]") {
  const std::string one = ProcRule("    s:\n        Image|endswith: /bash\n    condition: s\n");
  Diagnostics diags;
  auto eng = RuleEngine::LoadTexts(
      {{"f.yaml", "- rule: F\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: o\n"
                  "  priority: INFO\n"},
       {"a.yml", one + "---\n" + one}},
      &diags, Host());
  INFO(diags.ToString());
  // Two Sigma documents share a title: the second is renamed (by its id), not a silent replacement.
  REQUIRE(eng->rules().size() == 3);
  CHECK(eng->rules()[0]->name == "F");
  CHECK(eng->rules()[1]->name == "T");
  CHECK(eng->rules()[2]->name == "T [11111111]");
  CHECK(diags.ToString().find("s.yml") == std::string::npos);
  CHECK(diags.ToString().find("a.yml:13:1: warning: rule 'T': title: another rule has this name; loaded as "
                              "'T [11111111]'") != std::string::npos);
  CHECK(eng->stats().sigma_rules == 2);
  OwnedAncestors anc;
  std::vector<const vigil::CompiledRule*> fired;
  eng->Match(vigil::testing::MakeExec(&anc), &fired);
  CHECK(fired.size() == 3);
}

TEST_CASE("sigma: a stream yaml-cpp's LoadAll loops on is a located error", "[unit]") {
  // A lone "," where a document should start: yaml-cpp 0.7's LoadAll would
  // hand back empty documents there forever (a fuzzer timeout in CI).
  const std::string one = ProcRule("    s:\n        Image|endswith: /bash\n    condition: s\n");
  for (const std::string& text : {one + "---\n,\n", one + "...\n,\n"}) {
    auto l = LoadSigma(text);
    INFO(l->diags.ToString());
    CHECK(l->diags.ErrorCount() == 1);
    CHECK(l->diags.ToString().find("s.yml:13:1: error: invalid YAML: unexpected token where a document should start") != std::string::npos);
    CHECK(l->engine->rules().empty());
  }
  // Text past U+10FFFF (lead byte 0xf6), an overlong form and a surrogate are
  // not UTF-8: a located error, not a rule whose export loads back different
  // (a sigma_loader_fuzz crash).
  for (const std::string bad : {"\xf6\x93\x90\xa0", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    auto l = LoadSigma(ProcRule("    s:\n        Image|endswith: 'x" + bad + "'\n    condition: s\n"));
    INFO(l->diags.ToString());
    CHECK(l->diags.ToString().find("s.yml:10:27: error: invalid UTF-8 (byte 0x") != std::string::npos);
    CHECK(l->engine->rules().empty());
  }
  auto good = LoadSigma(ProcRule("    s:\n        Image|endswith: 'x\xf0\x9f\x98\x80\xe2\x82\xac'\n    condition: s\n"));
  CHECK(good->diags.ErrorCount() == 0);
  // A stream of documents that ends still loads every document.
  auto l = LoadSigma(one + "---\n---\n" + one);
  CHECK(l->diags.ErrorCount() == 0);
  CHECK(l->engine->rules().size() == 2);
}

TEST_CASE("sigma: import-sigma output loads back and behaves the same", "[unit]") {
  const std::string text =
      "title: Round \"Trip\" 100%\nid: 0b1e0b1e-0000-0000-0000-000000000001\nstatus: deprecated\n"
      "description: |\n    Two\n    lines.\nlevel: low\ntags:\n    - attack.t1059\n"
      "logsource:\n    category: process_creation\n    product: linux\n"
      "detection:\n    sel:\n        Image|endswith:\n            - /bash\n            - /sh\n"
      "        CommandLine|windash|contains: ' -c '\n    f:\n        CommandLine|re: '\\d{3}'\n"
      "    condition: sel and not f\n---\n"
      "title: Net\nlogsource:\n    category: network_connection\ndetection:\n    s:\n"
      "        DestinationIp|cidr: 10.0.0.0/8\n        DestinationPort: 443\n    condition: s\n";
  vigil::rules::RuleDocument doc;
  Diagnostics d1;
  vigil::rules::LoadRulesText("s.yml", text, &doc, &d1);
  INFO(d1.ToString());
  REQUIRE(doc.rules.size() == 2);
  std::string exported = vigil::sigma::ExportRulesYaml(doc, "header\nsecond line");
  INFO(exported);
  CHECK(exported.rfind("# header\n# second line\n", 0) == 0);
  Diagnostics d2, d3;
  auto a = RuleEngine::LoadTexts({{"s.yml", text}}, &d2, Host());
  auto b = RuleEngine::LoadTexts({{"out.yaml", exported}}, &d3, Host());
  INFO(d3.ToString());
  REQUIRE(!d3.HasErrors());
  REQUIRE(a->rules().size() == b->rules().size());
  for (std::size_t i = 0; i < a->rules().size(); ++i) {
    const auto& x = *a->rules()[i];
    const auto& y = *b->rules()[i];
    CHECK(x.name == y.name);
    CHECK(x.desc == y.desc);
    CHECK(x.condition == y.condition);
    CHECK(x.priority == y.priority);
    CHECK(x.tags == y.tags);
    CHECK(x.enabled == y.enabled);
    CHECK(x.types == y.types);
  }
  OwnedAncestors anc;
  Event exec = vigil::testing::MakeExec(&anc);
  Event conn = vigil::testing::MakeConnect(&anc);
  Event exec_digits = exec;
  exec_digits.proc.argv = {"bash", "-c", "sleep 100"};
  for (const Event* e : {&exec, &conn, &exec_digits}) {
    for (std::size_t i = 0; i < a->rules().size(); ++i)
      CHECK(a->Matches(*a->rules()[i], *e) == b->Matches(*b->rules()[i], *e));
  }
  CHECK(a->Matches(*a->rules()[0], exec));
  CHECK_FALSE(a->Matches(*a->rules()[0], exec_digits));
  CHECK(a->Matches(*a->rules()[1], conn));
  CHECK(b->MakeAlert(*b->rules()[0], exec).output.rfind("Round \"Trip\" 100  (user=root exe=/usr/bin/bash cmdline=bash -c Echo Hi parent=/usr/sbin/sshd pcmdline=sshd -D pid=100", 0) == 0);
}

TEST_CASE("sigma: value transformations", "[unit]") {
  using vigil::sigma::Base64;
  using vigil::sigma::Base64Offsets;
  using vigil::sigma::WindashVariants;
  CHECK(Base64("Echo Hi") == "RWNobyBIaQ==");
  CHECK(Base64("ab") == "YWI=");
  CHECK(Base64("") == "");
  CHECK(Base64Offsets("Echo Hi") == std::vector<std::string>{"RWNobyBIa", "VjaG8gSG", "FY2hvIEhp"});
  CHECK(Base64Offsets("http") == std::vector<std::string>{"aHR0c", "h0dH", "odHRw"});
  CHECK(WindashVariants("-a x -b") ==
        std::vector<std::string>{"-a x -b", "/a x /b", "\xe2\x80\x93" "a x \xe2\x80\x93" "b",
                                 "\xe2\x80\x94" "a x \xe2\x80\x94" "b", "\xe2\x80\x95" "a x \xe2\x80\x95" "b"});
  CHECK(WindashVariants("a-b") == std::vector<std::string>{"a-b"});  // only a dash that starts a word
  CHECK(vigil::sigma::QuoteValue("a\"b\\c\n") == "\"a\\\"b\\\\c\\x0a\"");
}

TEST_CASE("sigma: docs/sigma.md lists the built-in field table", "[unit]") {
  std::ifstream in(std::string(VIGIL_DOCS_DIR) + "/sigma.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& e : vigil::sigma::BuiltinFieldMap()) {
    std::string sigma = e.sigma;
    std::string row = sigma == "a0 .. aN" ? "| `a0`, `a1`, ... `aN` | `" + std::string(e.vigil) + "` |"
                                          : "| `" + sigma + "` | `" + e.vigil + "` |";
    INFO(row);
    CHECK(doc.find(row) != std::string::npos);
  }
}
