// SPDX-License-Identifier: Apache-2.0
// For the tests that look for a message among a load's errors or warnings.
#pragma once

#include <string>
#include <vector>

namespace vigil::testing {

// True when some string of `v` contains `needle`.
inline bool AnyContains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace vigil::testing
