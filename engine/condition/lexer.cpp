// SPDX-License-Identifier: Apache-2.0
#include "engine/condition/lexer.h"

namespace vigil::condition {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Lexer::SkipSpace() {
  while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
}

bool Lexer::Accept(char c) {
  SkipSpace();
  if (pos_ < text_.size() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

bool Lexer::AcceptKeyword(std::string_view word) {
  SkipSpace();
  if (text_.substr(pos_, word.size()) != word) return false;
  std::size_t after = pos_ + word.size();
  if (after < text_.size() && IsIdentChar(text_[after])) return false;
  pos_ = after;
  return true;
}

bool Lexer::ReadIdentifier(std::string* name, bool* has_arg, std::string* arg) {
  SkipSpace();
  if (pos_ >= text_.size() || !IsIdentStart(text_[pos_])) return false;
  std::size_t start = pos_, p = pos_;
  while (p < text_.size() && IsIdentChar(text_[p])) ++p;
  *has_arg = false;
  arg->clear();
  if (p < text_.size() && text_[p] == '[') {
    std::size_t close = text_.find(']', p + 1);
    if (close == std::string_view::npos) return false;
    *has_arg = true;
    arg->assign(text_.substr(p + 1, close - p - 1));
    name->assign(text_.substr(start, p - start));
    pos_ = close + 1;
    return true;
  }
  name->assign(text_.substr(start, p - start));
  pos_ = p;
  return true;
}

bool Lexer::ReadSymbolOperator(std::string* op) {
  SkipSpace();
  if (pos_ >= text_.size()) return false;
  char c = text_[pos_];
  char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
  if (c == '=' ) {
    *op = n == '=' ? "==" : "=";
  } else if (c == '!' && n == '=') {
    *op = "!=";
  } else if (c == '<' || c == '>') {
    *op = std::string(1, c) + (n == '=' ? "=" : "");
  } else {
    return false;
  }
  pos_ += op->size();
  return true;
}

bool Lexer::ReadQuoted(std::string* out) {
  SkipSpace();
  if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) return false;
  char quote = text_[pos_];
  std::size_t p = pos_ + 1;
  out->clear();
  while (p < text_.size() && text_[p] != quote) {
    char c = text_[p];
    if (c == '\\' && p + 1 < text_.size()) {
      char e = text_[p + 1];
      switch (e) {
        case '\\': out->push_back('\\'); p += 2; continue;
        case '"': out->push_back('"'); p += 2; continue;
        case '\'': out->push_back('\''); p += 2; continue;
        case 'n': out->push_back('\n'); p += 2; continue;
        case 't': out->push_back('\t'); p += 2; continue;
        case 'r': out->push_back('\r'); p += 2; continue;
        case 'x': {
          int h = p + 2 < text_.size() ? HexValue(text_[p + 2]) : -1;
          int l = p + 3 < text_.size() ? HexValue(text_[p + 3]) : -1;
          if (h < 0 || l < 0) {
            error_ = "expected two hex digits after \\x";
            error_pos_ = static_cast<uint32_t>(p);
            return false;
          }
          out->push_back(static_cast<char>(h * 16 + l));
          p += 4;
          continue;
        }
        default:  // kept as written: regex classes like \d stay intact
          out->push_back('\\');
          out->push_back(e);
          p += 2;
          continue;
      }
    }
    out->push_back(c);
    ++p;
  }
  if (p >= text_.size()) {
    error_ = std::string("unterminated string: expected a closing ") + quote;
    error_pos_ = static_cast<uint32_t>(pos_);
    return false;
  }
  pos_ = p + 1;
  return true;
}

bool Lexer::ReadBare(std::string* out) {
  SkipSpace();
  std::size_t p = pos_;
  while (p < text_.size() && !IsSpace(text_[p]) && text_[p] != '(' && text_[p] != ')' && text_[p] != ',') ++p;
  if (p == pos_) return false;
  out->assign(text_.substr(pos_, p - pos_));
  pos_ = p;
  return true;
}

std::string Lexer::PeekWord() {
  SkipSpace();
  if (pos_ >= text_.size()) return "";
  std::size_t p = pos_;
  if (text_[p] == '(' || text_[p] == ')' || text_[p] == ',') return std::string(1, text_[p]);
  while (p < text_.size() && !IsSpace(text_[p]) && text_[p] != '(' && text_[p] != ')' && text_[p] != ',' &&
         p - pos_ < 40)
    ++p;
  return std::string(text_.substr(pos_, p - pos_));
}

}  // namespace vigil::condition
