// SPDX-License-Identifier: Apache-2.0
// The evaluator: a tree of Check objects built once by the compiler.
//
// Contract:
// - Eval() does not throw, does not look names up, and does not allocate
//   once the per-check scratch buffers have grown (they keep capacity).
// - Checks hold mutable scratch: one compiled rule set is evaluated by one
//   thread at a time (the hot thread), never concurrently.
// - A check on a field that is not available for the event is false (so
//   `not <check>` is true), as in Falco.
#pragma once

#include <bitset>
#include <memory>
#include <string>
#include <vector>

#include "engine/condition/ast.h"
#include "engine/event.h"
#include "engine/fields/field_table.h"

namespace vigil::compile {

using EventTypeSet = std::bitset<kEventTypeCount>;

// A field with its argument and transformers, resolved at load.
struct FieldAccessor {
  const FieldDef* def = nullptr;
  FieldArg arg;
  std::vector<condition::Transformer> transformers;  // outermost first
  FieldType type = FieldType::kString;                // after transformers
  std::string text;                                   // as written, for outputs and explain
  int cache_slot = -1;                                // shared per-event value (see FieldCacheSlot)
  mutable Scratch scratch;
  mutable std::string tbuf;
  mutable std::string tbuf2;
  mutable std::vector<std::string_view> tlist;
  mutable std::vector<std::string> tlist_owned;

  // False when not available for this event.
  bool Get(const FieldContext& ctx, FieldValueRef* out) const;
  // The same without the copy: the value (the event's cached one where there
  // is a cache), or nullptr when not available. Valid until the next Ref() or
  // Get() of this accessor or the next event.
  const FieldValueRef* Ref(const FieldContext& ctx) const {
    if (ctx.cache != nullptr && cache_slot >= 0 && transformers.empty()) {
      FieldCacheSlot& slot = ctx.cache[cache_slot];
      if (slot.event_num != ctx.event_num) Fill(ctx, slot);
      return slot.available ? &slot.value : nullptr;
    }
    return Get(ctx, &own) ? &own : nullptr;
  }

 private:
  void Fill(const FieldContext& ctx, FieldCacheSlot& slot) const;
  mutable FieldValueRef own;  // Ref()'s value when it is not cached
};

class Check {
 public:
  // What the program builder (engine/compile/program.h) needs to see of a
  // check: the boolean structure, and leaves as opaque evaluators.
  enum class Kind : uint8_t { kLeaf, kAnd, kOr, kNot, kConst, kEventType };
  virtual ~Check() = default;
  virtual bool Eval(const FieldContext& ctx) const = 0;
  // For `vigil rules explain`: prints this check and, recursively, each
  // sub-check's result for the event.
  virtual void Explain(const FieldContext& ctx, int indent, std::string* out) const;
  virtual Kind kind() const { return Kind::kLeaf; }
  // kAnd/kOr: the children; kNot: one child. Empty for other kinds.
  virtual std::vector<const Check*> Children() const { return {}; }
  // kConst: its value. kEventType: whether `t` is in its set.
  virtual bool ValueFor(EventType /*t*/) const { return false; }
  // For the program's prefilter index (engine/compile/program.h): true when
  // Eval() true implies that the value *field gets (a plain string field, no
  // transformers) starts with one of *prefixes (an `=` value counts as its
  // own prefix). False when the check gives no such bound. Load time only.
  virtual bool PrefixGuard(const FieldAccessor** /*field*/, std::vector<std::string>* /*prefixes*/) const {
    return false;
  }
  // The same for endings: Eval() true implies that the value ends with one of
  // *suffixes (`endswith`, a glob's literal tail, a regex's literal endings).
  virtual bool SuffixGuard(const FieldAccessor** /*field*/, std::vector<std::string>* /*suffixes*/) const {
    return false;
  }
  // The same for a substring: Eval() true implies that the value contains
  // *needle (`contains`, a glob's longest literal run).
  virtual bool SubstringGuard(const FieldAccessor** /*field*/, std::string* /*needle*/) const { return false; }
  // True when Eval() reads one plain bool or number field and compares it:
  // cheap enough for the program to evaluate before its index walk (a gate,
  // engine/compile/program.h). Load time only.
  virtual bool Cheap() const { return false; }
  std::string text;  // the source text of this check (condition excerpt)
  // A leaf's identity: two leaves with the same non-empty key give the same
  // result for every event (field as written, operator, values).
  std::string key;
};

std::unique_ptr<Check> MakeAnd(std::vector<std::unique_ptr<Check>> children);
std::unique_ptr<Check> MakeOr(std::vector<std::unique_ptr<Check>> children);
// The children of `c` if it is an and-node (is_and) or an or-node (!is_and),
// for the compiler to flatten nested nodes; nullptr otherwise. Load time only.
std::vector<std::unique_ptr<Check>>* FlattenInto(Check* c, bool is_and);
std::unique_ptr<Check> MakeNot(std::unique_ptr<Check> child);
std::unique_ptr<Check> MakeConst(bool value);
// evt.type against a set of types (=, !=, in).
std::unique_ptr<Check> MakeEventTypeCheck(EventTypeSet types);
// A compare whose right side is a constant or a value list. Returns nullptr
// and sets *error (a type mismatch, a bad regex...) when it cannot be built;
// *error_value is the index of the offending value (or -1).
std::unique_ptr<Check> MakeCompare(std::unique_ptr<FieldAccessor> field, condition::CmpOp op,
                                   const std::vector<std::string>& values, std::string* error, int* error_value);
// A compare with `val(field)` on the right.
std::unique_ptr<Check> MakeFieldCompare(std::unique_ptr<FieldAccessor> lhs, condition::CmpOp op,
                                        std::unique_ptr<FieldAccessor> rhs, std::string* error);

}  // namespace vigil::compile
