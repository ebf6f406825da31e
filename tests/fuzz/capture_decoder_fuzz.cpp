// Fuzzes the ring-buffer record decoder (bpf/decoder.h): any bytes, as they
// come and with the header repaired (right ABI version and size) so the
// mutations reach the family decoders; the decoded event is then written as
// JSON, which must not crash either.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/decoder.h"
#include "bpf/vigil_abi.h"
#include "engine/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vigil::capture::Decoder decoder;
  static vigil::Event event;
  static std::string json;
  if (decoder.Decode(data, size, &event) == vigil::capture::DecodeStatus::kOk) {
    json.clear();
    vigil::AppendEventJson(event, &json);
  }
  if (size >= sizeof(vg_hdr)) {
    std::vector<uint8_t> copy(data, data + size);
    vg_hdr h;
    std::memcpy(&h, copy.data(), sizeof(h));
    h.abi_version = VG_ABI_VERSION;
    h.size = static_cast<uint32_t>(size);
    std::memcpy(copy.data(), &h, sizeof(h));
    if (decoder.Decode(copy.data(), copy.size(), &event) == vigil::capture::DecodeStatus::kOk) {
      json.clear();
      vigil::AppendEventJson(event, &json);
    }
  }
  return 0;
}
