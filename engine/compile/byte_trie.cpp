// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/byte_trie.h"

#include <algorithm>
#include <map>

namespace vigil::compile {

void ByteTrie::Insert(std::string_view s, uint32_t slot) {
  uint32_t at = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    auto& kids = build_[at].kids;
    auto k = std::find_if(kids.begin(), kids.end(), [c](const auto& kv) { return kv.first == c; });
    if (k != kids.end()) {
      at = k->second;
      continue;
    }
    const auto next = static_cast<uint32_t>(build_.size());
    build_[at].kids.emplace_back(c, next);
    build_.emplace_back();
    at = next;
  }
  auto& slots = build_[at].slots;
  if (std::find(slots.begin(), slots.end(), slot) == slots.end()) slots.push_back(slot);
}

void ByteTrie::Compact(std::size_t words) {
  words_ = words;
  steps_.assign(build_.size(), Step{});
  mask_of_.assign(build_.size(), 0);
  next_.assign(1, 0);
  masks_.assign(words, 0);
  serves_.assign(words, 0);
  std::map<std::vector<uint64_t>, uint32_t> ids{{std::vector<uint64_t>(words, 0), 0}};
  // Depth first from the root, each node's mask its parent's with its slots.
  std::vector<std::pair<uint32_t, std::vector<uint64_t>>> stack{{0, std::vector<uint64_t>(words, 0)}};
  while (!stack.empty()) {
    auto [node, mask] = std::move(stack.back());
    stack.pop_back();
    const BuildNode& b = build_[node];
    for (uint32_t s : b.slots) mask[s / 64] |= uint64_t{1} << (s % 64);
    for (std::size_t w = 0; w < words; ++w) serves_[w] |= mask[w];
    auto [it, added] = ids.emplace(mask, static_cast<uint32_t>(ids.size()));
    if (added) masks_.insert(masks_.end(), mask.begin(), mask.end());
    mask_of_[node] = it->second;
    if (b.kids.empty()) continue;
    const auto [lo, hi] = std::minmax_element(b.kids.begin(), b.kids.end());
    Step& st = steps_[node];
    st.lo = lo->first;
    st.top = static_cast<uint8_t>(hi->first - lo->first);
    st.base = static_cast<uint32_t>(next_.size());
    next_.resize(next_.size() + st.top + 1u, 0);
    for (const auto& [c, k] : b.kids) {
      next_[st.base + (c - st.lo)] = k;
      stack.emplace_back(k, mask);
    }
  }
}

}  // namespace vigil::compile
