// SPDX-License-Identifier: Apache-2.0
// A corpus of broken rules files, each paired with the exact located
// diagnostics a load must report (tests/unit/engine/broken/NAME.expected),
// plus generated inputs too large to keep as files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/rule_engine.h"

#ifndef VIGIL_BROKEN_RULES_DIR
#error "VIGIL_BROKEN_RULES_DIR must point at tests/unit/engine/broken"
#endif

namespace fs = std::filesystem;

TEST_CASE("each broken rules file reports its located diagnostics", "[unit]") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(VIGIL_BROKEN_RULES_DIR))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 20);
  for (const auto& f : files) {
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({f.string()}, &diags, vigil::HostInfo{});
    std::string actual;
    std::string prefix = f.parent_path().string() + "/";
    for (const auto& d : diags.items()) {
      std::string line = d.ToString();
      if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
      actual += line + "\n";
    }
    fs::path expected_path = f;
    expected_path.replace_extension(".expected");
    std::ifstream in(expected_path);
    REQUIRE(in.good());
    std::stringstream expected;
    expected << in.rdbuf();
    INFO(f.filename().string());
    CHECK(actual == expected.str());
    CHECK(diags.ErrorCount() > 0);  // every file in the corpus is broken
  }
}

TEST_CASE("pathological conditions get a located error, not a crash", "[unit]") {
  auto load = [](const std::string& condition) {
    std::string yaml = "- rule: r\n  desc: d\n  condition: \"" + condition + "\"\n  output: o\n  priority: info\n";
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::LoadTexts({{"p.yaml", yaml}}, &diags);
    return diags.ToString();
  };
  // 10,000 nested parentheses.
  std::string deep = std::string(10000, '(') + "proc.name = a" + std::string(10000, ')');
  CHECK_THAT(load(deep), Catch::Contains("p.yaml:3:"));
  CHECK_THAT(load(deep), Catch::Contains("error: rule 'r': condition: nesting deeper than 200 levels"));
  // A 1 MB condition.
  std::string big = "evt.type = execve";
  while (big.size() < (1u << 20)) big += " and proc.name != x";
  CHECK_THAT(load(big), Catch::Contains("error: rule 'r': condition: condition is"));
  // 10,000 nested `not`.
  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "not ";
  CHECK_THAT(load(nots + "proc.name = a"), Catch::Contains("nesting deeper than"));
  // Deeply nested YAML.
  vigil::Diagnostics diags;
  vigil::RuleEngine::LoadTexts({{"y.yaml", std::string(5000, '[') + std::string(5000, ']')}}, &diags);
  CHECK(diags.HasErrors());
}
