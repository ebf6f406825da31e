// SPDX-License-Identifier: Apache-2.0
#include "engine/condition/parser.h"

#include <utility>

namespace vigil::condition {
namespace {

struct OpName {
  const char* text;
  CmpOp op;
};
constexpr OpName kWordOps[] = {
    {"contains", CmpOp::kContains},       {"icontains", CmpOp::kIContains}, {"bcontains", CmpOp::kBContains},
    {"startswith", CmpOp::kStartsWith},   {"bstartswith", CmpOp::kBStartsWith},
    {"endswith", CmpOp::kEndsWith},       {"glob", CmpOp::kGlob},           {"iglob", CmpOp::kIGlob},
    {"regex", CmpOp::kRegex},             {"in", CmpOp::kIn},               {"intersects", CmpOp::kIntersects},
    {"pmatch", CmpOp::kPmatch},           {"exists", CmpOp::kExists},
};
constexpr OpName kSymbolOps[] = {
    {"=", CmpOp::kEq}, {"==", CmpOp::kEq}, {"!=", CmpOp::kNe}, {"<", CmpOp::kLt},
    {"<=", CmpOp::kLe}, {">", CmpOp::kGt}, {">=", CmpOp::kGe},
};

bool TransformerFromName(std::string_view name, Transformer* out) {
  if (name == "tolower") return *out = Transformer::kToLower, true;
  if (name == "toupper") return *out = Transformer::kToUpper, true;
  if (name == "basename") return *out = Transformer::kBasename, true;
  if (name == "len") return *out = Transformer::kLen, true;
  if (name == "b64") return *out = Transformer::kB64, true;
  return false;
}

std::string Describe(const std::string& word) { return word.empty() ? "the end" : "'" + word + "'"; }

}  // namespace

const char* CmpOpName(CmpOp op) {
  for (const auto& o : kSymbolOps)
    if (o.op == op) return o.text;
  for (const auto& o : kWordOps)
    if (o.op == op) return o.text;
  return "?";
}

const char* TransformerName(Transformer t) {
  switch (t) {
    case Transformer::kToLower: return "tolower";
    case Transformer::kToUpper: return "toupper";
    case Transformer::kBasename: return "basename";
    case Transformer::kLen: return "len";
    case Transformer::kB64: return "b64";
  }
  return "?";
}

std::string FieldRef::ToString() const {
  std::string s;
  for (auto t : transformers) s += std::string(TransformerName(t)) + "(";
  s += name;
  if (has_arg) s += "[" + arg + "]";
  for (std::size_t i = 0; i < transformers.size(); ++i) s += ")";
  return s;
}

bool Parser::Fail(uint32_t offset, std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    error_offset_ = offset;
  }
  return false;
}

ParseResult Parser::Parse() {
  ParseResult r;
  if (text_.size() > kMaxConditionBytes) {
    r.error = "condition is " + std::to_string(text_.size()) + " bytes; the limit is " +
              std::to_string(kMaxConditionBytes);
    return r;
  }
  if (lex_.AtEnd()) {
    r.error = "expected a condition, got nothing";
    return r;
  }
  auto root = ParseOrExpr();
  if (root && !lex_.AtEnd()) {
    std::string w = lex_.PeekWord();
    Fail(lex_.pos(), w == ")" ? "unbalanced parentheses: ')' without a matching '('"
                              : "expected 'and', 'or' or the end of the condition, got " + Describe(w));
    root.reset();
  }
  if (!root) {
    r.error = error_.empty() ? "invalid condition" : error_;
    r.error_offset = error_offset_;
    return r;
  }
  r.root = std::move(root);
  return r;
}

// Nesting is counted where the author nests: each '(', 'not' and transformer
// is one level (kMaxDepth of them), which also bounds the recursion.
std::unique_ptr<Node> Parser::ParseOrExpr() {
  uint32_t start = lex_.pos();
  auto left = ParseAndExpr();
  if (!left) return nullptr;
  if (!lex_.AcceptKeyword("or")) return left;
  auto node = std::make_unique<Node>();
  node->kind = Node::Kind::kOr;
  node->offset = start;
  node->children.push_back(std::move(left));
  do {
    auto right = ParseAndExpr();
    if (!right) return nullptr;
    node->children.push_back(std::move(right));
  } while (lex_.AcceptKeyword("or"));
  node->end = lex_.pos();
  return node;
}

std::unique_ptr<Node> Parser::ParseAndExpr() {
  uint32_t start = lex_.pos();
  auto left = ParseNotExpr();
  if (!left) return nullptr;
  if (!lex_.AcceptKeyword("and")) return left;
  auto node = std::make_unique<Node>();
  node->kind = Node::Kind::kAnd;
  node->offset = start;
  node->children.push_back(std::move(left));
  do {
    auto right = ParseNotExpr();
    if (!right) return nullptr;
    node->children.push_back(std::move(right));
  } while (lex_.AcceptKeyword("and"));
  node->end = lex_.pos();
  return node;
}

std::unique_ptr<Node> Parser::ParseNotExpr() {
  lex_.SkipSpace();
  uint32_t start = lex_.pos();
  if (lex_.AcceptKeyword("not")) {
    DepthGuard guard(depth_, kMaxDepth);
    if (!guard.ok()) {
      Fail(start, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      return nullptr;
    }
    auto child = ParseNotExpr();
    if (!child) return nullptr;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kNot;
    node->offset = start;
    node->end = lex_.pos();
    node->children.push_back(std::move(child));
    return node;
  }
  return ParsePrimary();
}

std::unique_ptr<Node> Parser::ParsePrimary() {
  lex_.SkipSpace();
  uint32_t start = lex_.pos();
  if (lex_.Accept('(')) {
    DepthGuard guard(depth_, kMaxDepth);
    if (!guard.ok()) {
      Fail(start, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
      return nullptr;
    }
    auto inner = ParseOrExpr();
    if (!inner) return nullptr;
    if (!lex_.Accept(')')) {
      std::string w = lex_.PeekWord();
      if (w.empty()) Fail(start, "unbalanced parentheses: this '(' is never closed");
      else Fail(lex_.pos(), "expected ')', 'and' or 'or', got " + Describe(w));
      return nullptr;
    }
    return inner;
  }
  std::string word = lex_.PeekWord();
  if (word == "and" || word == "or" || word == ")" || word.empty()) {
    Fail(start, "expected a check, a macro or '(', got " + Describe(word));
    return nullptr;
  }
  FieldRef field;
  if (!ParseFieldExpr(&field)) {
    Fail(start, "expected a field, a macro or '(', got " + Describe(word));
    return nullptr;
  }
  // A plain identifier (no '.', no argument, no transformer) not followed by an
  // operator is a macro reference.
  bool plain = field.transformers.empty() && !field.has_arg && field.name.find('.') == std::string::npos;
  if (plain) {
    uint32_t after = lex_.pos();
    std::string next = lex_.PeekWord();
    bool is_op = false;
    for (const auto& o : kWordOps) is_op |= next == o.text;
    std::string sym;
    if (lex_.ReadSymbolOperator(&sym)) {
      is_op = true;
      lex_.set_pos(after);
    }
    if (!is_op && lex_.Peek() == '(') {
      Fail(start, "unknown transformer '" + field.name +
                      "': expected one of tolower, toupper, basename, len, b64 (or val on the right)");
      return nullptr;
    }
    if (!is_op) {
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kMacro;
      node->offset = start;
      node->end = lex_.pos();
      node->name = field.name;
      return node;
    }
  }
  return ParseCheck(std::move(field));
}

bool Parser::ParseFieldExpr(FieldRef* out) {
  lex_.SkipSpace();
  uint32_t start = lex_.pos();
  std::string name, arg;
  bool has_arg = false;
  if (!lex_.ReadIdentifier(&name, &has_arg, &arg)) {
    std::string w = lex_.PeekWord();
    if (w.find('[') != std::string::npos) return Fail(start, "expected ']' to close the field argument");
    return false;
  }
  Transformer t;
  if (!has_arg && TransformerFromName(name, &t) && lex_.Peek() == '(') {
    DepthGuard guard(depth_, kMaxDepth);
    if (!guard.ok()) return Fail(start, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    lex_.Accept('(');
    if (!ParseFieldExpr(out)) return Fail(lex_.pos(), "expected a field inside " + name + "(...)");
    if (!lex_.Accept(')')) return Fail(lex_.pos(), "expected ')' to close " + name + "(");
    out->transformers.insert(out->transformers.begin(), t);
    out->offset = start;
    return true;
  }
  out->name = std::move(name);
  out->has_arg = has_arg;
  out->arg = std::move(arg);
  out->offset = start;
  return true;
}

std::unique_ptr<Node> Parser::ParseCheck(FieldRef field) {
  auto node = std::make_unique<Node>();
  node->kind = Node::Kind::kCompare;
  node->offset = field.offset;
  node->field = std::move(field);
  lex_.SkipSpace();
  uint32_t op_pos = lex_.pos();
  std::string op_text;
  bool found = false;
  if (lex_.ReadSymbolOperator(&op_text)) {
    for (const auto& o : kSymbolOps)
      if (op_text == o.text) node->op = o.op, found = true;
  } else {
    for (const auto& o : kWordOps) {
      if (lex_.AcceptKeyword(o.text)) {
        node->op = o.op;
        op_text = o.text;
        found = true;
        break;
      }
    }
  }
  if (!found) {
    Fail(op_pos, "expected an operator after '" + node->field.ToString() + "', got " + Describe(lex_.PeekWord()));
    return nullptr;
  }
  bool ok = true;
  if (node->op == CmpOp::kExists) {
    // unary
  } else if (node->op == CmpOp::kIn || node->op == CmpOp::kIntersects || node->op == CmpOp::kPmatch) {
    ok = ParseListValue(node.get(), op_text);
  } else {
    ok = ParseRightValue(node.get(), op_text);
  }
  if (!ok) return nullptr;
  node->end = lex_.pos();
  return node;
}

bool Parser::ParseRightValue(Node* check, const std::string& op_text) {
  lex_.SkipSpace();
  uint32_t start = lex_.pos();
  std::string name, arg;
  bool has_arg = false;
  if (lex_.ReadIdentifier(&name, &has_arg, &arg) && name == "val" && !has_arg && lex_.Peek() == '(') {
    lex_.Accept('(');
    FieldRef rhs;
    if (!ParseFieldExpr(&rhs)) return Fail(lex_.pos(), "expected a field inside val(...)");
    if (!lex_.Accept(')')) return Fail(lex_.pos(), "expected ')' to close val(");
    check->rhs_field = std::move(rhs);
    return true;
  }
  // Falco also takes a transformed field on the right without val():
  // `proc.name = tolower(proc.pname)`.
  Transformer t;
  if (!has_arg && TransformerFromName(name, &t) && lex_.Peek() == '(') {
    lex_.set_pos(start);
    FieldRef rhs;
    if (!ParseFieldExpr(&rhs)) return false;
    check->rhs_field = std::move(rhs);
    return true;
  }
  lex_.set_pos(start);
  Value v;
  if (!ParseScalar(&v)) return Fail(start, "expected a value after '" + op_text + "', got " + Describe(lex_.PeekWord()));
  check->values.push_back(std::move(v));
  return true;
}

bool Parser::ParseListValue(Node* check, const std::string& op_text) {
  lex_.SkipSpace();
  uint32_t start = lex_.pos();
  if (!lex_.Accept('(')) {
    // Falco also accepts a bare list name after in/intersects/pmatch.
    std::string name, arg;
    bool has_arg = false;
    if (lex_.ReadIdentifier(&name, &has_arg, &arg) && !has_arg) {
      check->values.push_back({name, false, start});
      return true;
    }
    return Fail(start, "expected a value after '" + op_text + "': a list '(a, b)' or a list name, got " +
                           Describe(lex_.PeekWord()));
  }
  check->list_syntax = true;
  if (lex_.Accept(')')) return true;  // empty list
  while (true) {
    Value v;
    uint32_t at = lex_.pos();
    if (!ParseScalar(&v))
      return Fail(at, "expected a value in the list after '" + op_text + "', got " + Describe(lex_.PeekWord()));
    check->values.push_back(std::move(v));
    if (lex_.Accept(',')) continue;
    if (lex_.Accept(')')) return true;
    return Fail(lex_.pos(), "expected ',' or ')' in the list after '" + op_text + "', got " +
                                Describe(lex_.PeekWord()));
  }
}

bool Parser::ParseScalar(Value* out) {
  lex_.SkipSpace();
  out->offset = lex_.pos();
  char c = lex_.Peek();
  if (c == '"' || c == '\'') {
    if (!lex_.ReadQuoted(&out->text)) return Fail(lex_.error_pos(), lex_.error());
    out->quoted = true;
    return true;
  }
  if (c == '(' || c == ')' || c == ',' || c == '\0') return false;
  return lex_.ReadBare(&out->text);
}

ParseResult ParseCondition(std::string_view text) { return Parser(text).Parse(); }

}  // namespace vigil::condition
