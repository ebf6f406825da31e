// SPDX-License-Identifier: Apache-2.0
// The text of a yaml-cpp parse error, for located diagnostics.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <string>

namespace vigil {

// yaml-cpp reports its nesting limit with the message "bad file"; say what
// actually happened instead. Every other error keeps yaml-cpp's message.
inline std::string YamlErrorText(const YAML::Exception& e) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e))
    return "nested " + std::to_string(deep->depth()) + " levels deep, more than the YAML parser accepts";
  return e.msg;
}

}  // namespace vigil
