// SPDX-License-Identifier: Apache-2.0
// Rules files with Falco's semantics: lists, macros, append/override,
// exceptions, enabled, multiple files and directories; alerts; the `tests:`
// runner; replay.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "engine/event_json.h"
#include "engine/replay.h"
#include "engine/rule_engine.h"
#include "engine/rule_tests.h"
#include "engine_test_util.h"

using vigil::Diagnostics;
using vigil::Event;
using vigil::OwnedAncestors;
using vigil::RuleEngine;

namespace {

using vigil::testing::Loaded;

std::unique_ptr<Loaded> Load(std::vector<std::pair<std::string, std::string>> files) {
  auto l = std::make_unique<Loaded>();
  vigil::HostInfo host;
  host.hostname = "h1";
  l->engine = RuleEngine::LoadTexts(files, &l->diags, host);
  return l;
}

std::vector<std::string> Fired(const RuleEngine& eng, const Event& e) {
  std::vector<const vigil::CompiledRule*> fired;
  eng.Match(e, &fired);
  std::vector<std::string> names;
  for (auto* r : fired) names.push_back(r->name);
  return names;
}

Event ExecNamed(const std::string& name, OwnedAncestors* anc) {
  Event e = vigil::testing::MakeExec(anc);
  e.proc.name = name;
  return e;
}

const char* kRuleHead = R"(
- rule: shell
  desc: a shell ran
  condition: evt.type = execve and proc.name in (shell_binaries)
  output: "shell %proc.name parent=%proc.pname image=%container.image.repository pid=%proc.pid"
  priority: WARNING
  tags: [process, mitre_execution]
)";

}  // namespace

TEST_CASE("lists in lists and macros in macros", "[unit]") {
  auto l = Load({{"a.yaml", R"(
- list: base_shells
  items: [sh, bash]
- list: shell_binaries
  items: [base_shells, zsh]
- macro: spawned
  condition: evt.type = execve
- macro: spawned_shell
  condition: spawned and proc.name in (shell_binaries)
- rule: r
  desc: d
  condition: spawned_shell and not proc.pname = cron
  output: "%proc.name"
  priority: notice
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  CHECK(Fired(*l->engine, ExecNamed("zsh", &anc)) == std::vector<std::string>{"r"});
  CHECK(Fired(*l->engine, ExecNamed("sh", &anc)) == std::vector<std::string>{"r"});
  CHECK(Fired(*l->engine, ExecNamed("fish", &anc)).empty());
}

TEST_CASE("append and override: lists, macros, rules", "[unit]") {
  auto l = Load({{"base.yaml", std::string(R"(
- list: shell_binaries
  items: [sh]
- macro: interesting
  condition: proc.pid = 100
)") + kRuleHead},
                 {"local.yaml", R"(
- list: shell_binaries
  items: [bash]
  append: true
- macro: interesting
  condition: or proc.pid = 7
  append: true
- rule: shell
  condition: and interesting
  append: true
- rule: shell
  override:
    priority: replace
    tags: append
  priority: CRITICAL
  tags: [extra]
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  const auto* r = l->engine->FindRule("shell");
  REQUIRE(r != nullptr);
  CHECK(r->priority == vigil::Priority::kCritical);
  CHECK(r->tags == std::vector<std::string>{"process", "mitre_execution", "extra"});
  // Condition concatenation: "<rule> and interesting", and the macro became "pid = 100 or pid = 7".
  CHECK(r->condition.find("and interesting") != std::string::npos);
  OwnedAncestors anc;
  Event e = ExecNamed("bash", &anc);  // bash only via the appended list item
  CHECK(Fired(*l->engine, e).size() == 1);
  e.proc.pid = 7;
  CHECK(Fired(*l->engine, e).size() == 1);
  e.proc.pid = 8;
  CHECK(Fired(*l->engine, e).empty());

  auto replace = Load({{"base.yaml", std::string(R"(
- list: shell_binaries
  items: [sh]
)") + kRuleHead},
                       {"local.yaml", R"(
- list: shell_binaries
  items: [fish]
  override:
    items: replace
- rule: shell
  condition: evt.type = execve and proc.name = sh
  override:
    condition: replace
)"}});
  INFO(replace->diags.ToString());
  REQUIRE(replace->diags.ErrorCount() == 0);
  CHECK(Fired(*replace->engine, ExecNamed("sh", &anc)).size() == 1);
  CHECK(Fired(*replace->engine, ExecNamed("bash", &anc)).empty());
}

TEST_CASE("exceptions: both forms, list cells, appended values", "[unit]") {
  auto l = Load({{"x.yaml", std::string(R"(
- list: shell_binaries
  items: [sh, bash, zsh]
- list: trusted_parents
  items: [cron, sshd]
- rule: shell
  desc: d
  condition: evt.type = execve and proc.name in (shell_binaries)
  output: "%proc.name"
  priority: warning
  exceptions:
    - name: by_name
      fields: proc.name
      comps: in
      values: [zsh]
    - name: by_pair
      fields: [proc.name, proc.pname]
      comps: [=, in]
      values:
        - [bash, [trusted_parents]]
        - [sh, [init, systemd]]
)")},
                 {"y.yaml", R"(
- rule: shell
  append: true
  exceptions:
    - name: by_name
      values: [dash]
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  CHECK(Fired(*l->engine, ExecNamed("zsh", &anc)).empty());   // single-field form
  CHECK(Fired(*l->engine, ExecNamed("bash", &anc)).empty());  // parent sshd is in trusted_parents
  CHECK(Fired(*l->engine, ExecNamed("sh", &anc)).size() == 1);
  Event e = ExecNamed("sh", &anc);
  anc.chain[0].name = "systemd";
  CHECK(Fired(*l->engine, e).empty());
  const auto* r = l->engine->FindRule("shell");
  REQUIRE(r != nullptr);
  CHECK(r->exceptions_check != nullptr);
}

TEST_CASE("enabled, duplicates, redefinition, all rules fire, sources", "[unit]") {
  auto l = Load({{"a.yaml", R"(
- required_engine_version: 0.57.0
- required_plugin_versions:
    - name: container
      version: 0.4.0
- rule: one
  desc: d
  condition: evt.type = execve
  output: one
  priority: info
- rule: two
  desc: d
  condition: evt.type = execve and proc.name = bash
  output: two
  priority: info
- rule: off
  desc: d
  condition: evt.type = execve
  output: off
  priority: info
  enabled: false
- rule: k8s
  desc: d
  condition: ka.verb = create
  output: x
  priority: info
  source: k8s_audit
)"},
                 {"b.yaml", R"(
- rule: two
  enabled: false
- rule: one
  desc: redefined
  condition: evt.type = execve and proc.name = zsh
  output: one again
  priority: error
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  CHECK(l->engine->document().required_engine_versions == std::vector<std::string>{"0.57.0"});
  REQUIRE(l->engine->document().required_plugins.size() == 1);
  CHECK(l->engine->document().required_plugins[0].name == "container");
  CHECK(l->engine->stats().rules_skipped == 1);
  CHECK_THAT(l->diags.ToString(), Catch::Contains("source 'k8s_audit' is not an event source vigil has"));
  OwnedAncestors anc;
  CHECK(Fired(*l->engine, ExecNamed("bash", &anc)).empty());  // two disabled, one redefined
  CHECK(Fired(*l->engine, ExecNamed("zsh", &anc)) == std::vector<std::string>{"one"});

  auto both = Load({{"a.yaml", R"(
- rule: one
  desc: d
  condition: evt.type = execve
  output: one
  priority: info
- rule: two
  desc: d
  condition: evt.type = execve and proc.name = bash
  output: two
  priority: info
)"}});
  CHECK(Fired(*both->engine, ExecNamed("bash", &anc)) == std::vector<std::string>{"one", "two"});

  auto dup = Load({{"d.yaml", R"(
- macro: m
  condition: proc.name = a
- macro: m
  condition: proc.name = b
)"}});
  CHECK_THAT(dup->diags.ToString(), Catch::Contains("d.yaml:4:3: error: macro 'm': duplicate macro name in this file"));
}

TEST_CASE("files and directories load in order", "[unit]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vigil_rules_dir_" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "10-base.yaml") << "- list: l\n  items: [a]\n";
  std::ofstream(dir / "20-more.yml") << "- list: l\n  items: [b]\n  append: true\n";
  std::ofstream(dir / "30-ignored.txt") << "not yaml: [\n";
  std::ofstream(dir / "sub" / "x.yaml") << "- list: l\n  items: [c]\n  append: true\n";
  fs::path rule = dir.parent_path() / ("vigil_rule_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(rule) << "- rule: r\n  desc: d\n  condition: evt.type = execve and proc.name in (l)\n"
                         "  output: o\n  priority: info\n";
  Diagnostics diags;
  auto eng = RuleEngine::Load({dir.string(), rule.string()}, &diags, vigil::HostInfo{});
  INFO(diags.ToString());
  CHECK(diags.ErrorCount() == 0);
  REQUIRE(eng->document().files.size() == 3);
  CHECK(eng->document().files[0].find("10-base.yaml") != std::string::npos);
  CHECK(eng->document().files[1].find("20-more.yml") != std::string::npos);
  OwnedAncestors anc;
  CHECK(Fired(*eng, ExecNamed("b", &anc)).size() == 1);
  CHECK(Fired(*eng, ExecNamed("c", &anc)).empty());  // not recursive
  fs::remove_all(dir);
  fs::remove(rule);
}

// Issue 24 item 12: a path with a NUL byte read another file (the name cut at
// the NUL) or, when that was a directory, said "larger than 16777216 bytes";
// a FIFO or /dev/zero would block or never end.
TEST_CASE("rules paths: NUL bytes, FIFOs and devices are located errors", "[unit]") {
  namespace fs = std::filesystem;
  fs::path fifo = fs::temp_directory_path() / ("vigil_rules_fifo_" + std::to_string(::getpid()));
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string with_nul = std::string("/tmp\0/x.yaml", 13);
  Diagnostics diags;
  auto eng = RuleEngine::Load({with_nul, fifo.string(), "/dev/zero"}, &diags, vigil::HostInfo{});
  const std::string text = diags.ToString();
  INFO(text);
  CHECK(diags.ErrorCount() == 3);
  CHECK_THAT(text, Catch::Contains("error: path contains a NUL byte"));
  CHECK_THAT(text, Catch::Contains(fifo.string() + ": error: not a regular file"));
  CHECK_THAT(text, Catch::Contains("/dev/zero: error: not a regular file"));
  fs::remove(fifo);
}

TEST_CASE("warnings: unused macros and lists, all event types, unknown keys", "[unit]") {
  auto l = Load({{"w.yaml", R"(
- list: never_used
  items: [a]
- macro: also_unused
  condition: proc.name = a
- rule: everything
  desc: d
  condition: proc.name = bash
  output: o
  priority: info
  colour: red
- rule: quiet
  desc: d
  condition: proc.name = zsh
  output: o
  priority: info
  warn_evttypes: false
- rule: skipped
  desc: d
  condition: evt.type = execve and proc.frobnicate = 1
  output: o
  priority: info
  skip-if-unknown-filter: true
)"}});
  std::string all = l->diags.ToString();
  INFO(all);
  CHECK(l->diags.ErrorCount() == 0);
  CHECK_THAT(all, Catch::Contains("w.yaml:2:3: warning: list 'never_used': list is never used"));
  CHECK_THAT(all, Catch::Contains("w.yaml:4:3: warning: macro 'also_unused': macro is never used"));
  CHECK_THAT(all, Catch::Contains("w.yaml:6:3: warning: rule 'everything': condition: condition matches every event type"));
  CHECK_THAT(all, Catch::Contains("warning: rule 'everything': unknown key 'colour'"));
  CHECK_THAT(all, Catch::Contains("unknown field 'proc.frobnicate' (rule skipped: skip-if-unknown-filter)"));
  CHECK(all.find("rule 'quiet': condition: condition matches every") == std::string::npos);
  CHECK(l->engine->FindRule("skipped") == nullptr);
}

// Falco accepts `intersects` on a single-valued field and compares the whole
// value (its incubating rules use `proc.args intersects (...)`): loaded, but
// warned, since a per-element test was likely meant. List fields: no warning.
TEST_CASE("intersects on a single-valued field is a located warning; on a list field it is not", "[unit]") {
  auto l = Load({{"i.yaml", R"(
- rule: version probe
  desc: d
  condition: evt.type = execve and proc.args intersects ("-V", "-h")
  output: o
  priority: info
- rule: helpers
  desc: d
  condition: evt.type = bpf and bpf.prog.helpers intersects (36)
  output: o
  priority: info
)"}});
  std::string all = l->diags.ToString();
  INFO(all);
  CHECK(l->diags.ErrorCount() == 0);
  CHECK(l->diags.WarningCount() == 1);
  CHECK_THAT(all, Catch::Contains("i.yaml:4:36: warning: rule 'version probe': condition: 'intersects' on "
                                  "single-valued field 'proc.args' compares the whole value, like 'in'"));
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  e.proc.argv = {"tool", "-V"};
  CHECK(Fired(*l->engine, e) == std::vector<std::string>{"version probe"});
  e.proc.argv = {"tool", "-V", "-x"};  // the whole value "-V -x" is not in the set
  CHECK(Fired(*l->engine, e).empty());
}

TEST_CASE("a folded output scalar renders without its trailing newline, as Falco trims it", "[unit]") {
  auto l = Load({{"a.yaml", "- rule: folded\n  desc: d\n  condition: evt.type = execve\n"
                            "  output: >\n    ran %proc.name\n    (pid=%proc.pid)\n  priority: NOTICE\n"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  std::vector<const vigil::CompiledRule*> fired;
  l->engine->Match(e, &fired);
  REQUIRE(fired.size() == 1);
  CHECK(l->engine->MakeAlert(*fired[0], e).output == "ran bash (pid=100)");
}

TEST_CASE("alerts carry rendered output, typed fields and context", "[unit]") {
  auto l = Load({{"a.yaml", std::string("- list: shell_binaries\n  items: [bash]\n") + kRuleHead +
                                "  action: kill\n"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  e.enforcement = "kill";
  std::vector<const vigil::CompiledRule*> fired;
  l->engine->Match(e, &fired);
  REQUIRE(fired.size() == 1);
  vigil::Alert a = l->engine->MakeAlert(*fired[0], e);
  CHECK(a.rule == "shell");
  CHECK(a.priority == vigil::Priority::kWarning);
  CHECK(a.output == "shell bash parent=sshd image=<NA> pid=100");
  REQUIRE(a.output_fields.size() == 4);
  CHECK(a.output_fields[0].first == "proc.name");
  CHECK(std::get<std::string>(a.output_fields[0].second) == "bash");
  CHECK(std::holds_alternative<std::monostate>(a.output_fields[2].second));
  CHECK(std::get<int64_t>(a.output_fields[3].second) == 100);
  CHECK(a.tags == std::vector<std::string>{"process", "mitre_execution"});
  CHECK(a.hostname == "h1");
  CHECK(a.source == "syscall");
  CHECK(a.action == "kill");
  CHECK(a.enforcement == "kill");
  CHECK(a.time_ns == e.wall_ns);
  CHECK(a.uuid.size() == 36);
  CHECK(a.process.pid == 100);
  CHECK(a.process.cmdline == "bash -c Echo Hi");
  CHECK(a.process.parent_name == "sshd");
  CHECK(a.container_id == "host");
  CHECK(a.event_type == vigil::EventType::execve);
}

TEST_CASE("vigil extensions: action validation and tests: runner", "[unit]") {
  auto bad = Load({{"a.yaml", R"(
- rule: r
  desc: d
  condition: evt.type = execve
  output: o
  priority: info
  action: explode
)"}});
  CHECK_THAT(bad->diags.ToString(), Catch::Contains("a.yaml:7:11: error: rule 'r': action: expected alert, deny or kill; got 'explode'"));

  auto l = Load({{"t.yaml", R"(
- rule: shell from sshd
  desc: d
  condition: evt.type = execve and proc.name = bash and proc.aname[1] = sshd
  output: o
  priority: info
  action: deny
  tests:
    - name: interactive
      event:
        proc.name: bash
        proc.aname[1]: sshd
      expect: match
    - name: from cron
      event: {proc.name: bash, proc.pname: cron}
      expect: no_match
    - name: wrong expectation
      event: {evt.type: execve, proc.name: zsh}
      expect: match
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  auto report = vigil::RunRuleTests(*l->engine);
  REQUIRE(report.results.size() == 3);
  CHECK(report.passed == 2);
  CHECK(report.failed == 1);
  CHECK(report.results[0].passed);
  CHECK(report.results[1].passed);
  CHECK_FALSE(report.results[2].passed);
  CHECK_THAT(report.results[2].detail, Catch::Contains("expected match, got no match"));
  CHECK_THAT(report.results[2].detail, Catch::Contains("false  proc.name = bash"));

  auto badtest = Load({{"u.yaml", R"(
- rule: r
  desc: d
  condition: evt.type = execve
  output: o
  priority: info
  tests:
    - event: {proc.nmae: bash}
      expect: match
)"}});
  auto badexpect = Load({{"u.yaml", R"(
- rule: r
  desc: d
  condition: evt.type = execve
  output: o
  priority: info
  tests:
    - event: {proc.name: bash}
      expect: maybe
)"}});
  // file-time setters: a value they cannot take is a located error, not a wrapped or default time
  auto badtime = Load({{"v.yaml", R"(
- rule: r
  desc: d
  condition: evt.type = utimensat and fs.mtime.age > 86400
  output: o
  priority: info
  tests:
    - event: {evt.rawtime: -5}
      expect: match
    - event: {fs.mtime: yesterday}
      expect: match
)"}});
  // (values are checked when the case runs: the result names the test and the field)
  REQUIRE(badtime->diags.ErrorCount() == 0);
  auto times = vigil::RunRuleTests(*badtime->engine);
  REQUIRE(times.results.size() == 2);
  CHECK(times.failed == 2);
  CHECK(times.results[0].detail == "field 'evt.rawtime': expected ns since the epoch (0 or more), got '-5'");
  CHECK(times.results[1].detail == "field 'fs.mtime': expected ns since the epoch, now or omit");

  std::string all = badtest->diags.ToString() + badexpect->diags.ToString();
  CHECK_THAT(all, Catch::Contains("u.yaml:8:15: error: rule 'r': tests: test 'case 1': unknown field 'proc.nmae'"));
  CHECK_THAT(all, Catch::Contains("u.yaml:9:15: error: rule 'r': tests: expected 'expect: match' or 'expect: no_match'"));
}

TEST_CASE("inline tests set evt.arg.mode in octal and proc.pre_exec_name on an exec", "[unit]") {
  // Issue 17: the setgid-only regression test (02755) and the perl-exec shell test needed both.
  auto l = Load({{"m.yaml", R"(
- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.rawres = 0)
- rule: r
  desc: d
  condition: evt.type = fchmodat and (evt.arg.mode contains S_ISUID or evt.arg.mode contains S_ISGID)
  output: o
  priority: info
  tests:
    - {name: setgid, event: {evt.type: fchmodat, evt.arg.mode: "02755"}, expect: match}
    - {name: sticky, event: {evt.type: fchmodat, evt.arg.mode: "01777"}, expect: no_match}
    - {name: not octal, event: {evt.type: fchmodat, evt.arg.mode: "0x1ed"}, expect: match}
    - {name: too long, event: {evt.type: fchmodat, evt.arg.mode: "012345670"}, expect: match}
- rule: s
  desc: d
  condition: spawned_process and proc.pre_exec_name = perl
  output: o
  priority: info
  tests:
    - {name: perl exec, event: {evt.type: execve, proc.pre_exec_name: perl}, expect: match}
    - {name: python exec, event: {evt.type: execve, proc.pre_exec_name: python3}, expect: no_match}
    - {name: not an exec, event: {evt.type: openat, proc.pre_exec_name: perl}, expect: no_match}
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  auto report = vigil::RunRuleTests(*l->engine);
  REQUIRE(report.results.size() == 7);
  CHECK(report.passed == 5);
  CHECK(report.failed == 2);
  CHECK(report.results[2].detail == "field 'evt.arg.mode': expected an octal mode such as 04755, got '0x1ed'");
  CHECK(report.results[3].detail == "field 'evt.arg.mode': expected an octal mode such as 04755, got '012345670'");
}

TEST_CASE("proc.is_vigil_self: the live agent's own process, never a recorded or unknown one", "[unit]") {
  const char* rule = R"(
- rule: not vigil
  desc: d
  condition: evt.type in (open, openat) and not proc.is_vigil_self = true
  output: o
  priority: info
  tests:
    - name: the agent itself
      event: {proc.is_vigil_self: true}
      expect: no_match
    - name: another process
      event: {proc.pid: 4242, proc.is_vigil_self: false}
      expect: match
)";
  auto load = [&](uint32_t sensor_pid) {
    auto l = std::make_unique<Loaded>();
    vigil::HostInfo host;
    host.sensor_pid = sensor_pid;
    l->engine = RuleEngine::LoadTexts({{"s.yaml", rule}}, &l->diags, host);
    REQUIRE(l->diags.ErrorCount() == 0);
    return l;
  };
  OwnedAncestors anc;
  Event e = vigil::testing::MakeOpen(&anc);

  auto live = load(4242);
  e.proc.pid = 4242;
  CHECK(Fired(*live->engine, e).empty());
  e.proc.pid = 4243;
  CHECK(Fired(*live->engine, e) == std::vector<std::string>{"not vigil"});
  auto report = vigil::RunRuleTests(*live->engine);
  CHECK(report.passed == 2);
  CHECK(report.failed == 0);

  // Recorded events (replay, explain): no sensor pid, so no event is vigil's, not even pid 0.
  auto recorded = load(0);
  for (uint32_t pid : {0u, 4242u}) {
    e.proc.pid = pid;
    CHECK(Fired(*recorded->engine, e) == std::vector<std::string>{"not vigil"});
  }
  auto none = vigil::RunRuleTests(*recorded->engine);
  REQUIRE(none.results.size() == 2);
  CHECK(none.failed == 2);
  CHECK(none.results[0].detail == "field 'proc.is_vigil_self': this engine evaluates no live sensor's events");

  // The shipped default: this process is the sensor.
  CHECK(vigil::HostInfo::FromSystem().sensor_pid == static_cast<uint32_t>(getpid()));

  auto bad = Load({{"b.yaml", R"(
- rule: r
  desc: d
  condition: evt.type = openat
  output: o
  priority: info
  tests:
    - event: {proc.is_vigil_self: maybe}
      expect: match
)"}});
  REQUIRE(bad->diags.ErrorCount() == 0);
  auto maybe = vigil::RunRuleTests(*bad->engine);
  REQUIRE(maybe.results.size() == 1);
  CHECK(maybe.results[0].detail == "field 'proc.is_vigil_self': expected true or false");
}

TEST_CASE("explain shows each sub-condition", "[unit]") {
  auto l = Load({{"a.yaml", std::string("- list: shell_binaries\n  items: [sh]\n") + kRuleHead}});
  OwnedAncestors anc;
  Event e = vigil::testing::MakeExec(&anc);
  std::string text = l->engine->Explain(*l->engine->FindRule("shell"), e);
  CHECK_THAT(text, Catch::Contains("rule 'shell': no match"));
  CHECK_THAT(text, Catch::Contains("  true   evt.type = execve"));
  CHECK_THAT(text, Catch::Contains("  false  proc.name in (shell_binaries)    [proc.name = 'bash']"));
}

TEST_CASE("replay: recorded JSON lines in, the live sensor's alerts out", "[unit]") {
  auto l = Load({{"a.yaml", std::string("- list: shell_binaries\n  items: [bash]\n") + kRuleHead}});
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  std::string lines;
  Event e = vigil::testing::MakeExec(&anc);
  vigil::AppendEventJson(e, &lines);
  lines += "\n\n{\"evt.type\": \"execve\", \"proc.name\": \"zsh\"}\nnot json\n";
  vigil::AppendEventJson(vigil::testing::MakeOpen(&anc), &lines);
  lines += "\n";
  vigil::AppendEventJson(e, &lines);
  lines += "\n";
  std::istringstream in(lines);
  std::vector<vigil::Alert> alerts;
  std::vector<uint64_t> bad;
  auto stats = vigil::Replay(
      in, *l->engine, [&](const vigil::Alert& a) { alerts.push_back(a); },
      [&](uint64_t n, const std::string&) { bad.push_back(n); });
  CHECK(stats.events == 4);
  CHECK(stats.bad_lines == 1);
  CHECK(bad == std::vector<uint64_t>{4});
  REQUIRE(alerts.size() == 2);
  CHECK(alerts[0].output == "shell bash parent=sshd image=<NA> pid=100");
  CHECK(alerts[0].process.parent_name == "sshd");  // ancestors travel in the line
  CHECK(alerts[0].uuid != alerts[1].uuid);
}

// Issue 24 item 14: a 200 MB line was read whole (2.5 GB RSS). A line over
// the cap is a located bad line, the lines around it still replay, and a last
// line without a newline is still read.
TEST_CASE("replay: an over-long line is a located bad line, not held whole", "[unit]") {
  auto l = Load({{"a.yaml", std::string("- list: shell_binaries\n  items: [bash]\n") + kRuleHead}});
  REQUIRE(l->diags.ErrorCount() == 0);
  OwnedAncestors anc;
  std::string event;
  vigil::AppendEventJson(vigil::testing::MakeExec(&anc), &event);
  std::string text = event + "\n{\"evt.type\": \"" + std::string(vigil::kMaxReplayLineBytes + 10, 'x') + "\"}\n" + event;
  std::istringstream in(text);
  std::vector<std::string> bad;
  std::size_t alerts = 0;
  auto stats = vigil::Replay(
      in, *l->engine, [&](const vigil::Alert&) { ++alerts; },
      [&](uint64_t n, const std::string& m) { bad.push_back(std::to_string(n) + ": " + m); });
  CHECK(stats.lines == 3);
  CHECK(stats.events == 2);
  CHECK(alerts == 2);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0] == "2: line of " + std::to_string(vigil::kMaxReplayLineBytes + 26) +
                      " bytes, longer than the 1048576 an event can take: skipped");
}

// Issue 24 item 4: macro and list expansion was unbounded: 40 self-doubling
// macros (a 1.6 KB file) took >12 GB and >120 s; nested lists of 500 bytes
// expanded to 6.6 GB. Each is now a located error, found quickly.
TEST_CASE("macro and list expansion is bounded, with a located error", "[unit]") {
  std::string macros = "- macro: m0\n  condition: evt.type = open\n";
  std::string lists = "- list: l0\n  items: [a, b]\n";
  for (int i = 1; i < 40; ++i) {
    const std::string prev = std::to_string(i - 1), cur = std::to_string(i);
    macros += "- macro: m" + cur + "\n  condition: m" + prev + " or m" + prev + "\n";
    lists += "- list: l" + cur + "\n  items: [l" + prev + ", l" + prev + "]\n";
  }
  const std::string rule = "- rule: bomb\n  desc: d\n  condition: m39\n  output: x\n  priority: notice\n";
  const auto start = std::chrono::steady_clock::now();
  auto m = Load({{"macros.yaml", macros + rule}});
  auto l = Load({{"lists.yaml", lists}});
  // 16 doublings (65,536 items) pass; two of them in one comparison do not.
  std::string pair = "- list: l0\n  items: [a, b]\n";
  for (int i = 1; i <= 15; ++i)
    pair += "- list: l" + std::to_string(i) + "\n  items: [l" + std::to_string(i - 1) + ", l" +
            std::to_string(i - 1) + "]\n";
  pair += "- rule: twice\n  desc: d\n  condition: evt.type = execve and proc.name in (l15, l15)\n  output: x\n"
          "  priority: notice\n";
  auto p = Load({{"pair.yaml", pair}});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 10);

  const std::string md = m->diags.ToString(), ld = l->diags.ToString(), pd = p->diags.ToString();
  INFO(md << "\n" << ld << "\n" << pd);
  CHECK(m->diags.ErrorCount() == 1);
  CHECK(md.find("macros.yaml:") != std::string::npos);
  CHECK(md.find("rule 'bomb'") != std::string::npos);
  CHECK(md.find("condition expands to more than 100000 nodes through its macros (expanding m39 > m38") !=
        std::string::npos);
  CHECK(l->diags.ErrorCount() == 1);  // once, at l16 (2 x 65,536), not again for every list above it
  CHECK(ld.find("lists.yaml:") != std::string::npos);
  CHECK(ld.find("list 'l16'") != std::string::npos);
  CHECK(ld.find("expands to more than 100000 items (at list 'l15')") != std::string::npos);
  CHECK(p->diags.ErrorCount() == 1);
  CHECK(pd.find("rule 'twice'") != std::string::npos);
  CHECK(pd.find("the values of this comparison expand to more than 100000 list items (at list 'l15')") !=
        std::string::npos);
}

TEST_CASE("rules paths: an empty directory warns only when no path gives a file", "[unit]") {
  char tmpl[] = "/tmp/vigil-rules-paths-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/pkg");
  std::filesystem::create_directories(dir + "/dropin");
  std::ofstream(dir + "/pkg/a.yaml") << "- list: x\n  items: []\n";

  Diagnostics both;
  const auto files = vigil::rules::ExpandRulesPaths({dir + "/pkg", dir + "/dropin"}, &both);
  CHECK(files == std::vector<std::string>{dir + "/pkg/a.yaml"});
  INFO(both.ToString());
  CHECK(both.WarningCount() == 0);
  CHECK(both.ErrorCount() == 0);

  Diagnostics only_empty;
  CHECK(vigil::rules::ExpandRulesPaths({dir + "/dropin"}, &only_empty).empty());
  CHECK(only_empty.WarningCount() == 1);
  CHECK(only_empty.ToString().find("dropin: warning: directory has no *.yaml or *.yml files") != std::string::npos);
  std::filesystem::remove_all(dir);
}

// Issue 18: a rule that can never fire in vigil (only uncaptured syscalls,
// or a decision resting on a field that is always <NA>) is a located warning
// saying why; rules that can fire, and disabled rules, get none.
TEST_CASE("rules that can never fire are warned about, located", "[unit]") {
  std::string path = std::string(VIGIL_FIXTURES_DIR) + "/never_fire.yaml";
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  CHECK(diags.ErrorCount() == 0);
  struct Row {
    const char* rule;
    int line;
    const char* why;  // "" = may fire, no warning
  };
  const Row rows[] = {
      {"recv only", 4, "evt.type splice, pwritev is never captured by vigil"},
      {"na field only", 9, "'fd.name_changed' is always <NA> in vigil"},
      {"both branches dead", 14,
       "evt.type splice is never captured by vigil; 'proc.is_exe_writable' is always <NA> in vigil"},
      {"mixed types", 19, ""},
      {"na under not", 24, ""},
      {"disabled dead rule", 29, ""},  // never_fires is set, but not warned
  };
  std::string all = diags.ToString();
  for (const auto& row : rows) {
    INFO(row.rule << "\n" << all);
    const vigil::CompiledRule* r = eng->FindRule(row.rule);
    REQUIRE(r != nullptr);
    std::string warning = path + ":" + std::to_string(row.line) + ":3: warning: rule '" + row.rule +
                          "': condition: rule can never fire in vigil: " + row.why;
    if (*row.why != '\0') {
      CHECK(r->never_fires == row.why);
      CHECK_THAT(all, Catch::Contains(warning));
    } else {
      CHECK_THAT(all, !Catch::Contains("rule '" + std::string(row.rule) + "': condition: rule can never fire"));
    }
  }
  CHECK(eng->stats().rules_never_fire == 3);
}

// Issue 18: exceptions may name transformed fields, as Falco 0.38+ allows
// (`fields: [tolower(proc.name)]`); a name that is no transformer is an error
// located at the exception.
TEST_CASE("exceptions with transformers", "[unit]") {
  auto l = Load({{"e.yaml", R"(- rule: r
  desc: d
  condition: evt.type = execve and proc.name startswith b
  output: o
  priority: WARNING
  exceptions:
    - name: lowered
      fields: [tolower(proc.name), basename(proc.exepath)]
      comps: [=, =]
      values:
        - [bash, bash]
    - name: upper
      fields: toupper(proc.pname)
      values: [SSHD]
  tests:
    - name: both cells hold
      event: {proc.name: BASH, proc.exepath: /usr/bin/bash}
      expect: no_match
    - name: one cell fails
      event: {proc.name: bash, proc.exepath: /usr/bin/other}
      expect: match
    - name: single-field form
      event: {proc.name: bin, proc.pname: sshd}
      expect: no_match
    - name: no exception
      event: {proc.name: bin, proc.pname: cron}
      expect: match
)"}});
  INFO(l->diags.ToString());
  REQUIRE(l->diags.ErrorCount() == 0);
  auto report = vigil::RunRuleTests(*l->engine);
  CHECK(report.results.size() == 4);
  CHECK(report.failed == 0);
  for (const auto& r : report.results) {
    INFO(r.name << ": " << r.detail);
    CHECK(r.passed);
  }
  auto bad = Load({{"b.yaml", R"(- rule: r
  desc: d
  condition: evt.type = execve
  output: o
  priority: WARNING
  exceptions:
    - name: bad
      fields: [lower(proc.name)]
      comps: [=]
      values: [[a]]
)"}});
  CHECK_THAT(bad->diags.ToString(),
             Catch::Contains("b.yaml:7:7: error: rule 'r': exceptions: invalid exception: unknown transformer 'lower'"));
}
