// SPDX-License-Identifier: Apache-2.0
// The on-disk record format of the Kafka spool, as pure functions so the
// decoder can be fuzzed without files.
//
// A record is a 24-byte little-endian header followed by the payload:
//   u32 magic 'VSP1' | u32 payload length | u64 sequence number |
//   u32 CRC-32C of (length, sequence, payload) | u32 reserved (0)
// A record is valid only when magic, length bound and checksum all agree, so a
// torn or overwritten tail is detected rather than replayed as garbage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::outputs {

inline constexpr uint32_t kSpoolMagic = 0x31505356;  // "VSP1" little-endian
inline constexpr std::size_t kSpoolHeaderSize = 24;
inline constexpr uint32_t kSpoolMaxPayload = 16u << 20;

uint32_t Crc32c(uint32_t crc, const void* data, std::size_t size);

// Appends one encoded record to `out`.
void EncodeSpoolRecord(uint64_t seq, std::string_view payload, std::string* out);

enum class DecodeStatus : uint8_t {
  kOk,        // a valid record of `consumed` bytes
  kNeedMore,  // a prefix of a possibly valid record: more bytes are needed
  kCorrupt,   // not a valid record at this position (`reason` says why)
};

struct DecodedRecord {
  uint64_t seq = 0;
  std::string_view payload;  // points into the input
  std::size_t consumed = 0;
  const char* reason = "";
};

// Decodes the record starting at data[0]. Never reads past `size`.
DecodeStatus DecodeSpoolRecord(const uint8_t* data, std::size_t size, DecodedRecord* out);

// Where the next record header might start after corruption at data[0]: the
// offset (>= 1) of the next position holding the magic, or `size`.
std::size_t ResyncSpool(const uint8_t* data, std::size_t size);

}  // namespace vigil::outputs
