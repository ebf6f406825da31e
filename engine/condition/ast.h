// SPDX-License-Identifier: Apache-2.0
// The condition AST: what the parser produces and the compiler consumes.
// Positions are byte offsets into the condition text; the rules loader maps
// them to file:line:col for diagnostics.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::condition {

enum class CmpOp : uint8_t {
  kEq, kNe, kLt, kLe, kGt, kGe,
  kContains, kIContains, kBContains, kStartsWith, kBStartsWith, kEndsWith,
  kGlob, kIGlob, kRegex, kIn, kIntersects, kPmatch, kExists,
};

const char* CmpOpName(CmpOp op);

// tolower(x), toupper(x), basename(x), len(x).
enum class Transformer : uint8_t { kToLower, kToUpper, kBasename, kLen };

const char* TransformerName(Transformer t);

// A field reference with its optional [argument] and transformers, innermost last:
// `tolower(basename(proc.exepath))` -> transformers {kToLower, kBasename}.
struct FieldRef {
  std::string name;
  bool has_arg = false;
  std::string arg;
  std::vector<Transformer> transformers;
  uint32_t offset = 0;

  std::string ToString() const;
};

struct Value {
  std::string text;   // unescaped
  bool quoted = false;
  uint32_t offset = 0;
};

struct Node {
  enum class Kind : uint8_t { kAnd, kOr, kNot, kCompare, kMacro };
  Kind kind = Kind::kCompare;
  uint32_t offset = 0;
  uint32_t end = 0;  // one past the last byte of this node's text
  std::vector<std::unique_ptr<Node>> children;  // and/or: 2+, not: 1

  // kCompare
  FieldRef field;
  CmpOp op = CmpOp::kEq;
  std::vector<Value> values;        // one for scalar ops; the items for list ops
  bool list_syntax = false;         // values came from "( ... )"
  std::optional<FieldRef> rhs_field;  // `val(field)` on the right-hand side

  // kMacro (also: a bare list name as the right side of in/intersects/pmatch, in values[0])
  std::string name;
};

}  // namespace vigil::condition
