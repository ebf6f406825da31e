// SPDX-License-Identifier: Apache-2.0
// The prefilter index's tries (engine/compile/program.h): strings, each
// allowing some of a type's entries (slots), walked along an event's value
// from its first byte (beginnings) or its last (endings, stored reversed).
//
// Built by Insert() at load, then laid out for the walk by Compact():
// - a node is a byte range [lo, lo + top] and an offset into one array of
//   kids by byte, so a step costs a subtract, a compare and a load whatever
//   the node's fan-out (a list of kids searched byte by byte cost ~6 compares
//   per step on the root of a path's trie);
// - each node carries, as one bitmask, the entries allowed by the strings on
//   its path from the root (its own slots and its ancestors'), so a walk only
//   follows bytes and reads one mask where it stops, instead of adding each
//   node's slots on the way.
//
// Contract: Walk() returns the id of the mask of every entry one of whose
// strings is a prefix of the value (kSuffix: of the value read backwards);
// id 0 is the empty mask. Walk() and Mask() do not allocate. Insert()
// invalidates the walked form until the next Compact().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::compile {

class ByteTrie {
 public:
  ByteTrie() : build_(1) {}
  void Insert(std::string_view s, uint32_t slot);
  // Lays the trie out for Walk(); `words`: the masks' width in 64-bit words
  // (more than the highest slot inserted / 64).
  void Compact(std::size_t words);
  bool empty() const { return build_.size() == 1; }
  std::size_t size() const { return build_.size(); }
  std::size_t words() const { return words_; }
  const uint64_t* Mask(uint32_t id) const { return &masks_[id * words_]; }
  // The entries any of its strings allows.
  const std::vector<uint64_t>& serves() const { return serves_; }

  template <bool kSuffix>
  uint32_t Walk(std::string_view v) const {
    uint32_t at = 0;
    const std::size_t n = v.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(kSuffix ? v[n - 1 - i] : v[i]);
      const Step& s = steps_[at];
      const unsigned d = static_cast<unsigned>(c) - s.lo;
      if (d > s.top) break;
      const uint32_t k = next_[s.base + d];
      if (k == 0) break;
      at = k;
    }
    return mask_of_[at];
  }

 private:
  struct BuildNode {  // load time
    std::vector<std::pair<unsigned char, uint32_t>> kids;
    std::vector<uint32_t> slots;
  };
  struct Step {
    uint32_t base = 0;  // next_[base + (c - lo)]: the kid for byte c, 0 for none
    uint8_t lo = 0;
    uint8_t top = 0;  // the range's last byte - lo; a node without kids: lo 0, top 0, base 0 (next_[0] is 0)
  };
  std::vector<BuildNode> build_;  // node 0: the empty string
  std::vector<Step> steps_;
  std::vector<uint32_t> next_;
  std::vector<uint32_t> mask_of_;  // per node: its mask's id
  std::vector<uint64_t> masks_;    // words_ per mask, mask 0 empty
  std::vector<uint64_t> serves_;
  std::size_t words_ = 0;
};

}  // namespace vigil::compile
