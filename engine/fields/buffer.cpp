// SPDX-License-Identifier: Apache-2.0
// evt.buffer: the payload of a data call (sendto, sendmsg, sendmmsg,
// recvfrom, recvmsg, recvmmsg), as libsinsp's field reads it: checks compare
// the raw bytes (`evt.buffer bcontains cafebabe`), outputs print them with
// non-printable bytes as '.'. The capture copies the first kDataBufferMax
// bytes only while a loaded rule reads the field (FieldNeedsBuffer,
// engine/interest.h): otherwise, and on other events, `<NA>`. Bytes past the
// bound are not seen: a rule whose bytes lie beyond it cannot match.
#include <string>

#include "engine/fields/family.h"

namespace vigil {
namespace {

enum BufferId : uint16_t { kBuffer };

bool GetBuffer(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  const Event& e = *c.event;
  if (!IsDataEvent(e.type) || !e.net.data.captured) return false;
  o->str = e.net.data.bytes;
  o->bytes = true;
  return true;
}

// Rule tests: the bytes as hex ("cafebabe"), as recordings write them.
std::string SetBuffer(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  if (!ParseHex(t, &e.net.data.bytes))
    return "expected bytes as hex digits (\"cafebabe\"), got '" + std::string(t) + "'";
  if (e.net.data.bytes.size() > kDataBufferMax)
    return "at most " + std::to_string(kDataBufferMax) + " bytes are captured, got " +
           std::to_string(e.net.data.bytes.size());
  e.net.data.captured = true;
  return "";
}

}  // namespace

bool FieldNeedsBuffer(const FieldDef& def) { return def.get == GetBuffer; }

void RenderBuffer(std::string_view bytes, std::string* out) {
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out->push_back(b >= 0x20 && b < 0x7f ? ch : '.');
  }
}

namespace {

constexpr FieldDef kRows[] = {
    {kBuffer, "evt.buffer", T::kString, A::kNone, true,
     "Payload of a send/recv call (sendto, sendmsg, recvfrom, recvmsg; the first message of sendmmsg and "
     "recvmmsg): what was sent or received, its first 80 bytes (Falco's default snaplen). Compare as bytes "
     "(`bcontains cafebabe`); outputs print non-printable bytes as '.'. Captured only while a loaded rule "
     "reads it; <NA> on other events.",
     GetBuffer, SetBuffer},
};
static_assert(IdsInOrder(kRows));

}  // namespace

std::span<const FieldDef> BufferFields() { return kRows; }

}  // namespace vigil
