// SPDX-License-Identifier: Apache-2.0
// Fuzzes the outputs: configuration: lines starting with "-o " are command
// line overrides, the rest is the YAML document. Parsing must report errors,
// never crash or throw.
#include <cstdint>
#include <string>
#include <string_view>

#include "outputs/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string yaml;
  std::vector<std::string> overrides;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = input.size();
    std::string_view line = input.substr(pos, nl - pos);
    if (line.starts_with("-o ")) overrides.emplace_back(line.substr(3));
    else yaml.append(line).push_back('\n');
    pos = nl + 1;
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml);  // the agent's loader reports YAML syntax errors itself
  } catch (const YAML::Exception&) {
    return 0;
  }
  for (const auto& o : overrides) (void)vigil::outputs::ApplyOverride(root, o);
  vigil::outputs::OutputsConfig cfg;
  YAML::Node section = root.IsMap() ? root["outputs"] : YAML::Node();
  (void)vigil::outputs::ParseOutputsConfig(section, "fuzz.yaml", &cfg);
  return 0;
}
