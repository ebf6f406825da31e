/* SPDX-License-Identifier: Apache-2.0 */
// Ring-buffer record decoder: the only reader of the raw kernel ABI
// (bpf/vigil_abi.h). Turns one record into a vigil::Event.
//
// Contract:
// - Decode() never throws and never reads outside [data, data + len). A record
//   whose length, kind, type or ABI version is wrong is rejected with a status,
//   counted in stats(), and leaves the event in a Reset() state.
// - Hot path: decoding into a reused Event allocates nothing once its strings
//   have grown, except argv elements longer than the std::string small buffer.
// - Decode() fills what the record carries (process context from the header,
//   the family's arguments, paths joined and made absolute where the kernel
//   sent the base directory). It does not fill cgroup path, container id or
//   ancestors: the sensor does that from the cgroup resolver and the process
//   table.
// - Not thread-safe; one decoder per hot thread.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"

struct vg_chain;

namespace vigil::capture {

enum class DecodeStatus : uint8_t {
  kOk = 0,
  kTooShort,      // shorter than the common header
  kBadSize,       // header size disagrees with the record length or with its kind
  kBadVersion,    // ABI version is not ours
  kBadKind,       // unknown kind
  kBadType,       // unknown type, or a type that does not belong to the kind
  kBadTail,       // file record: its strings disagree with the lengths in its head
  kCount,
};

std::string_view DecodeStatusName(DecodeStatus status);

struct DecodeStats {
  uint64_t decoded = 0;
  std::array<uint64_t, static_cast<std::size_t>(DecodeStatus::kCount)> rejected{};
  uint64_t TotalRejected() const;
};

class Decoder {
 public:
  // `boot_to_wall_ns` = CLOCK_REALTIME - CLOCK_BOOTTIME at start, to fill
  // Event::wall_ns from the kernel's boot-time stamp.
  explicit Decoder(int64_t boot_to_wall_ns = 0) : boot_to_wall_ns_(boot_to_wall_ns) {}

  // Decodes one record into `event` (which it Reset()s first).
  DecodeStatus Decode(const void* data, std::size_t len, Event* event);
  const DecodeStats& stats() const { return stats_; }

 private:
  int64_t boot_to_wall_ns_;
  DecodeStats stats_;
  std::string scratch_;  // base directory of a relative path, reused
};

// The EventType of ABI type number `abi` (enum vg_type); false for a number
// that is no type.
bool EventTypeOfAbi(uint32_t abi, EventType* out);

// The interest filter's words (vg_interest in the BPF object) for the event
// types `types`: bit (abi - 1) % 64 of word (abi - 1) / 64 for each ABI type
// number whose EventType is in `types`.
inline constexpr std::size_t kInterestWords = 2;  // VG_INTEREST_WORDS (checked in decoder.cpp)
std::array<uint64_t, kInterestWords> InterestWords(const std::bitset<kEventTypeCount>& types);

// A dentry chain's names, leaf first (views into a record).
struct ChainView {
  uint16_t depth = 0;
  uint16_t flags = 0;  // VG_CHAIN_*
  std::array<std::string_view, 16> names{};  // VG_CHAIN_DEPTH (checked in decoder.cpp)
};

// What a path starts with when its leading directories did not fit in the
// walk (VG_CHAIN_CUT): "..." then the part that did, "/a/b". It never starts
// with '/', so no rule on an absolute path mistakes it for one.
inline constexpr std::string_view kTruncatedPathPrefix = "...";

// Joins a dentry chain (leaf first) into "/a/b/c" in `out`; a chain that ran
// out of room (VG_CHAIN_CUT) into kTruncatedPathPrefix + "/b/c". False (and
// `out` cleared) when the walk failed otherwise or a name was cut, so the
// path would be a lie.
bool JoinNames(const ChainView& chain, std::string* out);
// The same for a fixed-slot chain (exec records).
bool JoinChain(const vg_chain& chain, std::string* out);

// `path` made absolute: itself when it starts with '/', else `base` + "/" +
// path; then "." and ".." and repeated slashes are removed lexically (the
// kernel's view may differ across symlinks). A relative path with an empty or
// relative `base` gives an empty result; one with a truncated base
// (kTruncatedPathPrefix) a truncated result, ".." stopping at the marker.
void ResolvePath(std::string_view base, std::string_view path, std::string* out);

// Splits NUL-separated argv bytes into `argv` (a trailing NUL is optional).
void SplitArgv(std::string_view bytes, std::vector<std::string>* argv);

}  // namespace vigil::capture
