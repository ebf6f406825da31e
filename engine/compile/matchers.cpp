// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/matchers.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace vigil::compile {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Matches one class starting after '['; returns the index after ']' or npos if malformed.
std::size_t MatchClass(std::string_view p, std::size_t i, char c, bool ignore_case, bool* matched) {
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) negate = true, ++i;
  bool hit = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i], hi = p[i];
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') hi = p[i + 2], i += 2;
    char cc = ignore_case ? Lower(c) : c;
    char l2 = ignore_case ? Lower(lo) : lo, h2 = ignore_case ? Lower(hi) : hi;
    if (cc >= l2 && cc <= h2) hit = true;
    ++i;
  }
  if (i >= p.size()) return std::string_view::npos;
  *matched = hit != negate;
  return i + 1;
}

// A regex piece's language, as far as RegexLiteralTails needs it: a small
// finite set of strings, or "many" (any other language; only its being there
// is known). Reading a pattern as a superset of its language is sound for
// tails (every real match is still covered); reading it as a subset is not,
// so anything unknown is "many" or makes the parse fail.
struct Lang {
  bool many = false;
  std::vector<std::string> set;  // when !many
};

constexpr std::size_t kMaxTails = 64;

class TailParser {
 public:
  explicit TailParser(std::string_view p) : p_(p) {}
  // The whole pattern: the union of its branches' tails.
  bool Run(std::vector<std::string>* tails) {
    std::vector<std::string> out;
    if (!Alternation(&out, nullptr) || i_ != p_.size()) return false;
    for (const auto& t : out)
      if (t.empty()) return false;  // a branch that may end with anything
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    *tails = std::move(out);
    return true;
  }

 private:
  // alt := concat ('|' concat)*. *tails: the union of the branches' tails;
  // *whole (if asked): the language when every branch is finite.
  bool Alternation(std::vector<std::string>* tails, Lang* whole) {
    Lang all;
    for (;;) {
      std::vector<std::string> t;
      Lang l;
      if (!Concat(&t, &l)) return false;
      tails->insert(tails->end(), t.begin(), t.end());
      if (l.many) all.many = true;
      else all.set.insert(all.set.end(), l.set.begin(), l.set.end());
      if (all.set.size() > kMaxTails) all.many = true;
      if (i_ < p_.size() && p_[i_] == '|') {
        ++i_;
        continue;
      }
      break;
    }
    if (whole != nullptr) *whole = all.many ? Lang{true, {}} : all;
    return true;
  }
  // concat := piece*; the tails are the cross product of the last finite
  // pieces' sets, back to the first piece with many strings.
  bool Concat(std::vector<std::string>* tails, Lang* whole) {
    std::vector<Lang> pieces;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      Lang l;
      if (!Piece(&l)) return false;
      pieces.push_back(std::move(l));
    }
    std::vector<std::string> acc = {""};
    bool all_finite = true;
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
      if (it->many || acc.size() * it->set.size() > kMaxTails) {
        all_finite = false;
        break;
      }
      std::vector<std::string> next;
      for (const auto& head : it->set)
        for (const auto& t : acc) next.push_back(head + t);
      acc = std::move(next);
    }
    *tails = acc;
    *whole = all_finite ? Lang{false, acc} : Lang{true, {}};
    return true;
  }
  // piece := atom ('*' | '+' | '?')? '?'?
  bool Piece(Lang* out) {
    if (!Atom(out)) return false;
    if (i_ < p_.size() && (p_[i_] == '*' || p_[i_] == '+' || p_[i_] == '?')) {
      const char q = p_[i_++];
      if (q == '?' && !out->many) out->set.emplace_back();  // zero or one
      else *out = Lang{true, {}};
      if (i_ < p_.size() && p_[i_] == '?') ++i_;  // non-greedy: same language
    }
    return i_ >= p_.size() || p_[i_] != '{';  // counted repeats are not read here
  }
  bool Atom(Lang* out) {
    const char c = p_[i_];
    if (static_cast<unsigned char>(c) >= 0x80) return false;  // a UTF-8 character is one unit to RE2
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 >= p_.size() || p_[i_ + 1] != ':') return false;  // flags, named groups
          i_ += 2;
        }
        std::vector<std::string> ignored;
        if (!Alternation(&ignored, out) || i_ >= p_.size() || p_[i_] != ')') return false;
        ++i_;
        return true;
      }
      case '[':
        return Class(out);
      case '.':
        ++i_;
        *out = Lang{true, {}};
        return true;
      case '^':
      case '$':  // an anchor matches no byte: read as the empty string (a superset)
        ++i_;
        *out = Lang{false, {""}};
        return true;
      case '*': case '+': case '?': case '{': case '}': case ']':
        return false;
      case '\\':
        return Escape(out);
      default:
        ++i_;
        *out = Lang{false, {std::string(1, c)}};
        return true;
    }
  }
  bool Escape(Lang* out) {
    if (i_ + 1 >= p_.size()) return false;
    const char e = p_[i_ + 1];
    i_ += 2;
    if (static_cast<unsigned char>(e) >= 0x80) return false;
    if (!std::isalnum(static_cast<unsigned char>(e))) {
      *out = Lang{false, {std::string(1, e)}};
      return true;
    }
    switch (e) {
      case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        *out = Lang{true, {}};
        return true;
      case 'b': case 'B': case 'A': case 'z':
        *out = Lang{false, {""}};
        return true;
      case 'n': *out = Lang{false, {"\n"}}; return true;
      case 't': *out = Lang{false, {"\t"}}; return true;
      default:
        return false;  // \x, \p, \Q, octal...: not read here
    }
  }
  // A class of plain ASCII bytes (no range, negation or escape) is a small
  // set; any other is "many".
  bool Class(Lang* out) {
    std::size_t j = i_ + 1;
    bool plain = j < p_.size() && p_[j] != '^' && p_[j] != ']';
    std::vector<std::string> set;
    for (; j < p_.size() && p_[j] != ']'; ++j) {
      const char c = p_[j];
      if (c == '\\') {
        plain = false;
        if (++j >= p_.size()) return false;
        continue;
      }
      if (c == '[' || static_cast<unsigned char>(c) >= 0x80) return false;  // [:alpha:], UTF-8
      if (c == '-') plain = false;
      set.emplace_back(1, c);
    }
    if (j >= p_.size()) return false;
    i_ = j + 1;
    *out = plain ? Lang{false, std::move(set)} : Lang{true, {}};
    return true;
  }

  std::string_view p_;
  std::size_t i_ = 0;
};

}  // namespace

bool RegexLiteralTails(std::string_view pattern, std::vector<std::string>* tails) {
  return TailParser(pattern).Run(tails);
}

bool GlobMatch(std::string_view p, std::string_view t, bool ignore_case) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  std::size_t pi = 0, ti = 0, star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star_p = ++pi;
        star_t = ti;
        continue;
      }
      if (pc == '?') {
        ++pi, ++ti;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        std::size_t next = MatchClass(p, pi + 1, t[ti], ignore_case, &matched);
        if (next != std::string_view::npos) {
          if (matched) {
            pi = next, ++ti;
            continue;
          }
        } else if (t[ti] == '[') {  // malformed class: literal '['
          ++pi, ++ti;
          continue;
        }
      } else {
        if (pc == '\\' && pi + 1 < p.size()) pc = p[++pi];
        if (ignore_case ? Lower(pc) == Lower(t[ti]) : pc == t[ti]) {
          ++pi, ++ti;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool IContains(std::string_view h, std::string_view n) {
  if (n.empty()) return true;
  if (n.size() > h.size()) return false;
  for (std::size_t i = 0; i + n.size() <= h.size(); ++i) {
    std::size_t j = 0;
    while (j < n.size() && Lower(h[i + j]) == n[j]) ++j;
    if (j == n.size()) return true;
  }
  return false;
}

void PrefixTree::Add(std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix == "/") {
    root_ = true;
    return;
  }
  prefixes_.emplace(prefix);
}

std::vector<std::string> PrefixTree::Prefixes() const {
  std::vector<std::string> out(prefixes_.begin(), prefixes_.end());
  if (root_) out.emplace_back("/");
  return out;
}

bool PrefixTree::Match(std::string_view path) const {
  if (root_ && !path.empty() && path[0] == '/') return true;
  if (prefixes_.empty()) return false;
  // Probe "/a", "/a/b", ..., and the whole path.
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/' && prefixes_.find(path.substr(0, i)) != prefixes_.end()) return true;
  }
  return prefixes_.find(path) != prefixes_.end();
}

namespace {
// How common a byte is in paths and command lines (higher: more common),
// to pick the needle byte to search for.
// '_' ranks with the plain letters: header and library paths hold several
// (bits/stl_algo.h, x86_64-linux-gnu), where j q z k v w y are rare.
int Commonness(unsigned char c) {
  if (c == '/') return 100;
  if (std::strchr("etaoinsrlhcdu", c) != nullptr && c != 0) return 80;
  if (std::strchr("jqzkvwy", c) != nullptr && c != 0) return 20;
  if (c >= 'a' && c <= 'z') return 50;
  if (c == '_') return 45;
  if (c == '.' || c == '-' || c == ' ') return 40;
  if (c >= '0' && c <= '9') return 30;
  return 10;
}
}  // namespace

Needle::Needle(std::string_view n) : n_(n) {
  for (std::size_t i = 1; i < n_.size(); ++i)
    if (Commonness(static_cast<unsigned char>(n_[i])) < Commonness(static_cast<unsigned char>(n_[rare_]))) rare_ = i;
}

bool Needle::In(std::string_view h) const {
  if (n_.empty()) return true;
  if (h.size() < n_.size()) return false;
  // The rare byte's possible places: [rare_, h.size() - (n - rare_)].
  const char* p = h.data() + rare_;
  const char* end = h.data() + h.size() - (n_.size() - rare_) + 1;
  const char r = n_[rare_];
  while (p < end) {
    const void* hit = std::memchr(p, r, static_cast<std::size_t>(end - p));
    if (hit == nullptr) return false;
    const char* at = static_cast<const char*>(hit);
    // The ends inline first: most hits of the rare byte ('_' in a header
    // path) are not the needle, and a memcmp call costs more than two compares.
    const char* start = at - rare_;
    if (start[0] == n_[0] && start[n_.size() - 1] == n_.back() && std::memcmp(start, n_.data(), n_.size()) == 0)
      return true;
    p = at + 1;
  }
  return false;
}

std::string GlobLongestLiteral(std::string_view pattern) {
  if (pattern.find_first_of("[\\") != std::string_view::npos) return {};
  std::string best;
  std::size_t at = 0;
  while (at <= pattern.size()) {
    const std::size_t stop = std::min(pattern.find_first_of("*?", at), pattern.size());
    if (stop - at > best.size()) best = std::string(pattern.substr(at, stop - at));
    at = stop + 1;
  }
  return best;
}

}  // namespace vigil::compile
