// SPDX-License-Identifier: Apache-2.0
// RuleDefs -> a Falco-format rules file (vigil rules import-sigma).
#include <yaml-cpp/yaml.h>

#include "engine/sigma/sigma.h"

namespace vigil::sigma {

std::string ExportRulesYaml(const rules::RuleDocument& doc, const std::string& header) {
  std::string out;
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t nl = header.find('\n', start);
    std::string line = header.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    out += "# " + line + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  for (const auto& r : doc.rules) {
    YAML::Emitter e;
    e << YAML::BeginSeq << YAML::BeginMap;
    e << YAML::Key << "rule" << YAML::Value << YAML::DoubleQuoted << r.name;
    e << YAML::Key << "desc" << YAML::Value << YAML::DoubleQuoted << r.desc;
    e << YAML::Key << "condition" << YAML::Value << YAML::DoubleQuoted << r.condition;
    e << YAML::Key << "output" << YAML::Value << YAML::DoubleQuoted << r.output;
    e << YAML::Key << "priority" << YAML::Value << std::string(PriorityName(r.priority));
    e << YAML::Key << "tags" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& t : r.tags) e << YAML::DoubleQuoted << t;
    e << YAML::EndSeq;
    if (!r.enabled) e << YAML::Key << "enabled" << YAML::Value << false;
    e << YAML::EndMap << YAML::EndSeq;
    out += "\n# from " + r.loc.file + ":" + std::to_string(r.loc.line) + "\n";
    out += e.c_str();
    out += "\n";
  }
  return out;
}

}  // namespace vigil::sigma
