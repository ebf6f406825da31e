// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/checks.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "engine/compile/matchers.h"

namespace vigil::compile {

using condition::CmpOp;
using condition::Transformer;

namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view Basename(std::string_view s) {
  auto p = s.rfind('/');
  return p == std::string_view::npos ? s : s.substr(p + 1);
}

// Standard base64 (RFC 4648 alphabet), '=' padding optional as in libsinsp's
// decodeWithoutPadding; false on any other byte or a dangling 6-bit group.
bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;
}

// The first byte inline, then memcmp: most compares on the hot path differ
// at the first byte, and a memcmp call costs more than the compare.
bool SameBytes(const char* p, std::string_view v) {
  return v.empty() || (p[0] == v[0] && std::memcmp(p + 1, v.data() + 1, v.size() - 1) == 0);
}

void Indent(int n, std::string* out) { out->append(static_cast<std::size_t>(n) * 2, ' '); }

std::vector<const Check*> Raw(const std::vector<std::unique_ptr<Check>>& v) {
  std::vector<const Check*> out;
  out.reserve(v.size());
  for (const auto& c : v) out.push_back(c.get());
  return out;
}

}  // namespace

void FieldAccessor::Fill(const FieldContext& ctx, FieldCacheSlot& slot) const {
  slot.value = FieldValueRef{};
  slot.available = def->get(*def, ctx, arg, slot.scratch, &slot.value);
  slot.event_num = ctx.event_num;
}

bool FieldAccessor::Get(const FieldContext& ctx, FieldValueRef* out) const {
  if (ctx.cache != nullptr && cache_slot >= 0) {
    FieldCacheSlot& slot = ctx.cache[cache_slot];
    if (slot.event_num != ctx.event_num) Fill(ctx, slot);
    if (!slot.available) return false;
    *out = slot.value;
  } else if (!def->get(*def, ctx, arg, scratch, out)) {
    return false;
  }
  if (transformers.empty()) return true;  // the common case: no type to work out
  FieldType t = EffectiveType(*def, arg);
  for (auto it = transformers.rbegin(); it != transformers.rend(); ++it) {
    switch (*it) {
      case Transformer::kToLower:
      case Transformer::kToUpper: {
        bool lower = *it == Transformer::kToLower;
        if (t == FieldType::kStringList) {
          tlist.clear();
          tlist_owned.resize(out->list->size());
          for (std::size_t i = 0; i < out->list->size(); ++i) {
            tlist_owned[i].assign((*out->list)[i]);
            for (char& c : tlist_owned[i]) c = lower ? Lower(c) : Upper(c);
            tlist.push_back(tlist_owned[i]);
          }
          out->list = &tlist;
        } else {
          if (out->str.data() != tbuf.data()) tbuf.assign(out->str);
          for (char& c : tbuf) c = lower ? Lower(c) : Upper(c);
          out->str = tbuf;
        }
        break;
      }
      case Transformer::kBasename:
        out->str = Basename(out->str);
        break;
      case Transformer::kB64:
        // Falco's b64() decodes; a value that is not base64 has no value (<NA>).
        if (!DecodeBase64(out->str, &tbuf2)) return false;
        tbuf.swap(tbuf2);
        out->str = tbuf;
        break;
      case Transformer::kLen:
        out->num = t == FieldType::kStringList ? static_cast<int64_t>(out->list->size())
                                               : static_cast<int64_t>(out->str.size());
        t = FieldType::kNumber;
        break;
    }
  }
  return true;
}

void Check::Explain(const FieldContext& ctx, int indent, std::string* out) const {
  Indent(indent, out);
  *out += (Eval(ctx) ? "true   " : "false  ") + text + "\n";
}

namespace {

class AndCheck final : public Check {
 public:
  std::vector<std::unique_ptr<Check>>& children() { return children_; }
  explicit AndCheck(std::vector<std::unique_ptr<Check>> c) : children_(std::move(c)) {}
  bool Eval(const FieldContext& ctx) const override {
    for (const auto& c : children_)
      if (!c->Eval(ctx)) return false;
    return true;
  }
  Kind kind() const override { return Kind::kAnd; }
  std::vector<const Check*> Children() const override { return Raw(children_); }
  void Explain(const FieldContext& ctx, int indent, std::string* out) const override {
    Check::Explain(ctx, indent, out);
    for (const auto& c : children_) c->Explain(ctx, indent + 1, out);
  }

 private:
  std::vector<std::unique_ptr<Check>> children_;
};

class OrCheck final : public Check {
 public:
  std::vector<std::unique_ptr<Check>>& children() { return children_; }
  explicit OrCheck(std::vector<std::unique_ptr<Check>> c) : children_(std::move(c)) {}
  bool Eval(const FieldContext& ctx) const override {
    for (const auto& c : children_)
      if (c->Eval(ctx)) return true;
    return false;
  }
  Kind kind() const override { return Kind::kOr; }
  std::vector<const Check*> Children() const override { return Raw(children_); }
  void Explain(const FieldContext& ctx, int indent, std::string* out) const override {
    Check::Explain(ctx, indent, out);
    for (const auto& c : children_) c->Explain(ctx, indent + 1, out);
  }

 private:
  std::vector<std::unique_ptr<Check>> children_;
};

class NotCheck final : public Check {
 public:
  explicit NotCheck(std::unique_ptr<Check> c) : child_(std::move(c)) {}
  bool Eval(const FieldContext& ctx) const override { return !child_->Eval(ctx); }
  Kind kind() const override { return Kind::kNot; }
  std::vector<const Check*> Children() const override { return {child_.get()}; }
  void Explain(const FieldContext& ctx, int indent, std::string* out) const override {
    Check::Explain(ctx, indent, out);
    child_->Explain(ctx, indent + 1, out);
  }

 private:
  std::unique_ptr<Check> child_;
};

class ConstCheck final : public Check {
 public:
  explicit ConstCheck(bool v) : value_(v) {}
  bool Eval(const FieldContext&) const override { return value_; }
  Kind kind() const override { return Kind::kConst; }
  bool ValueFor(EventType) const override { return value_; }

 private:
  bool value_;
};

class EventTypeCheck final : public Check {
 public:
  explicit EventTypeCheck(EventTypeSet t) : types_(t) {}
  bool Eval(const FieldContext& ctx) const override {
    return types_.test(static_cast<std::size_t>(ctx.event->type));
  }
  Kind kind() const override { return Kind::kEventType; }
  bool ValueFor(EventType t) const override { return types_.test(static_cast<std::size_t>(t)); }

 private:
  EventTypeSet types_;
};

// Leaf base: fetches the field and explains with the value it saw.
class LeafCheck : public Check {
 public:
  explicit LeafCheck(std::unique_ptr<FieldAccessor> f) : field_(std::move(f)) {}
  // The field as the prefilter index can read it: one plain string, as is.
  bool PlainString() const { return field_->type == FieldType::kString && field_->transformers.empty(); }
  // One plain field, no argument: what a bool or number compare needs to be Cheap().
  bool PlainField() const { return field_->transformers.empty() && !field_->arg.present; }
  void Explain(const FieldContext& ctx, int indent, std::string* out) const override {
    Indent(indent, out);
    bool r = Eval(ctx);
    *out += (r ? "true   " : "false  ") + text + "    [" + field_->text + " = ";
    FieldValueRef v;
    if (field_->Get(ctx, &v)) {
      std::string s;
      RenderFieldValue(field_->type, v, &s);
      *out += "'" + s + "']\n";
    } else {
      *out += "<NA>]\n";
    }
  }

 protected:
  std::unique_ptr<FieldAccessor> field_;
};

class ExistsCheck final : public LeafCheck {
 public:
  using LeafCheck::LeafCheck;
  bool Eval(const FieldContext& ctx) const override { return field_->Ref(ctx) != nullptr; }
};

// ---- strings

class StringCheck final : public LeafCheck {
 public:
  StringCheck(std::unique_ptr<FieldAccessor> f, CmpOp op, std::string value)
      : LeafCheck(std::move(f)), op_(op), value_(std::move(value)), needle_(value_) {
    if (op_ == CmpOp::kIContains)
      for (char& c : value_) c = Lower(c);
  }
  bool Init(std::string* error) {
    if (op_ == CmpOp::kRegex) {
      RE2::Options opts;
      opts.set_log_errors(false);
      re_ = std::make_unique<RE2>(value_, opts);
      if (!re_->ok()) {
        *error = "invalid regular expression: " + re_->error();
        return false;
      }
    }
    return true;
  }
  bool PrefixGuard(const FieldAccessor** field, std::vector<std::string>* prefixes) const override {
    if (!PlainString()) return false;
    *field = field_.get();
    switch (op_) {
      case CmpOp::kEq:
      case CmpOp::kStartsWith:
      case CmpOp::kBStartsWith:
        *prefixes = {value_};
        return true;
      case CmpOp::kGlob:  // the literal text before the first wildcard, class or escape
        *prefixes = {value_.substr(0, value_.find_first_of("*?[\\"))};
        return true;
      case CmpOp::kRegex: {  // every match lies in [lo, hi], so starts with their common prefix
        std::string lo, hi;
        if (!re_->PossibleMatchRange(&lo, &hi, 64)) return false;
        const auto diff = std::mismatch(lo.begin(), lo.end(), hi.begin(), hi.end()).first;
        *prefixes = {std::string(lo.begin(), diff)};
        return true;
      }
      default:
        return false;
    }
  }
  bool SuffixGuard(const FieldAccessor** field, std::vector<std::string>* suffixes) const override {
    if (!PlainString()) return false;
    *field = field_.get();
    switch (op_) {
      case CmpOp::kEq:
      case CmpOp::kEndsWith:
        *suffixes = {value_};
        return true;
      case CmpOp::kGlob: {  // the literal text after the last wildcard, class or escape
        const auto last = value_.find_last_of("*?]\\");
        *suffixes = {last == std::string::npos ? value_ : value_.substr(last + 1)};
        return true;
      }
      case CmpOp::kRegex:
        return RegexLiteralTails(value_, suffixes);
      default:
        return false;
    }
  }
  bool SubstringGuard(const FieldAccessor** field, std::string* needle) const override {
    if (!PlainString()) return false;
    *field = field_.get();
    switch (op_) {
      case CmpOp::kContains:
      case CmpOp::kBContains:
        *needle = value_;
        break;
      case CmpOp::kGlob:
        *needle = GlobLongestLiteral(value_);
        break;
      default:
        return false;
    }
    return !needle->empty();
  }
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    if (field_->type == FieldType::kStringList && ComparesEachAncestor(*field_->def, field_->arg)) {
      for (auto s : *v.list)
        if (One(op_, s)) return true;
      return false;
    }
    if (field_->type == FieldType::kStringList) {
      bool any = false;
      for (auto s : *v.list) any = any || One(op_ == CmpOp::kNe ? CmpOp::kEq : op_, s);
      return op_ == CmpOp::kNe ? !any : any;
    }
    return One(op_, v.str);
  }

 private:
  bool One(CmpOp op, std::string_view s) const {
    switch (op) {
      case CmpOp::kEq: return s.size() == value_.size() && SameBytes(s.data(), value_);
      case CmpOp::kNe: return s.size() != value_.size() || !SameBytes(s.data(), value_);
      case CmpOp::kContains:
      case CmpOp::kBContains: return needle_.In(s);
      case CmpOp::kIContains: return IContains(s, value_);
      case CmpOp::kStartsWith:
      case CmpOp::kBStartsWith: return s.size() >= value_.size() && SameBytes(s.data(), value_);
      case CmpOp::kEndsWith: return s.size() >= value_.size() && SameBytes(s.data() + s.size() - value_.size(), value_);
      case CmpOp::kGlob: return GlobMatch(value_, s, false);
      case CmpOp::kIGlob: return GlobMatch(value_, s, true);
      case CmpOp::kRegex: return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *re_);
      default: return false;
    }
  }
  CmpOp op_;
  std::string value_;
  Needle needle_;  // contains
  std::unique_ptr<RE2> re_;
};

class StringSetCheck final : public LeafCheck {
 public:
  StringSetCheck(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values)
      : LeafCheck(std::move(f)), op_(op), set_(values.begin(), values.end()) {}
  bool PrefixGuard(const FieldAccessor** field, std::vector<std::string>* prefixes) const override {
    if (!PlainString()) return false;  // a plain string is looked up whole, whatever the operator
    *field = field_.get();
    prefixes->assign(set_.begin(), set_.end());
    return true;
  }
  bool SuffixGuard(const FieldAccessor** field, std::vector<std::string>* suffixes) const override {
    return PrefixGuard(field, suffixes);  // a value equal to one of them also ends with it
  }
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    if (field_->type != FieldType::kStringList) return set_.find(v.str) != set_.end();
    if (op_ == CmpOp::kIntersects || ComparesEachAncestor(*field_->def, field_->arg)) {
      for (auto s : *v.list)
        if (set_.find(s) != set_.end()) return true;
      return false;
    }
    // `in` on a list field: every element is in the set.
    if (v.list->empty()) return false;
    for (auto s : *v.list)
      if (set_.find(s) == set_.end()) return false;
    return true;
  }

 private:
  CmpOp op_;
  StringSet set_;
};

class PmatchCheck final : public LeafCheck {
 public:
  PmatchCheck(std::unique_ptr<FieldAccessor> f, const std::vector<std::string>& values) : LeafCheck(std::move(f)) {
    for (const auto& v : values) tree_.Add(v);
  }
  bool PrefixGuard(const FieldAccessor** field, std::vector<std::string>* prefixes) const override {
    if (!PlainString()) return false;
    *field = field_.get();
    *prefixes = tree_.Prefixes();
    return true;
  }
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    if (field_->type == FieldType::kStringList) {
      for (auto s : *v.list)
        if (tree_.Match(s)) return true;
      return false;
    }
    return tree_.Match(v.str);
  }

 private:
  PrefixTree tree_;
};

// ---- numbers, bools, addresses

bool ParseNumber(std::string_view s, int64_t* out) {
  int base = 10;
  bool neg = false;
  std::string_view t = s;
  if (!t.empty() && t[0] == '-') neg = true, t.remove_prefix(1);
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) base = 16, t.remove_prefix(2);
  uint64_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) return false;
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

class NumberCheck final : public LeafCheck {
 public:
  NumberCheck(std::unique_ptr<FieldAccessor> f, CmpOp op, std::vector<int64_t> values)
      : LeafCheck(std::move(f)), op_(op), values_(std::move(values)) {}
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    return One(v.num) || (v.has_second && One(v.num2));
  }

  bool Cheap() const override { return PlainField(); }

 private:
  bool One(int64_t n) const {
    switch (op_) {
      case CmpOp::kEq: return n == values_[0];
      case CmpOp::kNe: return n != values_[0];
      case CmpOp::kLt: return n < values_[0];
      case CmpOp::kLe: return n <= values_[0];
      case CmpOp::kGt: return n > values_[0];
      case CmpOp::kGe: return n >= values_[0];
      default: return std::find(values_.begin(), values_.end(), n) != values_.end();
    }
  }
  CmpOp op_;
  std::vector<int64_t> values_;
};

class BoolCheck final : public LeafCheck {
 public:
  BoolCheck(std::unique_ptr<FieldAccessor> f, bool eq, bool value) : LeafCheck(std::move(f)), eq_(eq), value_(value) {}
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    return (v.boolean == value_) == eq_;
  }

  bool Cheap() const override { return PlainField(); }

 private:
  bool eq_, value_;
};

struct Net {
  IpAddr addr;
  uint16_t family;
  int prefix;
};

bool NetContains(const Net& n, const IpAddr& a, uint16_t family) {
  if (n.family != family) return false;
  int full = n.prefix / 8, bits = n.prefix % 8;
  for (int i = 0; i < full; ++i)
    if (n.addr.bytes[static_cast<std::size_t>(i)] != a.bytes[static_cast<std::size_t>(i)]) return false;
  if (bits == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (n.addr.bytes[static_cast<std::size_t>(full)] & mask) == (a.bytes[static_cast<std::size_t>(full)] & mask);
}

class IpCheck final : public LeafCheck {
 public:
  IpCheck(std::unique_ptr<FieldAccessor> f, bool negate, std::vector<Net> nets)
      : LeafCheck(std::move(f)), negate_(negate), nets_(std::move(nets)) {}
  bool Eval(const FieldContext& ctx) const override {
    const FieldValueRef* ref = field_->Ref(ctx);
    if (ref == nullptr) return false;
    const FieldValueRef& v = *ref;
    bool hit = Any(v.ip, v.family) || (v.has_second && Any(v.ip2, v.family));
    return hit != negate_;
  }

 private:
  bool Any(const IpAddr& a, uint16_t family) const {
    for (const auto& n : nets_)
      if (NetContains(n, a, family)) return true;
    return false;
  }
  bool negate_;
  std::vector<Net> nets_;
};

class FieldCompareCheck final : public LeafCheck {
 public:
  FieldCompareCheck(std::unique_ptr<FieldAccessor> l, CmpOp op, std::unique_ptr<FieldAccessor> r)
      : LeafCheck(std::move(l)), op_(op), rhs_(std::move(r)) {}
  bool Eval(const FieldContext& ctx) const override {
    FieldValueRef a, b;
    if (!field_->Get(ctx, &a) || !rhs_->Get(ctx, &b)) return false;
    if (field_->type == FieldType::kNumber) {
      switch (op_) {
        case CmpOp::kEq: return a.num == b.num;
        case CmpOp::kNe: return a.num != b.num;
        case CmpOp::kLt: return a.num < b.num;
        case CmpOp::kLe: return a.num <= b.num;
        case CmpOp::kGt: return a.num > b.num;
        case CmpOp::kGe: return a.num >= b.num;
        default: return false;
      }
    }
    if (field_->type == FieldType::kBool) return (a.boolean == b.boolean) == (op_ == CmpOp::kEq);
    std::string_view x = a.str, y = b.str;
    switch (op_) {
      case CmpOp::kEq: return x == y;
      case CmpOp::kNe: return x != y;
      case CmpOp::kContains: return x.find(y) != std::string_view::npos;
      case CmpOp::kStartsWith: return x.substr(0, y.size()) == y;
      case CmpOp::kEndsWith: return x.size() >= y.size() && x.substr(x.size() - y.size()) == y;
      case CmpOp::kGlob: return GlobMatch(y, x, false);
      case CmpOp::kIGlob: return GlobMatch(y, x, true);
      default: return false;
    }
  }

 private:
  CmpOp op_;
  std::unique_ptr<FieldAccessor> rhs_;
};

bool IsListOp(CmpOp op) { return op == CmpOp::kIn || op == CmpOp::kIntersects || op == CmpOp::kPmatch; }

bool HexDecode(const std::string& in, std::string* out) {
  if (in.size() % 2) return false;
  out->clear();
  for (std::size_t i = 0; i < in.size(); i += 2) {
    unsigned v = 0;
    auto r = std::from_chars(in.data() + i, in.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != in.data() + i + 2) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

}  // namespace

std::unique_ptr<Check> MakeAnd(std::vector<std::unique_ptr<Check>> c) { return std::make_unique<AndCheck>(std::move(c)); }
std::unique_ptr<Check> MakeOr(std::vector<std::unique_ptr<Check>> c) { return std::make_unique<OrCheck>(std::move(c)); }
std::vector<std::unique_ptr<Check>>* FlattenInto(Check* c, bool is_and) {
  if (is_and) {
    auto* a = dynamic_cast<AndCheck*>(c);
    return a ? &a->children() : nullptr;
  }
  auto* o = dynamic_cast<OrCheck*>(c);
  return o ? &o->children() : nullptr;
}

std::unique_ptr<Check> MakeNot(std::unique_ptr<Check> c) { return std::make_unique<NotCheck>(std::move(c)); }
std::unique_ptr<Check> MakeConst(bool v) { return std::make_unique<ConstCheck>(v); }
std::unique_ptr<Check> MakeEventTypeCheck(EventTypeSet t) { return std::make_unique<EventTypeCheck>(t); }

namespace {

std::unique_ptr<Check> MakeCompareUnkeyed(std::unique_ptr<FieldAccessor> f, CmpOp op,
                                          const std::vector<std::string>& values, std::string* error, int* error_value);

// Field as written (name, argument, transformers), operator and values: the
// same key gives the same check. Values are length-prefixed, so no value's
// bytes can pass for a separator.
std::string CompareKey(const FieldAccessor& f, CmpOp op, const std::vector<std::string>& values) {
  std::string key = f.text;
  key += '\x1f';
  key += condition::CmpOpName(op);
  for (const auto& v : values) {
    key += '\x1e';
    key += std::to_string(v.size());
    key += ':';
    key += v;
  }
  return key;
}

}  // namespace

std::unique_ptr<Check> MakeCompare(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values,
                                   std::string* error, int* error_value) {
  std::string key = CompareKey(*f, op, values);
  auto c = MakeCompareUnkeyed(std::move(f), op, values, error, error_value);
  if (c) c->key = std::move(key);
  return c;
}

namespace {

std::unique_ptr<Check> MakeStringCompare(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values,
                                         std::string* error, int* error_value) {
  const std::string fname = "'" + f->text + "'";
  const FieldType type = f->type;
  if (op == CmpOp::kLt || op == CmpOp::kLe || op == CmpOp::kGt || op == CmpOp::kGe) {
    *error = std::string("type mismatch: operator '") + condition::CmpOpName(op) + "' needs a number, " +
             fname + " is a " + std::string(FieldTypeName(type));
    return nullptr;
  }
  if (op == CmpOp::kPmatch) return std::make_unique<PmatchCheck>(std::move(f), values);
  if (op == CmpOp::kIn || op == CmpOp::kIntersects) return std::make_unique<StringSetCheck>(std::move(f), op, values);
  std::string v = values[0];
  if (op == CmpOp::kBContains || op == CmpOp::kBStartsWith) {
    std::string raw;
    if (!HexDecode(v, &raw)) {
      *error = std::string("operator '") + condition::CmpOpName(op) + "' expects hex bytes, got '" + v + "'";
      *error_value = 0;
      return nullptr;
    }
    v = raw;
  }
  auto c = std::make_unique<StringCheck>(std::move(f), op, v);
  if (!c->Init(error)) {
    *error_value = 0;
    return nullptr;
  }
  return c;
}

std::unique_ptr<Check> MakeNumberCompare(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values,
                                         std::string* error, int* error_value) {
  const std::string fname = "'" + f->text + "'";
  switch (op) {
    case CmpOp::kEq: case CmpOp::kNe: case CmpOp::kLt: case CmpOp::kLe: case CmpOp::kGt: case CmpOp::kGe:
    case CmpOp::kIn: case CmpOp::kIntersects: break;
    default:
      *error = std::string("type mismatch: operator '") + condition::CmpOpName(op) + "' needs a string, " + fname +
               " is a number";
      return nullptr;
  }
  std::vector<int64_t> nums;
  for (std::size_t i = 0; i < values.size(); ++i) {
    int64_t n;
    if (!ParseNumber(values[i], &n)) {
      *error = "type mismatch: " + fname + " is a number, '" + values[i] + "' is not";
      *error_value = static_cast<int>(i);
      return nullptr;
    }
    nums.push_back(n);
  }
  return std::make_unique<NumberCheck>(std::move(f), op, std::move(nums));
}

std::unique_ptr<Check> MakeBoolCompare(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values,
                                       std::string* error, int* error_value) {
  const std::string fname = "'" + f->text + "'";
  if (op != CmpOp::kEq && op != CmpOp::kNe) {
    *error = std::string("type mismatch: operator '") + condition::CmpOpName(op) + "' on bool field " + fname;
    return nullptr;
  }
  bool b;
  if (values[0] == "true") b = true;
  else if (values[0] == "false") b = false;
  else {
    *error = "type mismatch: " + fname + " is a bool, expected true or false, got '" + values[0] + "'";
    *error_value = 0;
    return nullptr;
  }
  return std::make_unique<BoolCheck>(std::move(f), op == CmpOp::kEq, b);
}

std::unique_ptr<Check> MakeIpCompare(std::unique_ptr<FieldAccessor> f, CmpOp op, const std::vector<std::string>& values,
                                     std::string* error, int* error_value) {
  const std::string fname = "'" + f->text + "'";
  const FieldType type = f->type;
  if (op != CmpOp::kEq && op != CmpOp::kNe && op != CmpOp::kIn && op != CmpOp::kIntersects) {
    *error = std::string("type mismatch: operator '") + condition::CmpOpName(op) + "' on address field " + fname;
    return nullptr;
  }
  std::vector<Net> nets;
  for (std::size_t i = 0; i < values.size(); ++i) {
    Net n{};
    bool ok = type == FieldType::kIpNet ? ParseCidr(values[i], &n.addr, &n.family, &n.prefix)
                                        : ParseIpText(values[i], &n.addr, &n.family);
    if (type == FieldType::kIpAddr) n.prefix = n.family == 2 ? 32 : 128;
    if (!ok) {
      *error = "type mismatch: " + fname + " is an " + std::string(FieldTypeName(type)) + ", '" + values[i] +
               "' is not " + (type == FieldType::kIpNet ? "a network (a.b.c.d/len)" : "an IP address");
      *error_value = static_cast<int>(i);
      return nullptr;
    }
    nets.push_back(n);
  }
  return std::make_unique<IpCheck>(std::move(f), op == CmpOp::kNe, std::move(nets));
}

std::unique_ptr<Check> MakeCompareUnkeyed(std::unique_ptr<FieldAccessor> f, CmpOp op,
                                          const std::vector<std::string>& values, std::string* error, int* error_value) {
  *error_value = -1;
  if (op == CmpOp::kExists) return std::make_unique<ExistsCheck>(std::move(f));
  if (!IsListOp(op) && values.size() != 1) {
    *error = "expected one value";
    return nullptr;
  }
  if (IsListOp(op) && values.empty()) return MakeConst(false);  // `x in ()` never holds
  switch (f->type) {
    case FieldType::kString:
    case FieldType::kStringList: return MakeStringCompare(std::move(f), op, values, error, error_value);
    case FieldType::kNumber: return MakeNumberCompare(std::move(f), op, values, error, error_value);
    case FieldType::kBool: return MakeBoolCompare(std::move(f), op, values, error, error_value);
    case FieldType::kIpAddr:
    case FieldType::kIpNet: return MakeIpCompare(std::move(f), op, values, error, error_value);
  }
  *error = "unsupported field type";
  return nullptr;
}

}  // namespace

std::unique_ptr<Check> MakeFieldCompare(std::unique_ptr<FieldAccessor> lhs, CmpOp op, std::unique_ptr<FieldAccessor> rhs,
                                        std::string* error) {
  auto scalar = [](FieldType t) { return t == FieldType::kString || t == FieldType::kNumber || t == FieldType::kBool; };
  if (!scalar(lhs->type) || lhs->type != rhs->type) {
    *error = "type mismatch: '" + lhs->text + "' is a " + std::string(FieldTypeName(lhs->type)) + ", val(" +
             rhs->text + ") is a " + std::string(FieldTypeName(rhs->type));
    return nullptr;
  }
  bool ok = false;
  switch (op) {
    case CmpOp::kEq: case CmpOp::kNe: ok = true; break;
    case CmpOp::kLt: case CmpOp::kLe: case CmpOp::kGt: case CmpOp::kGe: ok = lhs->type == FieldType::kNumber; break;
    case CmpOp::kContains: case CmpOp::kStartsWith: case CmpOp::kEndsWith: case CmpOp::kGlob: case CmpOp::kIGlob:
      ok = lhs->type == FieldType::kString;
      break;
    default: break;
  }
  if (!ok) {
    *error = std::string("operator '") + condition::CmpOpName(op) + "' cannot compare '" + lhs->text + "' with val(" +
             rhs->text + ")";
    return nullptr;
  }
  std::string key = CompareKey(*lhs, op, {"val(" + rhs->text + ")"});
  auto c = std::make_unique<FieldCompareCheck>(std::move(lhs), op, std::move(rhs));
  c->key = "\x1d" + key;  // apart from a compare with the constant text "val(...)"
  return c;
}

}  // namespace vigil::compile
