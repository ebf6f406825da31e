// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/matchers.h"


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

}  // namespace

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

}  // namespace vigil::compile
