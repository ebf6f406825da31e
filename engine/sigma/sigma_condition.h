// SPDX-License-Identifier: Apache-2.0
// Sigma's condition grammar -> vigil condition text.
//
//   Condition  = OrExpr EOF ;
//   OrExpr     = AndExpr { "or" AndExpr } ;
//   AndExpr    = NotExpr { "and" NotExpr } ;
//   NotExpr    = "not" NotExpr | Primary ;
//   Primary    = "(" OrExpr ")" | Quantified | Identifier ;
//   Quantified = ( "1" | "any" | "all" ) "of" ( Pattern | "them" ) ;
//   Identifier = a search identifier of the detection ;
//   Pattern    = an identifier with '*' wildcards ;
//
// `them` means every identifier not starting with '_'. A pipe (`| count()
// ...`, Sigma's old aggregations) is unsupported, reported as such. Nesting is
// capped by condition::DepthGuard like vigil's own conditions.
//
// Contract: never throws; on failure `error` says what was expected at byte
// `error_offset` of the condition.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::sigma {

struct ConditionResult {
  std::string text;  // vigil condition text; empty on failure
  std::string error;
  uint32_t error_offset = 0;
  bool unsupported = false;  // valid Sigma vigil does not run (aggregations)
};

// `idents`: (identifier, its vigil condition text), in detection order.
ConditionResult TranslateCondition(std::string_view condition,
                                   const std::vector<std::pair<std::string, std::string>>& idents);

}  // namespace vigil::sigma
