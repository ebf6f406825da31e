// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the engine unit tests: a few fixed events and a way to
// compile one condition without a rules file.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/condition/parser.h"
#include "engine/event.h"
#include "engine/fields/field_table.h"
#include "engine/interest.h"
#include "engine/rule_engine.h"

namespace vigil::testing {

#if defined(VIGIL_RULES_DIR) && defined(VIGIL_FALCO_RULES_DIR)
// What the whole-ruleset tests load one at a time: vigil's default rules and
// each of Falco's rule files (stable, incubating, sandbox).
inline std::vector<std::string> DefaultAndFalcoRuleSets() {
  return {std::string(VIGIL_RULES_DIR), std::string(VIGIL_FALCO_RULES_DIR) + "/falco_rules.yaml",
          std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
          std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml"};
}
#endif

// One rules file's text, loaded; the test stops when the load reports an error.
inline std::unique_ptr<RuleEngine> LoadCleanText(const std::string& text) {
  Diagnostics diags;
  auto eng = RuleEngine::LoadTexts({{"t.yaml", text}}, &diags);
  INFO(diags.ToString());
  REQUIRE(diags.ErrorCount() == 0);
  REQUIRE(eng != nullptr);
  return eng;
}

// The interest tests' rule `r`: its condition, its output and any further
// keys (`more`, YAML lines of the rule).
inline std::string InterestRule(const std::string& condition, const std::string& output = "o",
                                const std::string& more = "") {
  return "- rule: r\n  desc: d\n  priority: WARNING\n  condition: " + condition + "\n  output: " + output + "\n" +
         more;
}

// A rules text and whether its rule `r` switches a capture on (an Interest
// flag: a field that is copied only while an enabled rule reads it).
struct InterestRow {
  const char* name;
  std::string text;
  bool on;
};

// For each row: loaded, DeriveInterest() has `flag` as the row says and names
// rule `r` (or none) in `rule`; `stays_off`, when given, is off for all rows.
inline void CheckInterestRows(const std::vector<InterestRow>& rows, bool Interest::*flag, std::string Interest::*rule,
                              bool Interest::*stays_off = nullptr) {
  for (const auto& row : rows) {
    INFO(row.name);
    auto eng = LoadCleanText(row.text);
    const Interest in = DeriveInterest(*eng);
    CHECK(in.*flag == row.on);
    CHECK(in.*rule == (row.on ? "r" : ""));
    if (stays_off != nullptr) CHECK_FALSE(in.*stays_off);
  }
}

// A ruleset as loaded, with what its load reported.
struct Loaded {
  std::unique_ptr<RuleEngine> engine;
  Diagnostics diags;
};

// bash (pid 100, ppid 50) run by sshd (50) under systemd (1): `bash -c "Echo Hi"`.
inline void FillProcess(Event* e, OwnedAncestors* anc) {
  e->proc.pid = 100;
  e->proc.tid = 100;
  e->proc.ppid = 50;
  e->proc.name = "bash";
  e->proc.exepath = "/usr/bin/bash";
  e->proc.argv = {"bash", "-c", "Echo Hi"};
  e->proc.cwd = "/home/u";
  e->proc.uid = 0;
  e->proc.loginuid = 1000;
  e->proc.container_id = "";
  e->proc.cap_effective = (1ull << 21) | (1ull << 0);  // CAP_SYS_ADMIN, CAP_CHOWN
  ProcessInfo sshd;
  sshd.pid = 50;
  sshd.name = "sshd";
  sshd.exepath = "/usr/sbin/sshd";
  sshd.argv = {"sshd", "-D"};
  ProcessInfo init;
  init.pid = 1;
  init.name = "systemd";
  init.exepath = "/usr/lib/systemd/systemd";
  anc->chain = {sshd, init};
  e->ancestors = anc;
}

inline Event MakeExec(OwnedAncestors* anc) {
  Event e;
  e.type = EventType::execve;
  e.wall_ns = 1795000000000000000ull;
  FillProcess(&e, anc);
  return e;
}

inline Event MakeOpen(OwnedAncestors* anc) {
  Event e;
  e.type = EventType::openat;
  FillProcess(&e, anc);
  e.file.fd = 3;
  e.file.path = "shadow";
  e.file.abspath = "/etc/shadow";
  e.file.flags = 02 | 0100;  // O_RDWR|O_CREAT
  e.res = 3;
  return e;
}

inline Event MakeConnect(OwnedAncestors* anc) {
  Event e;
  e.type = EventType::connect;
  FillProcess(&e, anc);
  e.net.fd = 4;
  e.net.family = 2;
  e.net.type = 1;
  e.net.protocol = 6;
  e.net.local_addr.bytes[0] = 192, e.net.local_addr.bytes[1] = 168, e.net.local_addr.bytes[3] = 5;
  e.net.local_port = 40000;
  e.net.remote_addr.bytes[0] = 10, e.net.remote_addr.bytes[1] = 1, e.net.remote_addr.bytes[2] = 2,
  e.net.remote_addr.bytes[3] = 3;
  e.net.remote_port = 443;
  return e;
}

// Compiles `text` with no macros or lists. `error` gets the diagnostics (or parse error).
struct Compiled {
  std::unique_ptr<compile::Check> check;
  compile::EventTypeSet types;
  std::string error;
  uint32_t error_offset = 0;
};

inline Compiled CompileText(const std::string& text) {
  Compiled out;
  auto parsed = condition::ParseCondition(text);
  if (!parsed.root) {
    out.error = parsed.error;
    out.error_offset = parsed.error_offset;
    return out;
  }
  std::map<std::string, compile::MacroEntry> macros;
  std::map<std::string, compile::ListEntry> lists;
  compile::ListEntry l;
  l.items = {"sh", "bash"};
  lists["shells"] = l;
  Diagnostics diags;
  compile::Compiler c(&macros, &lists, &diags);
  compile::ItemContext ctx;
  ctx.kind = "rule";
  ctx.name = "t";
  ctx.text = text;
  ctx.locate = [](uint32_t off) { return SourceLoc{"cond", 1, off + 1}; };
  auto r = c.Compile(*parsed.root, ctx);
  if (!r.ok) {
    out.error = diags.ToString();
    return out;
  }
  out.check = std::move(r.check);
  out.types = r.types;
  return out;
}

}  // namespace vigil::testing
