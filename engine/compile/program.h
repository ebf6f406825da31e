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
// - a prefilter index: for each entry, a necessary condition found through
//   its ands (an and holds only if each child does; an or of bounded children
//   is bounded by their union) of the form "this string field starts with one
//   of these prefixes" (from `=`, `in`, `startswith`, `pmatch` on fd.name,
//   proc.name, fd.directory...). Per event type and field, a byte trie of the
//   prefixes maps the event's value to the entries it allows (ByteTrie,
//   engine/compile/byte_trie.h: a node is a byte range into one kid array,
//   and carries the entries of every prefix on its path as one mask, so a
//   walk follows bytes and reads one mask where it stops). Per event, the
//   fields' values are read and walked through their tries once, giving a
//   bitmask of the guarded entries allowed; with the unguarded entries' mask
//   that is the list of entries run, in their order, and the rest are never
//   visited. Of several bounds the one on the fewest fields wins, then the
//   longest shortest-prefix (a longer prefix is rarer).
// - the same for endings ("this field ends with one of these": `endswith`, a
//   glob's literal tail as in `*/.ssh/id_rsa`, a regex's literal endings as
//   in `.*\.ko(\.(xz|gz))?`), in a second trie per field over the reversed
//   strings, walked from the value's last byte.
// - a bound on fd.directory's beginning is one on fd.name's, and a bound on
//   fd.filename's ending one on fd.name's (the directory is the path up to
//   its last '/', the file name the rest: engine/fields), so both go into
//   fd.name's tries, which are walked anyway, instead of two more walks and
//   two more values computed per open;
// - the same for substrings ("this field contains one of these": `contains`,
//   a glob's longest literal run as `/.ssh/authorized_keys` in
//   `*/.ssh/authorized_keys*`), used only for a leaf with no prefix or ending
//   of two bytes or more, and ranked below a prefix or ending bound on as many
//   fields: per event each needle of the type's field is searched for once
//   (Needle, engine/compile/matchers.h).
// - a second bound: an entry bounded (above) on a field's beginning that also
//   has a bound on the same field's ending (a regex
//   `/proc/[0-9]+/(mem|maps)` begins with /proc/ and ends with mem or maps),
//   or the other way round, keeps both: after the walk, while one such entry
//   is a candidate, the second bounds' tries are walked and the entries they
//   do not allow are dropped. Only on the first bound's fields, since one on
//   another field reads one more value.
//
// - gates: the leaf an entry's and-chain evaluates first (as
//   `evt.is_open_write = true`, which leads Falco's open_write macro) decides
//   for every entry it leads: when it is false, none of them holds. A leader
//   of two or more entries the index bounds poorly (no bound, or a one-byte
//   one such as `fd.directory = /`) is a gate for all the entries it leads
//   (a leader of one such entry saves nothing: it evaluates the leaf first
//   anyway). A cheap gate (a bool or number compare, Check::Cheap) is
//   evaluated once per event before the index walk, and a field's walk or a
//   needle's search whose entries are all dropped is skipped; another one
//   after the walk, only while one of its entries is a candidate. A type
//   with no gate takes the plain walk (WalkFields<false>). Leaders of well-bounded entries
//   only are not gates: evaluating `evt.is_open_read = true` on every open
//   for ten rules the index skips anyway cost more than it saved. A gate's
//   leaf keeps its result per event, so the entries that run do not
//   evaluate it again.
//
// Contract: the result of Eval(root) for an event of the program's type is the
// result of the rule's Check::Eval for that event; an entry ForEachCandidate()
// leaves out has Eval(root) false. Eval and ForEachCandidate do not allocate.
// One thread at a time (node results and the candidate mask are kept per
// event).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/compile/byte_trie.h"
#include "engine/compile/checks.h"
#include "engine/compile/matchers.h"

namespace vigil::compile {

class Program {
 public:
  static constexpr uint32_t kUnguarded = 0xffffffff;
  struct Entry {
    const void* rule;            // the caller's rule (RuleEngine: a CompiledRule)
    uint32_t root;               // node index
    uint32_t slot = kUnguarded;  // guarded: its index among its type's entries
  };

  Program();
  // Adds `check` (a rule's whole check) specialised for `type`: false when it
  // can never hold for that type (nothing added).
  bool Add(EventType type, const Check& check, const void* rule);
  // Lays the index's tries out for the walk (ByteTrie::Compact), once, after
  // the last Add() and before the first ForEachCandidate().
  void Finish();
  const std::vector<Entry>& entries(EventType type) const { return entries_[static_cast<std::size_t>(type)]; }
  // Inline: an and/or's plain leaf children are called straight from its
  // loop, without a call per child.
  bool Eval(uint32_t node, const FieldContext& ctx) const {
    const Node& n = nodes_[node];
    if (!n.shared) return n.op == Op::kLeaf ? n.leaf->Eval(ctx) : EvalNode(n, ctx);
    Memo& m = memo_[node];
    if (m.event_num != ctx.event_num) {
      m.value = EvalNode(n, ctx);
      m.event_num = ctx.event_num;
    }
    return m.value;
  }
  // Calls f(entry) for each entry of `type`, in order, that may hold for the
  // event: every entry whose Eval(root) is true is among them. f must not
  // call ForEachCandidate.
  template <class F>
  void ForEachCandidate(EventType type, const FieldContext& ctx, F&& f) const {
    const auto t = static_cast<std::size_t>(type);
    const std::vector<Entry>& es = entries_[t];
    std::copy(base_[t].begin(), base_[t].end(), cand_.begin());
    if (gated_[t])
      WalkGated(t, ctx);
    else
      WalkFields<false>(index_[t], ctx, cand_.data());
    if (!second_[t].empty()) {
      uint64_t any = 0;  // an entry with a second bound still a candidate
      for (std::size_t w = 0; w < need2_[t].size(); ++w) any |= cand_[w] & need2_[t][w];
      if (any != 0) CheckSecond(t, ctx);
    }
    for (std::size_t w = 0; w < base_[t].size(); ++w)
      for (uint64_t bits = cand_[w]; bits != 0; bits &= bits - 1)
        f(es[w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))]);
  }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t shared_count() const;
  // Entries of `type` the index can skip.
  std::size_t guarded_count(EventType type) const;
  // What the index reads for `type`, one line per field and kind ("fd.name
  // substring: id_rsa (1 entry)"), for the benchmark's report.
  std::vector<std::string> DescribeIndex(EventType type) const;
  // A necessary condition of entries(type)[entry] found by the prefilter
  // index's analysis, restricted to the fields `keep` accepts: the entry can
  // hold only if one of those fields starts with one of `*prefixes`. False
  // when no such bound exists (the kernel's open path filter, engine/interest.h).
  bool PrefixBound(EventType type, std::size_t entry, const std::function<bool(const FieldAccessor&)>& keep,
                   std::vector<std::string>* prefixes) const;
  // Whether entries(type)[entry] can hold on an event about which only what
  // `leaf` says is known: `leaf` gives a leaf's value on every such event, or
  // nullopt when it may differ. Kleene's three-valued and/or/not over the
  // program: false only when no value of the unknown leaves makes the entry
  // hold (the open path filter's access classes, engine/interest.h).
  bool CanHold(EventType type, std::size_t entry, const std::function<std::optional<bool>(const Check&)>& leaf) const;
  // A necessary condition of entries(type)[entry] as a set of constraints
  // (strings the caller defines), one of which holds whenever the entry does:
  // `leaf` gives a leaf's set, or nullopt when the leaf bounds nothing. A node
  // that `known` (as for CanHold) makes false is bounded by the empty set; an
  // and by its bounded child of the lowest `cost`; an or by the union of its
  // children's sets, each of which must be bounded. False when there is no
  // bound (the open path filter's resolved test, engine/interest.h).
  using Constraints = std::vector<std::string>;
  bool LeafBound(EventType type, std::size_t entry, const std::function<std::optional<bool>(const Check&)>& known,
                 const std::function<std::optional<Constraints>(const Check&)>& leaf,
                 const std::function<std::size_t(const Constraints&)>& cost, Constraints* out) const;
  // Calls f(leaf) for each leaf of entries(type)[entry].
  void ForEachLeaf(EventType type, std::size_t entry, const std::function<void(const Check&)>& f) const;

 private:
  struct FieldIndex;  // below
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
  std::optional<bool> Implied(uint32_t node, const std::function<std::optional<bool>(const Check&)>& leaf) const;
  struct BoundFns {
    const std::function<std::optional<bool>(const Check&)>& known;
    const std::function<std::optional<Constraints>(const Check&)>& leaf;
    const std::function<std::size_t(const Constraints&)>& cost;
  };
  std::optional<Constraints> NodeBound(uint32_t node, const BoundFns& fns) const;
  void VisitLeaves(uint32_t node, const std::function<void(const Check&)>& f) const;

  // A necessary condition of a node: one of the terms holds, a term being
  // "this field starts with one of these prefixes".
  // "this field ends with one of these", with the strings reversed.
  // "this field contains one of these" (substring: the strings are needles).
  struct Term {
    const FieldAccessor* field = nullptr;
    std::vector<std::string> prefixes;
    bool suffix = false;     // prefixes are endings, reversed
    bool substring = false;  // prefixes are needles found anywhere
    bool SameIndex(const Term& o) const {
      return field->text == o.field->text && suffix == o.suffix && substring == o.substring;
    }
  };
  struct Guard {
    std::vector<Term> terms;
    std::size_t Shortest() const;    // of all prefixes: how selective (0: not at all)
    std::size_t FieldCount() const;  // distinct fields: how many values to read
    std::size_t NeedleCount() const;  // needle searches per event (a trie step is shared, a search is not)
  };
  // A term on fd.directory (beginning) or fd.filename (ending) as the same
  // bound on fd.name: false when `t` is not one of those.
  bool OnPath(Term* t) const;
  // `keep` (may be null): only leaves on fields it accepts are bounds.
  // `avoid` (may be null): a second bound, by tries only, on none of the
  // tries `avoid`'s terms are walked in.
  bool GuardOf(uint32_t node, Guard* out, const std::function<bool(const FieldAccessor&)>* keep = nullptr,
               const Guard* avoid = nullptr) const;
  void AddToIndex(std::vector<FieldIndex>& indexes, const Guard& g, uint32_t slot);
  // Drops from cand_ the entries with a second bound (need2_) it does not
  // allow (called when one of them is a candidate).
  void CheckSecond(std::size_t t, const FieldContext& ctx) const;
  // Sets in cand_ the guarded entries of type `t` the event's values allow,
  // less those the gates drop (types with gates; others: WalkFields<false>).
  void WalkGated(std::size_t t, const FieldContext& ctx) const;
  // Sets in cand_ the guarded entries of type `t` the event's values allow;
  // kGated: skips the walks and needle searches of entries the early gates
  // dropped (dead_) and leaves dropping them to the caller.
  template <bool kGated>
  void WalkFields(const std::vector<FieldIndex>& indexes, const FieldContext& ctx, uint64_t* out) const;
  // The leaf node an entry rooted at `node` evaluates first through its
  // and-chain; kNoGate when it starts with something else (or, not).
  static constexpr uint32_t kNoGate = 0xffffffff;
  uint32_t LeadingLeaf(uint32_t node) const;
  // Records entry `slot` of `type` under its leading leaf; `weak`: the index
  // bounds it poorly or not at all.
  void AddGate(EventType type, uint32_t root, uint32_t slot, bool weak);
  // Sets dead_ to the entries of the type's early gates found false.
  void RunEarlyGates(std::size_t type, const FieldContext& ctx) const;
  // Whether any entry of `mask` is still alive (not in dead_).
  bool AnyAlive(const std::vector<uint64_t>& mask) const {
    for (std::size_t w = 0; w < mask.size(); ++w)
      if ((mask[w] & ~dead_[w]) != 0) return true;
    return false;
  }
  struct Gate {
    uint32_t node;               // a leaf node, kept per event (shared)
    std::vector<uint64_t> mask;  // the entries it leads
    uint32_t weak = 0;           // how many of them the index bounds poorly
  };
  // A leader is a gate when it leads at least this many poorly bounded entries.
  static constexpr uint32_t kMinWeak = 2;
  struct NeedleSlots {
    Needle needle;
    std::vector<uint32_t> slots;  // entries allowed by a value containing it
  };
  // What the index reads of one field for one event type: the value is read
  // once and walked through its tries (beginnings, then endings) and searched
  // for each needle.
  struct FieldIndex {
    const FieldAccessor* field;
    ByteTrie tries[2];                 // [0] beginnings, [1] endings (reversed)
    std::vector<NeedleSlots> needles;  // substrings
    std::vector<uint64_t> serves;      // the entries it can allow
  };
  // Adds the mask trie.Walk() gave to cand_.
  void Allow(const ByteTrie& trie, uint32_t mask, uint64_t* out) const {
    if (mask == 0) return;
    const uint64_t* m = trie.Mask(mask);
    for (std::size_t w = 0; w < trie.words(); ++w) out[w] |= m[w];
  }
  // Searches the value for f's needles (kGated: only those with an entry alive).
  template <bool kGated>
  void SearchNeedles(const FieldIndex& f, std::string_view v) const;

  // fd.name, read through the engine's cached accessor once a rule's leaf
  // gives one (AddToIndex), else through this one.
  std::unique_ptr<FieldAccessor> path_;  // set by the constructor; on the heap, so a moved Program keeps it
  std::vector<Node> nodes_;
  std::vector<uint32_t> kids_;
  mutable std::vector<Memo> memo_;  // per node
  std::map<std::string, uint32_t> interned_;  // structure -> node; load time only
  uint8_t building_ = 0;                      // the event type being built
  std::vector<Entry> entries_[kEventTypeCount];
  std::vector<FieldIndex> index_[kEventTypeCount];
  std::vector<FieldIndex> second_[kEventTypeCount];  // per type: the entries' second bounds (tries only)
  std::vector<uint64_t> need2_[kEventTypeCount];     // per type: a bit per entry with a second bound
  std::vector<uint64_t> base_[kEventTypeCount];  // per type: a bit per unguarded entry
  std::vector<Gate> gates_[kEventTypeCount];      // per type: every leading leaf (load time)
  std::vector<Gate> early_[kEventTypeCount];      // per type: gates run before the walk
  std::vector<Gate> late_[kEventTypeCount];       // per type: gates run after it
  bool gated_[kEventTypeCount] = {};              // per type: early_ or late_ not empty
  mutable std::vector<uint64_t> dead_;            // the event's entries dropped by early gates
  mutable std::vector<uint64_t> cand_;            // the event's candidates (as wide as the widest base_)
  mutable std::vector<uint64_t> cand2_;           // what the second bounds allow
};

}  // namespace vigil::compile
