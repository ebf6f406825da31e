// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/compiler.h"

#include <algorithm>

#include "engine/compile/dns_check.h"

namespace vigil::compile {

using condition::CmpOp;
using condition::Node;

namespace {

EventTypeSet AllTypes() { return EventTypeSet().set(); }

std::string Excerpt(std::string_view text, uint32_t begin, uint32_t end) {
  if (begin >= text.size()) return "";
  if (end <= begin || end > text.size()) end = static_cast<uint32_t>(text.size());
  std::string s(text.substr(begin, end - begin));
  for (char& c : s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > 160) s = s.substr(0, 157) + "...";
  return s;
}

void AddReasons(const std::vector<std::string>& from, std::vector<std::string>* to) {
  for (const auto& r : from)
    if (std::find(to->begin(), to->end(), r) == to->end()) to->push_back(r);
}

// and/or of children whose constness is known: and is false when one child
// is (those children say why) and true when all are; or the other way round.
KonstInfo CombineKonst(bool is_and, const std::vector<KonstInfo>& kids) {
  KonstInfo out;
  Konst absorbing = is_and ? Konst::kFalse : Konst::kTrue;
  Konst neutral = is_and ? Konst::kTrue : Konst::kFalse;
  bool all_neutral = !kids.empty();
  for (const auto& k : kids) {
    if (k.konst == absorbing) {
      out.konst = absorbing;
      AddReasons(k.reasons, &out.reasons);
    }
    all_neutral = all_neutral && k.konst == neutral;
  }
  if (out.konst == absorbing || !all_neutral) return out;
  out.konst = neutral;
  for (const auto& k : kids) AddReasons(k.reasons, &out.reasons);
  return out;
}

}  // namespace

void Compiler::Report(const ItemContext& ctx, uint32_t offset, std::string message, bool warning) {
  SourceLoc loc = ctx.locate ? ctx.locate(offset) : SourceLoc{};
  Diagnostic d{warning ? Severity::kWarning : Severity::kError, loc, ctx.kind, ctx.name, ctx.key, std::move(message)};
  std::string key = d.ToString();
  if (!reported_.insert(key).second) return;  // a shared macro's problem, already reported
  diags_->Add(std::move(d));
}

std::unique_ptr<FieldAccessor> Compiler::ResolveField(const condition::FieldRef& ref, std::string* error,
                                                      bool* unknown) {
  *unknown = false;
  const FieldDef* def = FindField(ref.name);
  if (def == nullptr) {
    *unknown = true;
    *error = "unknown field '" + ref.name + "'";
    return nullptr;
  }
  auto acc = std::make_unique<FieldAccessor>();
  acc->def = def;
  std::string e = ParseFieldArg(*def, ref.arg, ref.has_arg, &acc->arg);
  if (!e.empty()) {
    *error = e;
    return nullptr;
  }
  acc->transformers = ref.transformers;
  acc->text = ref.ToString();
  FieldType t = EffectiveType(*def, acc->arg);
  for (auto it = ref.transformers.rbegin(); it != ref.transformers.rend(); ++it) {
    bool stringy = t == FieldType::kString || t == FieldType::kStringList;
    if (!stringy) {
      *error = std::string("transformer ") + condition::TransformerName(*it) + "() needs a string field, '" +
               ref.name + "' is a " + std::string(FieldTypeName(t));
      return nullptr;
    }
    if (*it == condition::Transformer::kLen) t = FieldType::kNumber;
    if ((*it == condition::Transformer::kBasename || *it == condition::Transformer::kB64) &&
        t == FieldType::kStringList) {
      *error = std::string("transformer ") + condition::TransformerName(*it) + "() needs a single string, '" +
               ref.name + "' is a list";
      return nullptr;
    }
  }
  acc->type = t;
  std::string key = std::string(def->name) + (acc->arg.present ? "[" + acc->arg.key + "]" : "");
  auto slot = slots_.emplace(key, static_cast<int>(slots_.size())).first;
  acc->cache_slot = slot->second;
  if (!def->available && result_ != nullptr) result_->na_fields.insert(ref.name);
  if (FieldNeedsEnv(*def)) ++env_refs_;
  if (FieldNeedsBuffer(*def)) ++buffer_refs_;
  return acc;
}

CompileResult Compiler::Compile(const Node& root, const ItemContext& ctx, bool unknown_is_warning) {
  CompileResult r;
  result_ = &r;
  unknown_is_warning_ = unknown_is_warning;
  macro_stack_.clear();
  root_ctx_ = &ctx;
  nodes_ = 0;
  over_budget_ = false;
  Sub sub;
  r.ok = CompileNode(root, ctx, ctx.text, &sub);
  if (r.ok) {
    r.check = std::move(sub.check);
    r.types = sub.types;
    r.konst = std::move(sub.konst);
  }
  result_ = nullptr;
  root_ctx_ = nullptr;
  return r;
}

bool Compiler::Budget() {
  if (over_budget_) return false;
  if (++nodes_ <= kMaxConditionNodes) return true;
  over_budget_ = true;
  std::string chain;
  for (const auto& m : macro_stack_) chain += (chain.empty() ? "" : " > ") + m;
  Report(*root_ctx_, 0,
         "condition expands to more than " + std::to_string(kMaxConditionNodes) + " nodes through its macros" +
             (chain.empty() ? std::string() : " (expanding " + chain + ")") +
             "; a macro used several times in another doubles it at each level");
  return false;
}

bool Compiler::CompileAndOr(const Node& n, const ItemContext& ctx, std::string_view text, Sub* out) {
  bool is_and = n.kind == Node::Kind::kAnd;
  std::vector<std::unique_ptr<Check>> children;
  EventTypeSet types = is_and ? AllTypes() : EventTypeSet();
  bool exact = true, ok = true;
  std::vector<KonstInfo> kids;
  for (const auto& c : n.children) {
    Sub s;
    if (!CompileNode(*c, ctx, text, &s)) {
      ok = false;  // keep going: report every problem of the condition
      if (over_budget_) break;
      continue;
    }
    types = is_and ? (types & s.types) : (types | s.types);
    exact = exact && s.exact;
    kids.push_back(std::move(s.konst));
    // a and (b and c) -> one node of three: fewer virtual hops per event.
    if (auto flat = FlattenInto(s.check.get(), is_and)) {
      for (auto& g : *flat) children.push_back(std::move(g));
    } else {
      children.push_back(std::move(s.check));
    }
  }
  if (!ok) return false;
  out->check = is_and ? MakeAnd(std::move(children)) : MakeOr(std::move(children));
  out->types = types;
  out->exact = exact;
  out->konst = CombineKonst(is_and, kids);
  return true;
}

bool Compiler::CompileMacro(const Node& n, const ItemContext& ctx, Sub* out) {
  auto it = macros_->find(n.name);
  if (it == macros_->end()) {
    if (lists_->count(n.name))
      Report(ctx, n.offset, "'" + n.name + "' is a list, not a macro: use it as '... in (" + n.name + ")'");
    else
      Report(ctx, n.offset, "undefined macro '" + n.name + "'");
    return false;
  }
  MacroEntry& m = it->second;
  m.used = true;
  if (!m.ast) {
    Report(ctx, n.offset, "macro '" + n.name + "' has errors (reported at its definition)");
    return false;
  }
  if (std::find(macro_stack_.begin(), macro_stack_.end(), n.name) != macro_stack_.end()) {
    Report(ctx, n.offset, "macro '" + n.name + "' refers to itself (through " + macro_stack_.back() + ")");
    return false;
  }
  if (macro_stack_.size() >= 64) {
    Report(ctx, n.offset, "macros nested deeper than 64 levels");
    return false;
  }
  macro_stack_.push_back(n.name);
  Sub s;
  bool ok = CompileNode(*m.ast, m.ctx, m.ctx.text, &s);
  macro_stack_.pop_back();
  if (!ok) {
    if (!over_budget_) Report(ctx, n.offset, "macro '" + n.name + "' has errors (reported at its definition)");
    return false;
  }
  *out = std::move(s);
  return true;
}

bool Compiler::CompileNode(const Node& n, const ItemContext& ctx, std::string_view text, Sub* out) {
  if (!Budget()) return false;
  switch (n.kind) {
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
      if (!CompileAndOr(n, ctx, text, out)) return false;
      break;
    case Node::Kind::kNot: {
      Sub s;
      if (!CompileNode(*n.children[0], ctx, text, &s)) return false;
      out->types = s.exact ? ~s.types : AllTypes();
      out->exact = s.exact;
      out->check = MakeNot(std::move(s.check));
      out->konst = std::move(s.konst);
      if (out->konst.konst != Konst::kDepends)
        out->konst.konst = out->konst.konst == Konst::kFalse ? Konst::kTrue : Konst::kFalse;
      break;
    }
    case Node::Kind::kMacro:
      return CompileMacro(n, ctx, out);  // the body keeps its own text for `rules explain`
    case Node::Kind::kCompare:
      if (!CompileCompare(n, ctx, out)) return false;
      break;
  }
  out->check->text = Excerpt(text, n.offset, n.end);
  return true;
}

bool ExpandValues(const Node& n, const std::map<std::string, ListEntry>& lists, std::vector<std::string>* out,
                  std::string* error, uint32_t* error_offset) {
  bool list_op = n.op == CmpOp::kIn || n.op == CmpOp::kIntersects || n.op == CmpOp::kPmatch;
  if (list_op && !n.list_syntax) {
    // `x in list_name`: the name must be a list.
    const auto& v = n.values[0];
    auto it = lists.find(v.text);
    if (it == lists.end()) {
      *error = "undefined list '" + v.text + "'";
      *error_offset = v.offset;
      return false;
    }
    it->second.used = true;
    *out = it->second.items;
    return true;
  }
  for (const auto& v : n.values) {
    if (list_op && !v.quoted) {
      auto it = lists.find(v.text);
      if (it != lists.end()) {
        it->second.used = true;
        if (out->size() + it->second.items.size() > kMaxListItems) {
          *error = "the values of this comparison expand to more than " + std::to_string(kMaxListItems) +
                   " list items (at list '" + v.text + "')";
          *error_offset = v.offset;
          return false;
        }
        out->insert(out->end(), it->second.items.begin(), it->second.items.end());
        continue;
      }
    }
    out->push_back(v.text);
  }
  return true;
}

// A check on a field that is <NA> for every event is false for every event.
void Compiler::MarkAlwaysNa(const FieldAccessor& f, const condition::FieldRef& ref, Sub* out) {
  if (f.def->available) return;
  out->konst.konst = Konst::kFalse;
  AddReasons({"'" + ref.name + "' is always <NA> in vigil"}, &out->konst.reasons);
}

// `field op other.field`: both sides read from the same event.
bool Compiler::CompileFieldCompare(const Node& n, const ItemContext& ctx, std::unique_ptr<FieldAccessor> field,
                                   Sub* out) {
  std::string error;
  bool rhs_unknown = false;
  auto rhs = ResolveField(*n.rhs_field, &error, &rhs_unknown);
  if (!rhs) {
    Report(ctx, n.rhs_field->offset, error);
    return false;
  }
  MarkAlwaysNa(*rhs, *n.rhs_field, out);
  auto c = MakeFieldCompare(std::move(field), n.op, std::move(rhs), &error);
  if (!c) {
    Report(ctx, n.offset, error);
    return false;
  }
  out->check = std::move(c);
  return true;
}

void Compiler::CompileEventTypes(const Node& n, const std::vector<std::string>& values, Sub* out) {
  EventTypeSet set;
  std::string uncaptured;
  for (const auto& v : values) {
    EventType t;
    // Syscalls vigil does not capture simply never match (Falco rules name many).
    if (EventTypeFromName(v, &t)) set.set(static_cast<std::size_t>(t));
    else if (uncaptured.find(" " + v + ",") == std::string::npos) uncaptured += " " + v + ",";
  }
  if (n.op == CmpOp::kNe) set = ~set;
  // The types vigil has are exactly the ones it produces (decoded from a
  // kernel record, or synthesized as `container`), so an empty set never matches.
  if (set.none() || set.all()) {
    out->konst.konst = set.none() ? Konst::kFalse : Konst::kTrue;
    if (!uncaptured.empty()) uncaptured.pop_back();
    out->konst.reasons.push_back(uncaptured.empty() ? "evt.type is compared with no event type"
                                                    : "evt.type" + uncaptured + " is never captured by vigil");
  }
  out->check = MakeEventTypeCheck(set);
  out->types = set;
  out->exact = true;
}

// evt.buffer holds the payload's first kDataBufferMax bytes: a longer value
// can never be found in it (docs/capture.md, "Payload of the data calls").
void Compiler::WarnPastBufferBound(const Node& n, const ItemContext& ctx, const std::vector<std::string>& values) {
  const bool hex = n.op == CmpOp::kBContains || n.op == CmpOp::kBStartsWith;
  for (const std::string& v : values) {
    const std::size_t bytes = hex ? v.size() / 2 : v.size();
    if (bytes > kDataBufferMax && n.op != CmpOp::kNe) {
      Report(ctx, n.offset,
             "'" + n.field.name + "' holds the payload's first " + std::to_string(kDataBufferMax) +
                 " bytes only: a value of " + std::to_string(bytes) + " bytes can never match",
             true);
      return;
    }
  }
}

bool Compiler::CompileCompare(const Node& n, const ItemContext& ctx, Sub* out) {
  std::string error;
  bool unknown = false;
  auto field = ResolveField(n.field, &error, &unknown);
  if (!field) {
    if (unknown && unknown_is_warning_) {
      result_->unknown_field = true;
      Report(ctx, n.field.offset, error + " (rule skipped: skip-if-unknown-filter)", true);
    } else {
      if (unknown) result_->unknown_field = true;
      Report(ctx, n.field.offset, error);
    }
    return false;
  }
  out->types = AllTypes();
  out->exact = false;
  MarkAlwaysNa(*field, n.field, out);
  // Falco accepts `intersects` on a single-valued field (Falco's own incubating
  // rules do: `proc.args intersects (...)`) and compares the whole value, as
  // `in` does: kept for compatibility, but said, since the author likely meant
  // a per-element test.
  if (n.op == CmpOp::kIntersects && field->type != FieldType::kStringList) {
    Report(ctx, n.offset,
           "'intersects' on single-valued field '" + n.field.name +
               "' compares the whole value, like 'in' (list fields such as proc.aname or bpf.prog.helpers are "
               "tested element by element)",
           true);
  }

  if (n.rhs_field) return CompileFieldCompare(n, ctx, std::move(field), out);

  std::vector<std::string> values;
  std::string expand_error;
  uint32_t expand_offset = 0;
  if (!ExpandValues(n, *lists_, &values, &expand_error, &expand_offset)) {
    Report(ctx, expand_offset, expand_error);
    return false;
  }

  // evt.type: a bit set, and the source of the rule's event-type index.
  if (field->def->name == std::string_view("evt.type") && field->transformers.empty() &&
      (n.op == CmpOp::kEq || n.op == CmpOp::kNe || n.op == CmpOp::kIn || n.op == CmpOp::kIntersects)) {
    CompileEventTypes(n, values, out);
    return true;
  }

  if (dns_ != nullptr && IsDnsNameCompare(*field, n.op)) {
    out->check = MakeDnsNameCheck(std::move(field), n.op, values, dns_);
    return true;
  }

  if (FieldNeedsBuffer(*field->def) && field->transformers.empty()) WarnPastBufferBound(n, ctx, values);

  int bad = -1;
  auto c = MakeCompare(std::move(field), n.op, values, &error, &bad);
  if (!c) {
    uint32_t at = n.offset;
    // Point at the offending value when it is one written in this condition.
    if (bad >= 0 && static_cast<std::size_t>(bad) < n.values.size() && n.values.size() == values.size())
      at = n.values[static_cast<std::size_t>(bad)].offset;
    else if (!n.values.empty())
      at = n.values[0].offset;
    Report(ctx, at, error);
    return false;
  }
  out->check = std::move(c);
  return true;
}

}  // namespace vigil::compile
