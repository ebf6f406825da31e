// SPDX-License-Identifier: Apache-2.0
// evt.buffer (issue 18): the payload of a data call, compared as bytes by
// bcontains/bstartswith (Falco's "Java Process Class File Download":
// `evt.buffer bcontains cafebabe`), rendered with non-printable bytes as '.',
// <NA> when not captured, settable in rule tests as hex, and what makes the
// capture copy payloads (engine/interest.h).
#include <catch2/catch.hpp>

#include "engine/interest.h"
#include "engine/rule_engine.h"
#include "engine_test_util.h"

using vigil::Event;
using vigil::EventType;
using vigil::OwnedAncestors;
using vigil::testing::CompileText;

namespace {

// A recvfrom by "java" of a UDP datagram: the class-file magic, then a NUL
// and a few printable bytes.
Event JavaRecv(OwnedAncestors* anc) {
  Event e = vigil::testing::MakeConnect(anc);
  e.type = EventType::recvfrom;
  e.net.type = 2;  // SOCK_DGRAM
  e.res = 8;
  e.net.size = 1024;
  e.net.data.bytes = std::string("\xca\xfe\xba\xbe\x00" "AB\n", 8);
  e.net.data.captured = true;
  return e;
}

using vigil::testing::LoadCleanText;

}  // namespace

TEST_CASE("evt.buffer compares the payload's bytes", "[unit]") {
  struct Row {
    const char* condition;
    bool captured;  // false: the capture did not copy the payload (<NA>)
    bool expect;
  };
  const Row rows[] = {
      {"evt.buffer bcontains cafebabe", true, true},
      {"evt.buffer bcontains CAFEBABE", true, true},  // hex digits in either case
      {"evt.buffer bstartswith cafebabe", true, true},
      {"evt.buffer bcontains babe00", true, true},  // past a NUL byte
      {"evt.buffer bcontains 00414210", true, false},
      {"evt.buffer bstartswith febabe", true, false},
      {"evt.buffer contains AB", true, true},
      {"evt.buffer exists", true, true},
      {"evt.type = recvfrom and evt.buffer bcontains cafebabe", true, true},
      {"evt.buffer bcontains cafebabe", false, false},  // <NA>: no check on it holds
      {"not evt.buffer bcontains cafebabe", false, true},
      {"evt.buffer exists", false, false},
  };
  for (const Row& row : rows) {
    OwnedAncestors anc;
    Event e = JavaRecv(&anc);
    if (!row.captured) {
      e.net.data.bytes.clear();
      e.net.data.captured = false;
    }
    auto c = CompileText(row.condition);
    INFO(row.condition << (row.captured ? "" : " (not captured)") << "\n" << c.error);
    REQUIRE(c.check != nullptr);
    vigil::HostInfo host;
    vigil::FieldContext ctx{&e, &host, 1};
    CHECK(c.check->Eval(ctx) == row.expect);
  }
  // On a type without a payload it is <NA> whatever the event holds.
  OwnedAncestors anc;
  Event e = JavaRecv(&anc);
  e.type = EventType::connect;
  auto c = CompileText("evt.buffer exists");
  REQUIRE(c.check != nullptr);
  vigil::HostInfo host;
  vigil::FieldContext ctx{&e, &host, 1};
  CHECK_FALSE(c.check->Eval(ctx));
  CHECK(CompileText("evt.buffer bcontains cafebab").error.find("expects hex bytes") != std::string::npos);
}

TEST_CASE("evt.buffer in an output: printable bytes as they are, others '.'", "[unit]") {
  auto eng = LoadCleanText(
      "- rule: java\n  desc: d\n  condition: evt.type = recvfrom and evt.buffer bcontains cafebabe\n"
      "  output: got %evt.buffer from %fd.name\n  priority: WARNING\n");
  OwnedAncestors anc;
  Event e = JavaRecv(&anc);
  const vigil::CompiledRule* r = eng->FindRule("java");
  REQUIRE(r != nullptr);
  REQUIRE(eng->Matches(*r, e));
  vigil::Alert a = eng->MakeAlert(*r, e);
  CHECK(a.output == "got .....AB. from 192.168.0.5:40000->10.1.2.3:443");
  bool found = false;
  for (const auto& [name, value] : a.output_fields)
    if (name == "evt.buffer") {
      found = true;
      CHECK(std::get<std::string>(value) == ".....AB.");
    }
  CHECK(found);
  e.net.data = {};
  CHECK(eng->MakeAlert(*r, e).output == "got <NA> from 192.168.0.5:40000->10.1.2.3:443");
}

TEST_CASE("evt.buffer in rule tests: hex bytes, at most the captured bound", "[unit]") {
  const vigil::FieldDef* f = vigil::FindField("evt.buffer");
  REQUIRE(f != nullptr);
  REQUIRE(f->available);
  REQUIRE(f->set != nullptr);
  Event e;
  OwnedAncestors chain;
  CHECK(f->set(e, chain, vigil::FieldArg{}, "CAFEbabe").empty());
  CHECK(e.net.data.captured);
  CHECK(e.net.data.bytes == "\xca\xfe\xba\xbe");
  CHECK(f->set(e, chain, vigil::FieldArg{}, "cafebab").find("hex") != std::string::npos);
  CHECK(f->set(e, chain, vigil::FieldArg{}, "zz").find("hex") != std::string::npos);
  CHECK(f->set(e, chain, vigil::FieldArg{}, std::string(2 * (vigil::kDataBufferMax + 1), 'a')).find("at most 80") !=
        std::string::npos);
}

// The capture copies payloads only while an enabled rule reads evt.buffer
// (in its condition, exceptions or output): the default rules and Falco's
// stable rules do not, so the default cost is unchanged.
TEST_CASE("interest: payload capture follows the rules that read evt.buffer", "[unit]") {
  using vigil::testing::InterestRule;
  const std::vector<vigil::testing::InterestRow> rows = {
      {"no buffer field", InterestRule("evt.type = recvfrom and proc.name = java", "o %fd.name"), false},
      {"condition", InterestRule("evt.type = recvfrom and evt.buffer bcontains cafebabe"), true},
      {"output only", InterestRule("evt.type = sendto", "o %evt.buffer"), true},
      {"through a macro",
       "- macro: m\n  condition: evt.buffer bstartswith 474554\n" + InterestRule("evt.type = sendto and m"), true},
      {"disabled", InterestRule("evt.type = recvfrom and evt.buffer bcontains cafebabe", "o", "  enabled: false\n"),
       false},
  };
  vigil::testing::CheckInterestRows(rows, &vigil::Interest::buffer, &vigil::Interest::buffer_rule,
                                    &vigil::Interest::env);
}

// A value longer than the captured bound can never match: the load says so.
TEST_CASE("evt.buffer: a value past the captured bound is warned about", "[unit]") {
  const std::string rule = "- rule: r\n  desc: d\n  output: o\n  priority: WARNING\n  condition: evt.type = recvfrom and ";
  struct Row {
    std::string condition;
    bool warns;
  };
  const std::vector<Row> rows = {
      {"evt.buffer bcontains cafebabe", false},
      {"evt.buffer bcontains " + std::string(2 * 80, 'a'), false},
      {"evt.buffer bcontains " + std::string(2 * 81, 'a'), true},
      {"evt.buffer startswith " + std::string(81, 'a'), true},
  };
  for (const Row& row : rows) {
    INFO(row.condition);
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::LoadTexts({{"t.yaml", rule + row.condition + "\n"}}, &diags);
    REQUIRE(eng != nullptr);
    CHECK(diags.ErrorCount() == 0);
    const std::string text = diags.ToString();
    CHECK((text.find("can never match") != std::string::npos) == row.warns);
  }
}
