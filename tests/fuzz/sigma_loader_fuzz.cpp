// SPDX-License-Identifier: Apache-2.0
// libFuzzer: arbitrary bytes as a Sigma rule file through the whole load
// (YAML documents, logsource, detection values and modifiers, the condition
// grammar, the vigil condition it yields, compile) and, for what loads, the
// import-sigma export loaded back. Must never crash or hang; every problem is
// a diagnostic; and a translated rule must export to a file that loads without
// errors into the same conditions (the round trip `vigil rules import-sigma`
// promises).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/rule_engine.h"
#include "engine/sigma/sigma.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 18)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  vigil::Diagnostics diags;
  vigil::rules::RuleDocument doc;
  vigil::rules::LoadRulesText("fuzz.yml", text, &doc, &diags);
  for (const auto& d : diags.items()) (void)d.ToString();
  if (doc.sigma_rules == 0 || doc.rules.empty()) return 0;
  vigil::Diagnostics d1, d2;
  auto a = vigil::RuleEngine::FromDocument(doc, &d1, vigil::HostInfo{});
  auto b = vigil::RuleEngine::LoadTexts({{"out.yaml", vigil::sigma::ExportRulesYaml(doc, "fuzz")}}, &d2,
                                        vigil::HostInfo{});
  if (d2.ErrorCount() > d1.ErrorCount()) std::abort();  // the export lost or broke a rule
  if (a->rules().size() != b->rules().size()) std::abort();
  for (std::size_t i = 0; i < a->rules().size(); ++i)
    if (a->rules()[i]->condition != b->rules()[i]->condition || a->rules()[i]->name != b->rules()[i]->name)
      std::abort();
  vigil::Event e;
  std::vector<const vigil::CompiledRule*> fired;
  a->Match(e, &fired);
  return 0;
}
