// SPDX-License-Identifier: Apache-2.0
// The per-event-type programs Match() runs: each enabled rule's check tree,
// specialised for one event type and laid out as a flat node array shared by
// every rule of the engine.
//
// Built once at load from the rules' Check trees (which stay for explain and
// the single-rule calls):
// - evt.type checks and constants are folded for the type, so a rule whose
//   condition cannot hold for that type is left out of its list, and an and/or
//   keeps only the children that can decide it;
// - identical subtrees (the same macro used by several rules, the same leaf
//   compare written twice) become one node; a node used more than once keeps
//   its result per event, so it is evaluated once per event;
// - the children of an and/or keep the order they were written in: ordering
//   them by a static cost estimate (numbers and bools first) was measured
//   slower on the recorded stream, since authors put the selective check
//   first and the cheap ones (fd.num >= 0) are nearly always true.
//
// Contract: the result of Eval(root) for an event of the program's type is the
// result of the rule's Check::Eval for that event. Eval does not allocate.
// One thread at a time (node results are kept per event).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/compile/checks.h"

namespace vigil::compile {

class Program {
 public:
  struct Entry {
    const void* rule;  // the caller's rule (RuleEngine: a CompiledRule)
    uint32_t root;     // node index
  };

  // Adds `check` (a rule's whole check) specialised for `type`: false when it
  // can never hold for that type (nothing added).
  bool Add(EventType type, const Check& check, const void* rule);
  const std::vector<Entry>& entries(EventType type) const { return entries_[static_cast<std::size_t>(type)]; }
  bool Eval(uint32_t node, const FieldContext& ctx) const;
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t shared_count() const;

 private:
  enum class Op : uint8_t { kLeaf, kAnd, kOr, kNot, kTrue, kFalse };
  struct Node {
    Op op;
    bool shared = false;  // referenced more than once for one event type: result kept per event
    uint8_t last_type = 0xff;  // the event type whose programs last referenced it (load time)
    uint32_t first = 0, count = 0;  // kAnd/kOr/kNot: children in kids_[first, first + count)
    const Check* leaf = nullptr;
  };
  struct Memo {
    uint64_t event_num = 0;
    bool value = false;
  };
  uint32_t Build(EventType type, const Check& c);
  uint32_t BuildNot(EventType type, const Check& c);
  uint32_t BuildAndOr(EventType type, const Check& c, bool is_and);
  uint32_t Constant(bool value);
  // The node with this structure key: the existing one (now shared) or `node`
  // added with `kids` as its children.
  uint32_t Intern(std::string key, Node node, const std::vector<uint32_t>& kids);
  bool EvalNode(const Node& n, const FieldContext& ctx) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> kids_;
  mutable std::vector<Memo> memo_;  // per node
  std::map<std::string, uint32_t> interned_;  // structure -> node; load time only
  uint8_t building_ = 0;                      // the event type being built
  std::vector<Entry> entries_[kEventTypeCount];
};

}  // namespace vigil::compile
