// SPDX-License-Identifier: Apache-2.0
// String matchers built once at load and used per event without allocation:
// glob (Falco's: '*' also crosses '/'), case-insensitive search, a path
// prefix tree for pmatch, and a transparent hash set for in/intersects.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace vigil::compile {

// '*' any run, '?' one byte, '[...]' a class ('!' or '^' negates, ranges a-z).
bool GlobMatch(std::string_view pattern, std::string_view text, bool ignore_case);

// `needle` must already be lower-case (ASCII).
bool IContains(std::string_view haystack, std::string_view lowered_needle);

// For the prefilter index: the literal endings of an RE2 pattern under
// FullMatch. True with *tails set when every string the pattern matches ends
// with one of *tails (each at least one byte), found by reading the pattern's
// last pieces back to the first one that is not a small finite set (`.*`, a
// range class, a repeat); false when it cannot tell (a construct outside the
// subset read here: flags, `\Q`, `{n}`, non-ASCII bytes...) or a match may
// end with any byte. Load time only.
bool RegexLiteralTails(std::string_view pattern, std::vector<std::string>* tails);

// A substring search for a fixed needle: glibc's memchr (vectorised) for the
// needle's least common byte (a fixed ranking of path and command-line
// bytes), then a compare around each hit. On paths this beats memmem (two-way
// search, whose set-up costs more than the search on a 50-byte haystack) and
// string_view::find, which calls memcmp at every occurrence of the needle's
// first byte ('/' in a path). In() does not allocate.
class Needle {
 public:
  explicit Needle(std::string_view n);
  bool In(std::string_view haystack) const;
  const std::string& text() const { return n_; }

 private:
  std::string n_;
  std::size_t rare_ = 0;
};

// For the prefilter index: the longest run of literal bytes in a
// case-sensitive glob (between '*' and '?'), which every match contains;
// empty when there is none or the pattern has a class or an escape (not read
// here). Load time only.
std::string GlobLongestLiteral(std::string_view pattern);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
using StringSet = std::unordered_set<std::string, StringHash, StringEq>;

// Path prefixes: Match(p) is true when p equals a prefix or lies under one
// ("/etc" matches "/etc" and "/etc/passwd", not "/etcx").
// Implemented as a hash set of prefixes probed with each component boundary
// of the path: O(components) lookups, compact and cache-friendly.
class PrefixTree {
 public:
  void Add(std::string_view prefix);
  bool Match(std::string_view path) const;
  // Every path Match() accepts starts with one of these (load time).
  std::vector<std::string> Prefixes() const;

 private:
  StringSet prefixes_;
  bool root_ = false;  // "/" matches every absolute path
};

}  // namespace vigil::compile
