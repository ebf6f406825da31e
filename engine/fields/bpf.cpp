// SPDX-License-Identifier: Apache-2.0
// bpf.*: the detail of a bpf(2) call (command, program, map, attach target,
// the helpers a loaded program calls). <NA> on every other event type.
#include <type_traits>
#include <utility>

#include "engine/fields/family.h"

namespace vigil {
namespace {

enum BpfId : uint16_t {
  kCmd, kProgType, kProgExpectedAttachType, kAttachType, kProgInsnCnt, kProgFlags, kProgAttachBtfId, kMapType, kId,
  kTargetFd, kProgName, kProgLicense, kMapName, kTarget, kProgHelpers, kProgHelpersComplete,
};

// Member M of the bpf(2) call's detail, as the field type its C++ type makes
// (a number, a string or a flag); <NA> on every other event type.
template <auto M>
bool GetBpf(const FieldDef&, const FieldContext& c, const FieldArg&, Scratch&, FieldValueRef* o) {
  if (c.event->type != EventType::bpf) return false;
  const auto& v = c.event->bpf.*M;
  using V = std::remove_cvref_t<decltype(v)>;
  if constexpr (std::is_same_v<V, std::string>) return Str(o, v);
  else if constexpr (std::is_same_v<V, bool>) return Bool(o, v);
  else return Num(o, v);
}

template <auto M>
constexpr FieldType BpfType() {
  using V = std::remove_cvref_t<decltype(std::declval<BpfArgs>().*M)>;
  return std::is_same_v<V, std::string> ? T::kString : std::is_same_v<V, bool> ? T::kBool : T::kNumber;
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

// A row whose value is one member of the event's BpfArgs; its rule-test setter
// is that member's (SetMember: the field name is the member's JSON key).
#define BPF_ROW(id, member, name, desc) \
  {id, name, BpfType<&BpfArgs::member>(), A::kNone, true, desc, GetBpf<&BpfArgs::member>, SetMember}

constexpr FieldDef kRows[] = {
    BPF_ROW(kCmd, cmd, "bpf.cmd", "bpf(2) command number (5 = BPF_PROG_LOAD)."),
    BPF_ROW(kProgType, prog_type, "bpf.prog.type", "Program type number (BPF_PROG_TYPE_*)."),
    BPF_ROW(kProgExpectedAttachType, expected_attach_type, "bpf.prog.expected_attach_type",
            "Expected attach type number."),
    BPF_ROW(kAttachType, attach_type, "bpf.attach_type", "Attach type (PROG_ATTACH / LINK_CREATE)."),
    BPF_ROW(kProgInsnCnt, insn_cnt, "bpf.prog.insn_cnt", "Instruction count."),
    BPF_ROW(kProgFlags, prog_flags, "bpf.prog.flags", "Program flags."),
    BPF_ROW(kProgAttachBtfId, attach_btf_id, "bpf.prog.attach_btf_id", "BTF id of the attach target."),
    BPF_ROW(kMapType, map_type, "bpf.map.type", "Map type number (BPF_MAP_TYPE_*)."),
    BPF_ROW(kId, id, "bpf.id", "Program/map/link id argument or result."),
    BPF_ROW(kTargetFd, target_fd, "bpf.target_fd", "Attach target fd."),
    BPF_ROW(kProgName, prog_name, "bpf.prog.name", "Program name."),
    BPF_ROW(kProgLicense, license, "bpf.prog.license", "Program license string."),
    BPF_ROW(kMapName, map_name, "bpf.map.name", "Map name."),
    BPF_ROW(kTarget, target, "bpf.target", "Raw tracepoint name, pin path or attach symbol."),
    {kProgHelpers, "bpf.prog.helpers", T::kStringList, A::kNone, true,
     "Helper ids the program calls (decimal); e.g. `bpf.prog.helpers intersects (36, 58)`.", GetHelpers,
     SetHelpers},
    BPF_ROW(kProgHelpersComplete, helpers_complete, "bpf.prog.helpers_complete",
            "All instructions were scanned for helper calls."),
};
static_assert(IdsInOrder(kRows));
#undef BPF_ROW

}  // namespace

std::span<const FieldDef> BpfFields() { return kRows; }

}  // namespace vigil
