// SPDX-License-Identifier: Apache-2.0
#include "engine/sigma/sigma_condition.h"

#include "engine/compile/matchers.h"
#include "engine/condition/parser.h"

namespace vigil::sigma {
namespace {

bool IdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '*';
}

class Translator {
 public:
  Translator(std::string_view text, const std::vector<std::pair<std::string, std::string>>& idents)
      : text_(text), idents_(idents) {}

  ConditionResult Run() {
    ConditionResult r;
    std::string out;
    if (ParseOr(&out)) {
      SkipSpace();
      if (pos_ < text_.size()) Fail(text_[pos_] == '|' ? "aggregations ('| count() ...') are not supported"
                                                       : "expected 'and', 'or' or the end of the condition",
                                    text_[pos_] == '|');
      else r.text = std::move(out);
    }
    if (!error_.empty()) {
      r.text.clear();
      r.error = error_;
      r.error_offset = error_pos_;
      r.unsupported = unsupported_;
    }
    return r;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }
  bool Fail(std::string msg, bool unsupported = false) {
    if (error_.empty()) {
      error_ = std::move(msg);
      error_pos_ = static_cast<uint32_t>(pos_);
      unsupported_ = unsupported;
    }
    return false;
  }
  // The next word (identifier characters), without consuming it.
  std::string_view PeekWord() {
    SkipSpace();
    std::size_t e = pos_;
    while (e < text_.size() && IdentChar(text_[e])) ++e;
    return text_.substr(pos_, e - pos_);
  }
  bool AcceptWord(std::string_view w) {
    if (PeekWord() != w) return false;
    pos_ += w.size();
    return true;
  }

  bool ParseOr(std::string* out) {
    condition::DepthGuard guard(depth_, condition::kMaxDepth);
    if (!guard.ok()) return Fail("condition nested too deeply");
    std::vector<std::string> parts(1);
    if (!ParseAnd(&parts[0])) return false;
    while (AcceptWord("or")) {
      parts.emplace_back();
      if (!ParseAnd(&parts.back())) return false;
    }
    *out = Join(parts, " or ");
    return true;
  }
  bool ParseAnd(std::string* out) {
    std::vector<std::string> parts(1);
    if (!ParseNot(&parts[0])) return false;
    while (AcceptWord("and")) {
      parts.emplace_back();
      if (!ParseNot(&parts.back())) return false;
    }
    *out = Join(parts, " and ");
    return true;
  }
  bool ParseNot(std::string* out) {
    condition::DepthGuard guard(depth_, condition::kMaxDepth);
    if (!guard.ok()) return Fail("condition nested too deeply");
    if (AcceptWord("not")) {
      std::string inner;
      if (!ParseNot(&inner)) return false;
      *out = "not " + inner;
      return true;
    }
    return ParsePrimary(out);
  }
  bool ParsePrimary(std::string* out) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      std::string inner;
      if (!ParseOr(&inner)) return false;
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return Fail("expected ')'");
      ++pos_;
      *out = "(" + inner + ")";
      return true;
    }
    std::string_view w = PeekWord();
    if (w.empty()) return Fail(pos_ >= text_.size() ? "expected a search identifier at the end of the condition"
                                                    : "expected a search identifier, 'not', '1 of', 'all of' or '('");
    if (w == "1" || w == "any" || w == "all") {
      std::size_t save = pos_;
      pos_ += w.size();
      if (AcceptWord("of")) return ParseQuantified(w == "all", out);
      pos_ = save;
    }
    if (w == "and" || w == "or" || w == "of" || w == "them")
      return Fail("expected a search identifier, not '" + std::string(w) + "'");
    if (w.find('*') != std::string_view::npos) return Fail("a wildcard needs '1 of' or 'all of' before it");
    for (const auto& [name, text] : idents_) {
      if (name == w) {
        pos_ += w.size();
        *out = text;
        return true;
      }
    }
    return Fail("no search identifier '" + std::string(w) + "' in the detection");
  }
  bool ParseQuantified(bool all, std::string* out) {
    std::string_view w = PeekWord();
    if (w.empty()) return Fail("expected a search identifier pattern or 'them' after 'of'");
    std::vector<std::string> parts;
    bool them = w == "them";
    for (const auto& [name, text] : idents_) {
      bool hit = them ? name.empty() || name[0] != '_' : compile::GlobMatch(w, name, false);
      if (hit) parts.push_back(text);
    }
    if (parts.empty()) return Fail("no search identifier matches '" + std::string(w) + "'");
    pos_ += w.size();
    *out = Join(parts, all ? " and " : " or ");
    return true;
  }

  static std::string Join(const std::vector<std::string>& parts, const char* op) {
    if (parts.size() == 1) return parts[0];
    std::string s = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? op : "") + parts[i];
    return s + ")";
  }

  std::string_view text_;
  const std::vector<std::pair<std::string, std::string>>& idents_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
  uint32_t error_pos_ = 0;
  bool unsupported_ = false;
};

}  // namespace

ConditionResult TranslateCondition(std::string_view condition,
                                   const std::vector<std::pair<std::string, std::string>>& idents) {
  return Translator(condition, idents).Run();
}

}  // namespace vigil::sigma
