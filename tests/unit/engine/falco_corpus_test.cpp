// SPDX-License-Identifier: Apache-2.0
// Falco's own rules files (shared/corpus/falco-rules, beside the repository)
// load with zero errors. Also prints the compatibility figures.
#include <catch2/catch.hpp>

#include <cstdio>

#include "engine/rule_engine.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

TEST_CASE("Falco rules files load without errors", "[unit]") {
  struct Case {
    const char* file;
    std::size_t rules;
  };
  const Case cases[] = {
      {"falco_rules.yaml", 25},
      {"falco-incubating_rules.yaml", 31},
      {"falco-sandbox_rules.yaml", 37},
  };
  for (const auto& c : cases) {
    std::string path = std::string(VIGIL_FALCO_RULES_DIR) + "/" + c.file;
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    INFO(path << "\n" << diags.ToString());
    CHECK(diags.ErrorCount() == 0);
    REQUIRE(eng != nullptr);
    const auto& s = eng->stats();
    CHECK(s.rules_defined == c.rules);
    CHECK(s.rules_loaded == c.rules);
    std::printf("compat: %-28s rules %zu, loaded %zu, enabled %zu, referencing <NA> fields %zu, warnings %zu\n",
                c.file, s.rules_defined, s.rules_loaded, s.rules_enabled, s.rules_with_na, diags.WarningCount());
  }
}
