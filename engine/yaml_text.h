// SPDX-License-Identifier: Apache-2.0
// The text of a yaml-cpp parse error, for located diagnostics.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace vigil {

// yaml-cpp reports its nesting limit with the message "bad file"; say what
// actually happened instead. Every other error keeps yaml-cpp's message.
inline std::string YamlErrorText(const YAML::Exception& e) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e))
    return "nested " + std::to_string(deep->depth()) + " levels deep, more than the YAML parser accepts";
  return e.msg;
}

// A key given twice in one map. yaml-cpp keeps both and a lookup sees only
// the first, so the second would be ignored without a word.
struct DuplicateKey {
  std::string key;
  YAML::Mark at;     // the repeated key
  YAML::Mark first;  // where it was first given
};

// Every duplicate scalar key in `n` and below (the parser bounds the depth).
inline void FindDuplicateKeys(const YAML::Node& n, std::vector<DuplicateKey>* out) {
  if (n.IsMap()) {
    std::unordered_map<std::string, YAML::Mark> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh) out->push_back({kv.first.Scalar(), kv.first.Mark(), it->second});
      }
      FindDuplicateKeys(kv.second, out);
    }
  } else if (n.IsSequence()) {
    for (const auto& item : n) FindDuplicateKeys(item, out);
  }
}

}  // namespace vigil
