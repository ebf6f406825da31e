// SPDX-License-Identifier: Apache-2.0
// Character-level scanner for conditions. The condition language is
// context-sensitive (a bare word is a field, a macro, an operator or a value
// depending on where it appears), so the parser asks for the token kind it
// expects instead of pulling a fixed token stream.
//
// Contract: every Read* either consumes the token and returns true, or leaves
// the position unchanged and returns false (ReadQuoted may also set error()).
// Nothing here allocates except the returned strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::condition {

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  void SkipSpace();
  bool AtEnd() { SkipSpace(); return pos_ >= text_.size(); }
  char Peek() { SkipSpace(); return pos_ < text_.size() ? text_[pos_] : '\0'; }
  uint32_t pos() const { return static_cast<uint32_t>(pos_); }
  void set_pos(uint32_t p) { pos_ = p; }

  // Consumes `c` if it is next (after spaces).
  bool Accept(char c);
  // Consumes `word` if it is next and followed by a non-identifier character.
  bool AcceptKeyword(std::string_view word);
  // [A-Za-z_][A-Za-z0-9_.\-]* plus an optional "[...]" argument (kept raw).
  bool ReadIdentifier(std::string* name, bool* has_arg, std::string* arg);
  // =, ==, !=, <, <=, >, >=.
  bool ReadSymbolOperator(std::string* op);
  // '...' or "..." with \\ \" \' \n \t \r \xHH escapes (other escapes keep the backslash).
  bool ReadQuoted(std::string* out);
  // A bare value: runs to whitespace, '(', ')' or ','.
  bool ReadBare(std::string* out);
  // The next word, for error messages ("" at the end).
  std::string PeekWord();

  const std::string& error() const { return error_; }
  uint32_t error_pos() const { return error_pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
  uint32_t error_pos_ = 0;
};

}  // namespace vigil::condition
