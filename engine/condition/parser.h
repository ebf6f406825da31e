// SPDX-License-Identifier: Apache-2.0
// Condition parser (Falco's filter grammar).
//
//   Condition   = OrExpr EOF ;
//   OrExpr      = AndExpr { "or" AndExpr } ;
//   AndExpr     = NotExpr { "and" NotExpr } ;
//   NotExpr     = "not" NotExpr | Primary ;
//   Primary     = "(" OrExpr ")" | Check | MacroRef ;
//   MacroRef    = Identifier ;                        (* no '.' and no '[...]' *)
//   Check       = FieldExpr ( UnaryOp
//                           | CompareOp RightValue
//                           | ListOp ListValue ) ;
//   FieldExpr   = Transformer "(" FieldExpr ")" | Field ;
//   Field       = Identifier [ "[" Argument "]" ] ;
//   Transformer = "tolower" | "toupper" | "basename" | "len" | "b64" ;
//   UnaryOp     = "exists" ;
//   CompareOp   = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "icontains"
//               | "bcontains" | "startswith" | "bstartswith" | "endswith" | "glob" | "iglob"
//               | "regex" ;
//   ListOp      = "in" | "intersects" | "pmatch" ;
//   RightValue  = "val" "(" FieldExpr ")" | Transformer "(" FieldExpr ")" | Scalar ;
//   ListValue   = "(" [ Scalar { "," Scalar } ] ")" | Identifier ;   (* a list name *)
//   Scalar      = Quoted | Bare ;
//   Quoted      = '"' ... '"' | "'" ... "'" ;         (* escapes: \\ \" \' \n \t \r \xHH *)
//   Bare        = any run of characters up to whitespace, "(", ")" or "," ;
//
// Precedence: not > and > or; and/or are left-associative; keywords are
// lower-case. A bare word inside a list may name a list; the compiler
// substitutes it (Falco's list expansion).
//
// Contract: Parse() never throws, allocates in proportion to the input, and
// caps nesting at kMaxDepth levels, where each '(', 'not' and transformer
// is one level (a deeper condition is an error, not a stack overflow). Conditions longer than kMaxConditionBytes are rejected up front.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/condition/ast.h"
#include "engine/condition/lexer.h"
#include "engine/non_copyable.h"

namespace vigil::condition {

inline constexpr int kMaxDepth = 200;
inline constexpr std::size_t kMaxConditionBytes = 256 * 1024;

struct ParseResult {
  std::unique_ptr<Node> root;  // null on error
  std::string error;           // what was expected
  uint32_t error_offset = 0;   // byte offset into the text
};

// Increments a depth counter for its lifetime; `ok()` is false past the cap.
class DepthGuard : NonCopyable {
 public:
  DepthGuard(int& depth, int max) : depth_(depth) { ok_ = ++depth_ <= max; }
  ~DepthGuard() { --depth_; }
  bool ok() const { return ok_; }

 private:
  int& depth_;
  bool ok_;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lex_(text) {}
  ParseResult Parse();

 private:
  std::unique_ptr<Node> ParseOrExpr();
  std::unique_ptr<Node> ParseAndExpr();
  std::unique_ptr<Node> ParseNotExpr();
  std::unique_ptr<Node> ParsePrimary();
  std::unique_ptr<Node> ParseCheck(FieldRef field);
  bool ParseFieldExpr(FieldRef* out);
  bool ParseRightValue(Node* check, const std::string& op_text);
  bool ParseListValue(Node* check, const std::string& op_text);
  bool ParseScalar(Value* out);

  bool Fail(uint32_t offset, std::string message);

  std::string_view text_;
  Lexer lex_;
  int depth_ = 0;
  std::string error_;
  uint32_t error_offset_ = 0;
};

// Convenience: Parser(text).Parse().
ParseResult ParseCondition(std::string_view text);

}  // namespace vigil::condition
