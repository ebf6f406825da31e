// SPDX-License-Identifier: Apache-2.0
// bpf.*: the detail of a bpf(2) call (command, program, map, attach target,
// the helpers a loaded program calls). <NA> on every other event type.
#include "engine/fields/family.h"

namespace vigil {
namespace {

using T = FieldType;
using A = ArgKind;

enum BpfId : uint16_t {
  kCmd, kProgType, kProgExpectedAttachType, kAttachType, kProgInsnCnt, kProgFlags, kProgAttachBtfId, kMapType, kId,
  kTargetFd, kProgName, kProgLicense, kMapName, kTarget, kProgHelpers, kProgHelpersComplete,
};

bool GetBpfNum(const FieldDef& d, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  if (c.event->type != EventType::bpf) return false;
  const BpfArgs& b = c.event->bpf;
  const int64_t vals[] = {b.cmd,      b.prog_type,     b.expected_attach_type, b.attach_type, b.insn_cnt,
                          b.prog_flags, b.attach_btf_id, b.map_type,           b.id,          b.target_fd};
  return Num(o, vals[d.id - kCmd]);
}

bool GetHelpers(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch& s, FieldValueRef* o) {
  if (c.event->type != EventType::bpf) return false;
  // Decimal ids 0..255 are stable strings: point into a static table.
  static const std::vector<std::string> kIds = [] {
    std::vector<std::string> ids;
    for (int i = 0; i < 256; ++i) ids.push_back(std::to_string(i));
    return ids;
  }();
  s.list.clear();
  for (uint32_t id = 0; id < 256; ++id)
    if (c.event->bpf.HasHelper(id)) s.list.push_back(kIds[id]);
  o->list = &s.list;
  return true;
}

std::string SetHelpers(Event& e, OwnedAncestors&, const FieldArg&, std::string_view t) {
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t j = t.find_first_of(", ", i);
    if (j == std::string_view::npos) j = t.size();
    if (j > i) {
      int64_t id;
      if (!ParseI64(t.substr(i, j - i), &id) || id < 0 || id > 255) return "expected helper ids 0..255";
      e.bpf.AddHelper(static_cast<uint32_t>(id));
    }
    i = j + 1;
  }
  e.bpf.helpers_complete = true;
  return "";
}

#define BPF_NUM_ROW(id, name, desc) {id, name, T::kNumber, A::kNone, true, desc, GetBpfNum, SetMember}

constexpr FieldDef kRows[] = {
    BPF_NUM_ROW(kCmd, "bpf.cmd", "bpf(2) command number (5 = BPF_PROG_LOAD)."),
    BPF_NUM_ROW(kProgType, "bpf.prog.type", "Program type number (BPF_PROG_TYPE_*)."),
    BPF_NUM_ROW(kProgExpectedAttachType, "bpf.prog.expected_attach_type", "Expected attach type number."),
    BPF_NUM_ROW(kAttachType, "bpf.attach_type", "Attach type (PROG_ATTACH / LINK_CREATE)."),
    BPF_NUM_ROW(kProgInsnCnt, "bpf.prog.insn_cnt", "Instruction count."),
    BPF_NUM_ROW(kProgFlags, "bpf.prog.flags", "Program flags."),
    BPF_NUM_ROW(kProgAttachBtfId, "bpf.prog.attach_btf_id", "BTF id of the attach target."),
    BPF_NUM_ROW(kMapType, "bpf.map.type", "Map type number (BPF_MAP_TYPE_*)."),
    BPF_NUM_ROW(kId, "bpf.id", "Program/map/link id argument or result."),
    BPF_NUM_ROW(kTargetFd, "bpf.target_fd", "Attach target fd."),
    {kProgName, "bpf.prog.name", T::kString, A::kNone, true, "Program name.",
     VIGIL_GETTER { return c.event->type == EventType::bpf && Str(o, c.event->bpf.prog_name); }, SetMember},
    {kProgLicense, "bpf.prog.license", T::kString, A::kNone, true, "Program license string.",
     VIGIL_GETTER { return c.event->type == EventType::bpf && Str(o, c.event->bpf.license); }, SetMember},
    {kMapName, "bpf.map.name", T::kString, A::kNone, true, "Map name.",
     VIGIL_GETTER { return c.event->type == EventType::bpf && Str(o, c.event->bpf.map_name); }, SetMember},
    {kTarget, "bpf.target", T::kString, A::kNone, true, "Raw tracepoint name, pin path or attach symbol.",
     VIGIL_GETTER { return c.event->type == EventType::bpf && Str(o, c.event->bpf.target); }, SetMember},
    {kProgHelpers, "bpf.prog.helpers", T::kStringList, A::kNone, true,
     "Helper ids the program calls (decimal); e.g. `bpf.prog.helpers intersects (36, 58)`.", GetHelpers,
     SetHelpers},
    {kProgHelpersComplete, "bpf.prog.helpers_complete", T::kBool, A::kNone, true,
     "All instructions were scanned for helper calls.",
     VIGIL_GETTER { return c.event->type == EventType::bpf && Bool(o, c.event->bpf.helpers_complete); }, SetMember},
};
static_assert(IdsInOrder(kRows));
#undef BPF_NUM_ROW

}  // namespace

std::span<const FieldDef> BpfFields() { return kRows; }

}  // namespace vigil
