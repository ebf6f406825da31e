// SPDX-License-Identifier: Apache-2.0
// The agent unit tests' reading of an alert vigil raised about itself.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <variant>

#include "engine/alert.h"

namespace vigil::testing {

// The unsigned output field `name` of `a`; fails the test when there is none.
inline uint64_t AlertU64(const Alert& a, const std::string& name) {
  for (const auto& [k, v] : a.output_fields)
    if (k == name) return std::get<uint64_t>(v);
  FAIL("no field " << name);
  return 0;
}

}  // namespace vigil::testing
