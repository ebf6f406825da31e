// SPDX-License-Identifier: Apache-2.0
// Fuzzes the ring-buffer record decoder (bpf/decoder.h): any bytes, as they
// come and with the header repaired (right ABI version and size) so the
// mutations reach the family decoders; the decoded event is then written as
// JSON, which must not crash and must parse back (the writer never emits an
// invalid line, whatever bytes the kernel record held).
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/decoder.h"
#include "bpf/vigil_abi.h"
#include "engine/event_json.h"

namespace {

void WriteAndReadBack(const vigil::Event& event, std::string* json) {
  json->clear();
  vigil::AppendEventJson(event, json);
  static vigil::Event back;
  static vigil::OwnedAncestors chain;
  if (auto err = vigil::ParseEventJson(*json, &back, &chain)) {
    std::fprintf(stderr, "written line does not parse back: %s\n%s\n", err->c_str(), json->c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vigil::capture::Decoder decoder;
  static vigil::Event event;
  static std::string json;
  if (decoder.Decode(data, size, &event) == vigil::capture::DecodeStatus::kOk) WriteAndReadBack(event, &json);
  if (size >= sizeof(vg_hdr)) {
    std::vector<uint8_t> copy(data, data + size);
    vg_hdr h;
    std::memcpy(&h, copy.data(), sizeof(h));
    h.abi_version = VG_ABI_VERSION;
    h.size = static_cast<uint32_t>(size);
    std::memcpy(copy.data(), &h, sizeof(h));
    if (decoder.Decode(copy.data(), copy.size(), &event) == vigil::capture::DecodeStatus::kOk)
      WriteAndReadBack(event, &json);
  }
  return 0;
}
