// SPDX-License-Identifier: Apache-2.0
// Error tables: a test feeds a parser or compiler bad inputs, each row an
// input and a piece of the message the input must be refused with.
#pragma once

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <vector>

#include "tests/support/any_contains.h"

namespace vigil::testing {

struct ErrorRow {
  const char* input;
  const char* expect;  // a piece of the message
};

inline void CheckRefusedWith(const std::string& message, const char* expect) {
  CHECK_THAT(message, Catch::Contains(expect));
}

inline void CheckRefusedWith(const std::vector<std::string>& messages, const char* expect) {
  CAPTURE(messages);
  CHECK(AnyContains(messages, expect));
}

// For each row, `refuse(input)` gives what the input was refused with (one
// message, or all of a load's); it holds the row's `expect`. `refuse` stops
// the test itself when the input was accepted.
template <typename Refuse>
void CheckErrorRows(std::span<const ErrorRow> rows, Refuse refuse) {
  for (const ErrorRow& row : rows) {
    INFO(row.input);
    CheckRefusedWith(refuse(row.input), row.expect);
  }
}

}  // namespace vigil::testing
