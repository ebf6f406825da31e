// SPDX-License-Identifier: Apache-2.0
// The prefilter index's byte tries (engine/compile/byte_trie.h): the mask a
// walk ends on is every slot one of whose strings begins (or, read
// backwards, ends) the value, whatever the nodes' byte ranges, the slots'
// words and the bytes (0x00 and 0xff included); checked against a plain
// loop over the strings.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/compile/byte_trie.h"

namespace {

using Strings = std::vector<std::pair<std::string, uint32_t>>;  // string, slot

std::set<uint32_t> Expected(const Strings& strings, std::string_view v, bool suffix) {
  std::set<uint32_t> out;
  for (const auto& [s, slot] : strings) {
    const bool holds = s.size() <= v.size() && v.substr(suffix ? v.size() - s.size() : 0, s.size()) == s;
    if (holds) out.insert(slot);
  }
  return out;
}

template <bool kSuffix>
std::set<uint32_t> Walked(const vigil::compile::ByteTrie& trie, std::string_view v) {
  std::set<uint32_t> out;
  const uint32_t id = trie.Walk<kSuffix>(v);
  const uint64_t* m = trie.Mask(id);
  for (std::size_t w = 0; w < trie.words(); ++w)
    for (uint32_t b = 0; b < 64; ++b)
      if ((m[w] >> b) & 1) out.insert(static_cast<uint32_t>(w * 64 + b));
  if (id == 0) CHECK(out.empty());
  return out;
}

void CheckAll(const Strings& strings, const std::vector<std::string>& values) {
  for (bool suffix : {false, true}) {
    vigil::compile::ByteTrie trie;
    uint32_t top = 0;
    for (const auto& [s, slot] : strings) {
      // Stored as the index stores endings: reversed.
      trie.Insert(suffix ? std::string(s.rbegin(), s.rend()) : s, slot);
      top = std::max(top, slot);
    }
    trie.Compact(top / 64 + 1);
    for (const std::string& v : values) {
      INFO((suffix ? "ending of " : "beginning of ") << v);
      CHECK((suffix ? Walked<true>(trie, v) : Walked<false>(trie, v)) == Expected(strings, v, suffix));
    }
  }
}

}  // namespace

TEST_CASE("byte trie: a walk's mask is every string beginning or ending the value", "[unit]") {
  const Strings strings = {
      {"/etc/", 0},     {"/etc/passwd", 1}, {"/e", 2},          {"/usr/bin/", 3},   {"/usr/lib/", 70},
      {"/usr/", 4},     {"/etc/", 5},       {"/proc/", 130},    {"~", 6},           {"/usr/bin/", 7},
      {"passwd", 8},    {".ko", 9},         {".ko.xz", 9},      {std::string("\x00z", 2), 10},
      {"\xff\x01", 11}, {"/usr/libexec/x", 12},
  };
  const std::vector<std::string> values = {
      "",        "/",          "/etc",           "/etc/",          "/etc/passwd", "/etc/passwdx", "/etcx",
      "/usr/bin/ls", "/usr/lib", "/usr/lib/x.ko", "/usr/lib/x.ko.xz", "/proc/1/mem", "~/.ssh",    "x/passwd",
      std::string("\x00zz", 3), "\xff\x01\xff", "/usr/libexec/x", "/usr/libexec/y", "\x7f", "\x80/etc/",
  };
  CheckAll(strings, values);
}

TEST_CASE("byte trie: random strings over a small alphabet", "[unit]") {
  std::mt19937 rng(21);
  const std::string alphabet = std::string("/ae.\x00\xff", 6);
  auto word = [&](std::size_t max) {
    std::string s(1 + rng() % max, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int round = 0; round < 20; ++round) {
    Strings strings;
    for (uint32_t i = 0; i < 40; ++i) strings.emplace_back(word(6), static_cast<uint32_t>(rng() % 150));
    std::vector<std::string> values;
    for (int i = 0; i < 100; ++i) values.push_back(word(9));
    for (const auto& [s, slot] : strings) values.push_back(s + word(3));
    CheckAll(strings, values);
  }
}
