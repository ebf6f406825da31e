// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/output_template.h"

#include "engine/condition/parser.h"

namespace vigil::compile {
namespace {

bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

FieldValue ToFieldValue(FieldType t, const FieldValueRef& v) {
  switch (t) {
    case FieldType::kString: {
      if (!v.bytes) return std::string(v.str);
      std::string s;
      RenderBuffer(v.str, &s);
      return s;
    }
    case FieldType::kNumber: return v.num;
    case FieldType::kBool: return v.boolean;
    case FieldType::kIpAddr:
    case FieldType::kIpNet: {
      std::string s;
      RenderFieldValue(t, v, &s);
      return s;
    }
    case FieldType::kStringList: {
      std::vector<std::string> out;
      if (v.list)
        for (auto s : *v.list) out.emplace_back(s);
      return out;
    }
  }
  return std::monostate{};
}

}  // namespace

bool OutputTemplate::Build(std::string_view text, Compiler* compiler, const ItemContext& ctx, Diagnostics* diags,
                           std::set<std::string>* na_fields) {
  // A folded or literal YAML scalar (`output: >`) ends in a newline; Falco
  // trims it, and an alert's text never ends in whitespace.
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  bool ok = true;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '%' || i + 1 >= text.size() || !(IsFieldChar(text[i + 1]) || text[i + 1] == '(')) {
      literal.push_back(c);
      ++i;
      continue;
    }
    // %field, %field[arg] or %(field)
    std::size_t start = i;
    bool paren = text[i + 1] == '(';
    std::size_t j = i + (paren ? 2 : 1);
    std::size_t name_start = j;
    while (j < text.size() && IsFieldChar(text[j])) ++j;
    condition::FieldRef ref;
    ref.name = std::string(text.substr(name_start, j - name_start));
    if (j < text.size() && text[j] == '[') {
      std::size_t close = text.find(']', j);
      if (close != std::string_view::npos) {
        ref.has_arg = true;
        ref.arg = std::string(text.substr(j + 1, close - j - 1));
        j = close + 1;
      }
    }
    if (paren) {
      if (j < text.size() && text[j] == ')') ++j;
    }
    // A literal percent before a non-field word ("100%") stays literal.
    if (ref.name.find('.') == std::string::npos) {
      literal.append(text.substr(start, j - start));
      i = j;
      continue;
    }
    std::string error;
    bool unknown = false;
    auto acc = compiler->ResolveField(ref, &error, &unknown);
    if (!acc) {
      SourceLoc loc = ctx.locate ? ctx.locate(static_cast<uint32_t>(start)) : SourceLoc{};
      diags->Error(loc, ctx.kind, ctx.name, "output", error);
      ok = false;
    } else {
      if (!acc->def->available) na_fields->insert(ref.name);
      segments_.push_back({std::move(literal), std::move(acc)});
      literal.clear();
    }
    i = j;
  }
  if (!literal.empty()) segments_.push_back({std::move(literal), nullptr});
  return ok;
}

void OutputTemplate::Render(const FieldContext& fctx, std::string* out,
                            std::vector<std::pair<std::string, FieldValue>>* fields) const {
  for (const auto& s : segments_) {
    out->append(s.literal);
    if (!s.field) continue;
    FieldValueRef v;
    bool have = s.field->Get(fctx, &v);
    if (have) RenderFieldValue(s.field->type, v, out);
    else out->append("<NA>");
    if (fields != nullptr) {
      bool seen = false;
      for (const auto& [k, _] : *fields) seen = seen || k == s.field->text;
      if (!seen) fields->emplace_back(s.field->text, have ? ToFieldValue(s.field->type, v) : FieldValue{});
    }
  }
}

}  // namespace vigil::compile
