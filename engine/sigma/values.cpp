// SPDX-License-Identifier: Apache-2.0
#include "engine/sigma/values.h"

#include <re2/re2.h>

#include <charconv>

namespace vigil::sigma {
namespace {

ValueProblem Unsupported(std::string cls, std::string msg) { return {true, std::move(cls), std::move(msg)}; }
ValueProblem Error(std::string msg) { return {false, "", std::move(msg)}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A Sigma string value as literal runs and wildcards.
struct Token {
  enum Kind { kLit, kStar, kOne } kind;
  std::string lit;
};

std::vector<Token> ParsePattern(std::string_view v, bool wildcards) {
  std::vector<Token> out;
  auto lit = [&](char c) {
    if (out.empty() || out.back().kind != Token::kLit) out.push_back({Token::kLit, ""});
    out.back().lit.push_back(c);
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (wildcards && c == '\\' && i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      lit(v[++i]);
    } else if (wildcards && c == '*') {
      if (out.empty() || out.back().kind != Token::kStar) out.push_back({Token::kStar, ""});
    } else if (wildcards && c == '?') {
      out.push_back({Token::kOne, ""});
    } else {
      lit(c);
    }
  }
  return out;
}

// A list of at least this many prefix/suffix/substring values becomes one
// RE2 alternation: one linear pass over the field instead of one tolower()
// copy and compare per value (SigmaHQ's long `Image|endswith:` lists made
// exec events ~6x dearer the other way; docs/sigma.md).
constexpr std::size_t kRegexListMin = 4;

// One string value's check. `exact` receives the literal instead when the
// value is an exact match (so a list of them becomes one `in`); `re_alt` the
// value as an RE2 alternative when it is a plain prefix, suffix or substring.
std::string StringCheck(const std::string& f, std::vector<Token> toks, bool cased, std::string* exact,
                        std::string* re_alt) {
  bool lead = !toks.empty() && toks.front().kind == Token::kStar;
  if (lead) toks.erase(toks.begin());
  bool trail = !toks.empty() && toks.back().kind == Token::kStar;
  if (trail) toks.pop_back();
  bool middle_wild = false;
  std::string lit;
  for (const auto& t : toks) {
    if (t.kind != Token::kLit) middle_wild = true;
    else lit += t.lit;
  }
  if (!middle_wild && !(lead && trail && lit.empty())) {
    std::string v = cased ? lit : Lower(lit);
    std::string lf = cased ? f : "tolower(" + f + ")";
    if (!lead && !trail) {
      *exact = v;
      return "";
    }
    *re_alt = (lead ? ".*" : "") + RE2::QuoteMeta(lit) + (trail ? ".*" : "");
    if (lead && trail) return f + (cased ? " contains " : " icontains ") + QuoteValue(v);
    if (trail) return lf + " startswith " + QuoteValue(v);
    return lf + " endswith " + QuoteValue(v);
  }
  std::string g = lead ? "*" : "";
  for (const auto& t : toks) {
    if (t.kind == Token::kStar) g += '*';
    else if (t.kind == Token::kOne) g += '?';
    else
      for (char c : t.lit) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') g += '\\';
        g += c;
      }
  }
  if (trail) g += '*';
  return f + (cased ? " glob " : " iglob ") + QuoteValue(g);
}

std::string Join(const std::vector<std::string>& parts, const char* op) {
  if (parts.size() == 1) return parts[0];
  std::string s = "(";
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? std::string(" ") + op + " " : "") + parts[i];
  return s + ")";
}

bool ParseInt(std::string_view s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The ipnet twin of an ipaddr field (fd.sip -> fd.snet).
std::string NetField(const std::string& ip_field) {
  if (ip_field.size() > 2 && ip_field.compare(ip_field.size() - 2, 2, "ip") == 0)
    return ip_field.substr(0, ip_field.size() - 2) + "net";
  return ip_field;
}

std::optional<ValueProblem> NonStringCheck(const TargetField& f, const Modifiers& m, const std::string& v,
                                           std::string* out) {
  if (f.type == FieldType::kNumber) {
    int64_t n = 0;
    if (m.contains || m.startswith || m.endswith || m.re || m.base64 || m.base64offset || m.windash || m.cidr)
      return Unsupported("string match on a number field", "a string modifier on number field " + f.name);
    if (!ParseInt(v, &n)) return Error("expected an integer for " + f.name + ", got '" + v + "'");
    *out = f.name + " " + (m.compare.empty() ? "=" : m.compare) + " " + std::to_string(n);
    return std::nullopt;
  }
  if (!m.compare.empty()) return Error("gt/gte/lt/lte need a number field; " + f.name + " is not one");
  if (f.type == FieldType::kBool) {
    std::string l = Lower(v);
    if (l != "true" && l != "false") return Error("expected true or false for " + f.name);
    *out = f.name + " = " + l;
    return std::nullopt;
  }
  // IP address fields.
  IpAddr a;
  uint16_t fam = 0;
  int len = 0;
  if (m.cidr) {
    if (!ParseCidr(v, &a, &fam, &len)) return Error("expected a CIDR network (10.0.0.0/8), got '" + v + "'");
    *out = NetField(f.name) + " in (" + QuoteValue(v) + ")";
    return std::nullopt;
  }
  if (m.contains || m.startswith || m.endswith || m.re || v.find_first_of("*?") != std::string::npos)
    return Unsupported("string match on an IP address field", "a wildcard or string modifier on IP field " + f.name +
                                                                 " (write the networks with |cidr)");
  if (!ParseIpText(v, &a, &fam)) return Error("expected an IP address for " + f.name + ", got '" + v + "'");
  *out = f.name + " = " + v;
  return std::nullopt;
}

std::optional<ValueProblem> RegexCheck(const TargetField& f, const Modifiers& m, const std::string& v,
                                       std::string* out) {
  std::string flags = std::string(m.re_i ? "i" : "") + (m.re_m ? "m" : "") + (m.re_s ? "s" : "");
  std::string wrapped = "(?s:.*)(?" + flags + ":" + v + ")(?s:.*)";
  RE2 re(wrapped, RE2::Quiet);
  if (!re.ok()) {
    if (re.error_code() == RE2::ErrorBadPerlOp || re.error_code() == RE2::ErrorBadEscape ||
        re.error_code() == RE2::ErrorBadNamedCapture)
      return Unsupported("regular expression syntax RE2 lacks",
                         "regular expression '" + v + "': " + re.error() + " (RE2 has no lookaround or backreferences)");
    return Error("invalid regular expression '" + v + "': " + re.error());
  }
  *out = f.name + " regex " + QuoteValue(wrapped);
  return std::nullopt;
}

}  // namespace

std::string QuoteValue(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Base64(std::string_view s) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(n >> k) & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t n = uint8_t(s[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The value encoded at each of the three byte offsets it can have inside a
// longer base64 text: the characters that depend on unknown neighbours are cut.
std::vector<std::string> Base64Offsets(std::string_view s) {
  static const std::size_t kStart[3] = {0, 2, 3};
  static const std::size_t kEndCut[3] = {0, 3, 2};  // by (len + offset) % 3
  std::vector<std::string> out;
  for (std::size_t i = 0; i < 3; ++i) {
    std::string enc = Base64(std::string(i, ' ') + std::string(s));
    std::size_t cut = kEndCut[(s.size() + i) % 3];
    if (enc.size() < kStart[i] + cut) continue;
    out.push_back(enc.substr(kStart[i], enc.size() - kStart[i] - cut));
  }
  return out;
}

std::vector<std::string> WindashVariants(std::string_view s) {
  static const char* kDashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
  std::vector<std::string> out;
  for (const char* d : kDashes) {
    std::string v;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '-' && (i == 0 || s[i - 1] == ' ')) v += d;
      else v += s[i];
    }
    if (out.empty() || v != out.front()) out.push_back(std::move(v));
  }
  return out;
}

std::optional<ValueProblem> ParseModifiers(const std::vector<std::string>& names, Modifiers* m) {
  for (const auto& n : names) {
    if (n == "contains") m->contains = true;
    else if (n == "startswith") m->startswith = true;
    else if (n == "endswith") m->endswith = true;
    else if (n == "all") m->all = true;
    else if (n == "re") m->re = true;
    else if (n == "i" || n == "m" || n == "s") {
      if (!m->re) return Error("modifier '" + n + "' is a flag of 're' and must follow it");
      (n == "i" ? m->re_i : n == "m" ? m->re_m : m->re_s) = true;
    } else if (n == "cidr") m->cidr = true;
    else if (n == "base64") m->base64 = true;
    else if (n == "base64offset") m->base64offset = true;
    else if (n == "windash") m->windash = true;
    else if (n == "exists") m->exists = true;
    else if (n == "cased") m->cased = true;
    else if (n == "gt") m->compare = ">";
    else if (n == "gte") m->compare = ">=";
    else if (n == "lt") m->compare = "<";
    else if (n == "lte") m->compare = "<=";
    else if (n == "utf16" || n == "utf16le" || n == "utf16be" || n == "wide")
      return Unsupported("modifier '" + n + "'", "modifier '" + n + "': UTF-16 text is a Windows encoding; Linux "
                         "command lines and paths are bytes");
    else if (n == "expand" || n == "fieldref" || n == "ignorecase" || n == "minute" || n == "hour" ||
             n == "day" || n == "week" || n == "month" || n == "year")
      return Unsupported("modifier '" + n + "'", "modifier '" + n + "' is not supported by vigil");
    else
      return Error("unknown modifier '" + n + "'");
  }
  int pos = m->contains + m->startswith + m->endswith;
  if (pos > 1) return Error("only one of contains, startswith, endswith may be given");
  if (m->re && (pos || m->base64 || m->base64offset || m->windash || m->cidr))
    return Error("'re' cannot be combined with string or transformation modifiers");
  if (m->base64offset && !m->contains) return Error("'base64offset' must be followed by 'contains'");
  if (m->base64 && m->base64offset) return Error("give one of base64 and base64offset");
  return std::nullopt;
}

namespace {

// Builds one field's check from its values. OR'd exact matches are gathered per left-hand side
// into one `in` (a hash set at compile); OR'd prefix/suffix/substring matches of four or more
// values become one RE2 alternation.
class FieldCheckBuilder {
 public:
  FieldCheckBuilder(const TargetField& field, const Modifiers& mods)
      : field_(field), mods_(mods), f_(field.name), cased_(mods.cased || field.name == "evt.type") {}

  std::optional<ValueProblem> Add(const SigmaValue& sv) {
    if (mods_.exists) return AddExists(sv);
    if (sv.is_null) {
      parts_.push_back(field_.type == FieldType::kString ? "(not " + f_ + " exists or " + f_ + " = \"\")"
                                                          : "not " + f_ + " exists");
      return std::nullopt;
    }
    std::string v = f_ == "evt.type" ? Lower(sv.text) : sv.text;
    if (field_.type != FieldType::kString && field_.type != FieldType::kStringList) return AddNonString(v);
    if (!mods_.compare.empty()) return Error("gt/gte/lt/lte need a number field; " + f_ + " is not one");
    if (mods_.cidr) return Error("'cidr' needs an IP address field; " + f_ + " is not one");
    if (mods_.re) {
      std::string c;
      if (auto p = RegexCheck(field_, mods_, v, &c)) return p;
      parts_.push_back(c);
      return std::nullopt;
    }
    AddString(v);
    return std::nullopt;
  }

  std::string Finish() {
    if (simple_.size() >= kRegexListMin) {
      std::string re = std::string("(?s") + (cased_ ? "" : "i") + ":";
      for (std::size_t i = 0; i < simple_.size(); ++i) re += (i ? "|" : "") + simple_[i].second;
      parts_.push_back(f_ + " regex " + QuoteValue(re + ")"));
    } else {
      for (const auto& sc : simple_) parts_.push_back(sc.first);
    }
    std::vector<std::string> pooled;
    for (const auto& p : pools_) {
      if (p.values.size() == 1 && !p.as_list) {
        pooled.push_back(p.lhs + " = " + p.values[0]);
        continue;
      }
      std::string in = p.lhs + " in (";
      for (std::size_t i = 0; i < p.values.size(); ++i) in += (i ? ", " : "") + p.values[i];
      pooled.push_back(in + ")");
    }
    parts_.insert(parts_.begin(), pooled.begin(), pooled.end());
    return Join(parts_, mods_.all ? "and" : "or");
  }

 private:
  struct Pool {
    std::string lhs;
    std::vector<std::string> values;
    bool as_list;  // networks: `in` even for one
  };

  void Pooled(const std::string& lhs, const std::string& v, bool as_list = false) {
    for (auto& p : pools_)
      if (p.lhs == lhs) return p.values.push_back(v);
    pools_.push_back({lhs, {v}, as_list});
  }

  std::optional<ValueProblem> AddExists(const SigmaValue& sv) {
    std::string l = Lower(sv.text);
    if (sv.is_null || (l != "true" && l != "false" && l != "yes" && l != "no"))
      return Error("'exists' takes true or false");
    parts_.push_back(l == "true" || l == "yes" ? f_ + " exists" : "not " + f_ + " exists");
    return std::nullopt;
  }

  std::optional<ValueProblem> AddNonString(const std::string& v) {
    std::string c;
    if (auto p = NonStringCheck(field_, mods_, v, &c)) return p;
    std::size_t eq = c.find(" = ");
    std::size_t in = c.find(" in (");
    if (!mods_.all && eq != std::string::npos && mods_.compare.empty()) Pooled(c.substr(0, eq), c.substr(eq + 3));
    else if (!mods_.all && in != std::string::npos) Pooled(c.substr(0, in), c.substr(in + 5, c.size() - in - 6), true);
    else parts_.push_back(c);
    return std::nullopt;
  }

  // The value with windash and base64 applied: any of the variants may match.
  std::vector<std::string> Variants(const std::string& v) const {
    std::vector<std::string> variants = mods_.windash ? WindashVariants(v) : std::vector<std::string>{v};
    if (!mods_.base64 && !mods_.base64offset) return variants;
    std::vector<std::string> enc;
    for (const auto& x : variants) {
      if (mods_.base64offset) {
        for (auto& e : Base64Offsets(x)) enc.push_back(std::move(e));
      } else {
        enc.push_back(Base64(x));
      }
    }
    return enc;
  }

  void AddString(const std::string& v) {
    bool encoded = mods_.base64 || mods_.base64offset;
    // Encoded text is compared as it is: its letters' case is part of the encoding.
    bool value_cased = cased_ || encoded;
    std::string lf = value_cased ? f_ : "tolower(" + f_ + ")";
    std::vector<std::string> alts;  // the variants of this one value: any may match
    for (const auto& x : Variants(v)) {
      auto toks = ParsePattern(x, !encoded);
      if (mods_.contains || mods_.endswith) toks.insert(toks.begin(), {Token::kStar, ""});
      if (mods_.contains || mods_.startswith) toks.push_back({Token::kStar, ""});
      std::string exact, re_alt;
      std::string c = StringCheck(f_, std::move(toks), value_cased, &exact, &re_alt);
      if (!re_alt.empty() && !mods_.all && value_cased == cased_) simple_.push_back({c, re_alt});
      else if (!c.empty()) alts.push_back(c);
      else if (mods_.all) alts.push_back(lf + " = " + QuoteValue(exact));
      else Pooled(lf, QuoteValue(exact));
    }
    if (mods_.all) parts_.push_back(Join(alts, "or"));
    else parts_.insert(parts_.end(), alts.begin(), alts.end());
  }

  const TargetField& field_;
  const Modifiers& mods_;
  const std::string& f_;
  bool cased_;
  std::vector<std::string> parts_;
  std::vector<Pool> pools_;
  std::vector<std::pair<std::string, std::string>> simple_;  // OR'd prefix/suffix/substring: (check, RE2 alternative)
};

}  // namespace

std::optional<ValueProblem> BuildFieldCheck(const TargetField& field, const Modifiers& mods,
                                            const std::vector<SigmaValue>& values, std::string* out) {
  if (values.empty()) return Error("expected at least one value");
  FieldCheckBuilder b(field, mods);
  for (const auto& sv : values)
    if (auto p = b.Add(sv)) return p;
  *out = b.Finish();
  return std::nullopt;
}

}  // namespace vigil::sigma
