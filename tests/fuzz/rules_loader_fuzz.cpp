// SPDX-License-Identifier: Apache-2.0
// libFuzzer: arbitrary bytes as a rules file through the whole load
// (YAML, items, conditions, compile, outputs, tests). Must never crash, hang
// or grow without bound; every problem is a diagnostic.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/rule_engine.h"
#include "engine/rule_tests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  vigil::Diagnostics diags;
  auto engine = vigil::RuleEngine::LoadTexts({{"fuzz.yaml", text}}, &diags, vigil::HostInfo{});
  for (const auto& d : diags.items()) (void)d.ToString();
  if (engine) {
    vigil::RunRuleTests(*engine);  // runs inline cases: setters and evaluation on odd input
    vigil::Event e;
    std::vector<const vigil::CompiledRule*> fired;
    engine->Match(e, &fired);
    for (const auto* r : fired) (void)engine->MakeAlert(*r, e);
  }
  return 0;
}
