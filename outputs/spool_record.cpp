// SPDX-License-Identifier: Apache-2.0
#include "outputs/spool_record.h"

#include <array>
#include <cstring>

namespace vigil::outputs {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // Castagnoli
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = MakeCrcTable();

void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void Put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t Get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t Get64(const uint8_t* p) { return uint64_t(Get32(p)) | uint64_t(Get32(p + 4)) << 32; }

uint32_t RecordCrc(const uint8_t* len_and_seq, const void* payload, std::size_t n) {
  uint32_t crc = Crc32c(0, len_and_seq, 12);
  return Crc32c(crc, payload, n);
}

}  // namespace

uint32_t Crc32c(uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void EncodeSpoolRecord(uint64_t seq, std::string_view payload, std::string* out) {
  std::size_t start = out->size();
  Put32(out, kSpoolMagic);
  Put32(out, static_cast<uint32_t>(payload.size()));
  Put64(out, seq);
  uint32_t crc = RecordCrc(reinterpret_cast<const uint8_t*>(out->data() + start + 4), payload.data(),
                           payload.size());
  Put32(out, crc);
  Put32(out, 0);
  out->append(payload);
}

DecodeStatus DecodeSpoolRecord(const uint8_t* data, std::size_t size, DecodedRecord* out) {
  if (size < 4) {
    // A short prefix is only "need more" if it could still become the magic.
    uint8_t magic[4];
    std::memcpy(magic, &kSpoolMagic, 4);
    if (std::memcmp(data, magic, size) != 0) {
      out->reason = "bad magic";
      return DecodeStatus::kCorrupt;
    }
    return DecodeStatus::kNeedMore;
  }
  if (Get32(data) != kSpoolMagic) {
    out->reason = "bad magic";
    return DecodeStatus::kCorrupt;
  }
  if (size < kSpoolHeaderSize) return DecodeStatus::kNeedMore;
  uint32_t len = Get32(data + 4);
  if (len > kSpoolMaxPayload) {
    out->reason = "length out of range";
    return DecodeStatus::kCorrupt;
  }
  if (Get32(data + 20) != 0) {
    out->reason = "reserved field not zero";
    return DecodeStatus::kCorrupt;
  }
  if (size - kSpoolHeaderSize < len) return DecodeStatus::kNeedMore;
  if (RecordCrc(data + 4, data + kSpoolHeaderSize, len) != Get32(data + 16)) {
    out->reason = "checksum mismatch";
    return DecodeStatus::kCorrupt;
  }
  out->seq = Get64(data + 8);
  out->payload = std::string_view(reinterpret_cast<const char*>(data + kSpoolHeaderSize), len);
  out->consumed = kSpoolHeaderSize + len;
  return DecodeStatus::kOk;
}

std::size_t ResyncSpool(const uint8_t* data, std::size_t size) {
  for (std::size_t i = 1; i + 4 <= size; ++i)
    if (Get32(data + i) == kSpoolMagic) return i;
  return size;
}

}  // namespace vigil::outputs
