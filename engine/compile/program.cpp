// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/program.h"

#include <algorithm>
#include <tuple>

namespace vigil::compile {

static_assert(kEventTypeCount < 0xff, "Program::Node::last_type holds an event type");

uint32_t Program::Intern(std::string key, Node node, const std::vector<uint32_t>& kids) {
  auto it = interned_.find(key);
  if (it != interned_.end()) {
    // Shared between the programs of different types is not shared: one
    // event runs one type's programs.
    Node& found = nodes_[it->second];
    found.shared = found.shared || found.last_type == building_;
    found.last_type = building_;
    return it->second;
  }
  node.last_type = building_;
  node.first = static_cast<uint32_t>(kids_.size());
  node.count = static_cast<uint32_t>(kids.size());
  kids_.insert(kids_.end(), kids.begin(), kids.end());
  const auto id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(node);
  memo_.emplace_back();
  interned_.emplace(std::move(key), id);
  return id;
}

uint32_t Program::Constant(bool value) {
  Node n;
  n.op = value ? Op::kTrue : Op::kFalse;
  return Intern(value ? "T" : "F", n, {});
}

uint32_t Program::BuildNot(EventType type, const Check& c) {
  const uint32_t k = Build(type, *c.Children().at(0));
  const Node& child = nodes_[k];
  if (child.op == Op::kTrue || child.op == Op::kFalse) return Constant(child.op == Op::kFalse);
  if (child.op == Op::kNot) return kids_[child.first];  // not not x: x
  Node n;
  n.op = Op::kNot;
  return Intern("!" + std::to_string(k), n, {k});
}

uint32_t Program::BuildAndOr(EventType type, const Check& c, bool is_and) {
  const Op absorbing = is_and ? Op::kFalse : Op::kTrue;
  const Op neutral = is_and ? Op::kTrue : Op::kFalse;
  std::vector<uint32_t> ids;
  for (const Check* child : c.Children()) {
    const uint32_t k = Build(type, *child);
    if (nodes_[k].op == absorbing) return Constant(!is_and);
    if (nodes_[k].op == neutral || std::find(ids.begin(), ids.end(), k) != ids.end()) continue;
    ids.push_back(k);
  }
  if (ids.empty()) return Constant(is_and);
  if (ids.size() == 1) return ids[0];
  Node n;
  n.op = is_and ? Op::kAnd : Op::kOr;
  std::string key(1, is_and ? '&' : '|');
  for (uint32_t k : ids) {
    key += std::to_string(k);
    key += ',';
  }
  return Intern(std::move(key), n, ids);
}

uint32_t Program::Build(EventType type, const Check& c) {
  switch (c.kind()) {
    case Check::Kind::kConst:
    case Check::Kind::kEventType:
      return Constant(c.ValueFor(type));
    case Check::Kind::kNot:
      return BuildNot(type, c);
    case Check::Kind::kAnd:
      return BuildAndOr(type, c, true);
    case Check::Kind::kOr:
      return BuildAndOr(type, c, false);
    case Check::Kind::kLeaf:
      break;
  }
  Node n;
  n.op = Op::kLeaf;
  n.leaf = &c;
  // A leaf without a key is its own identity.
  std::string key = c.key.empty() ? "P" + std::to_string(reinterpret_cast<uintptr_t>(&c)) : "L" + c.key;
  return Intern(std::move(key), n, {});
}

Program::Program() : path_(std::make_unique<FieldAccessor>()) {
  path_->def = FindField("fd.name");
  path_->text = "fd.name";
  path_->type = FieldType::kString;
}

bool Program::OnPath(Term* t) const {
  const FieldAccessor& f = *t->field;
  if (!f.transformers.empty() || f.arg.present || t->substring || path_->def == nullptr) return false;
  if (!(f.text == "fd.directory" && !t->suffix) && !(f.text == "fd.filename" && t->suffix)) return false;
  t->field = path_.get();
  return true;
}

bool Program::Add(EventType type, const Check& check, const void* rule) {
  building_ = static_cast<uint8_t>(type);
  const uint32_t root = Build(type, check);
  if (nodes_[root].op == Op::kFalse) return false;
  const auto t = static_cast<std::size_t>(type);
  Entry e{rule, root};
  const auto i = static_cast<uint32_t>(entries_[t].size());
  base_[t].resize(i / 64 + 1, 0);
  cand_.resize(std::max(cand_.size(), base_[t].size()), 0);
  dead_.resize(cand_.size(), 0);
  cand2_.resize(cand_.size(), 0);
  Guard g;
  if (GuardOf(root, &g) && g.Shortest() > 0 && g.Shortest() != SIZE_MAX) {
    e.slot = i;
    AddToIndex(index_[t], g, i);
    // A second necessary bound on the same fields' other tries (a regex's
    // ending beside its beginning), checked when the first lets the entry
    // through. On another field it would read one more value per check (a
    // bound on fd.name's beginning and one on proc.name made Falco stable
    // count 3% more instructions).
    Guard g2;
    const auto read = [&](const Term& x) {
      return std::any_of(g.terms.begin(), g.terms.end(), [&](const Term& y) { return y.field->text == x.field->text; });
    };
    if (GuardOf(root, &g2, nullptr, &g) && g2.Shortest() >= 2 && g2.Shortest() != SIZE_MAX &&
        std::all_of(g2.terms.begin(), g2.terms.end(), read)) {
      AddToIndex(second_[t], g2, i);
      need2_[t].resize(i / 64 + 1, 0);
      need2_[t][i / 64] |= uint64_t{1} << (i % 64);
    }
  } else {
    base_[t][i / 64] |= uint64_t{1} << (i % 64);
  }
  AddGate(type, root, i, e.slot == kUnguarded || g.Shortest() < 2);
  entries_[static_cast<std::size_t>(type)].push_back(e);
  return true;
}

uint32_t Program::LeadingLeaf(uint32_t node) const {
  while (nodes_[node].op == Op::kAnd) node = kids_[nodes_[node].first];
  return nodes_[node].op == Op::kLeaf ? node : kNoGate;
}

void Program::AddGate(EventType type, uint32_t root, uint32_t slot, bool weak) {
  const uint32_t leaf = LeadingLeaf(root);
  if (leaf == kNoGate) return;
  const auto t = static_cast<std::size_t>(type);
  auto& gates = gates_[t];
  auto it = std::find_if(gates.begin(), gates.end(), [&](const Gate& g) { return g.node == leaf; });
  if (it == gates.end()) it = gates.insert(gates.end(), Gate{leaf, {}, 0});
  it->mask.resize(base_[t].size(), 0);
  it->mask[slot / 64] |= uint64_t{1} << (slot % 64);
  it->weak += weak ? 1 : 0;
  early_[t].clear();
  late_[t].clear();
  gated_[t] = false;
  for (const Gate& g : gates) {
    // A gate leading one poorly bounded entry saves nothing: that entry
    // evaluates the same leaf first anyway.
    if (g.weak < kMinWeak) continue;
    (nodes_[g.node].leaf->Cheap() ? early_[t] : late_[t]).push_back(g);
    gated_[t] = true;
    // The leaf is evaluated by the gate and again by the entries that run:
    // its result is kept per event.
    nodes_[g.node].shared = true;
  }
}

void Program::RunEarlyGates(std::size_t type, const FieldContext& ctx) const {
  std::fill(dead_.begin(), dead_.end(), 0);
  for (const Gate& g : early_[type])
    if (!Eval(g.node, ctx))
      for (std::size_t w = 0; w < g.mask.size(); ++w) dead_[w] |= g.mask[w];
}

std::size_t Program::Guard::Shortest() const {
  std::size_t n = SIZE_MAX;
  for (const Term& t : terms)
    for (const auto& p : t.prefixes) n = std::min(n, p.size());
  return n;
}

std::size_t Program::Guard::FieldCount() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < terms.size() && !seen; ++j) {
      if (j == i) continue;
      // A needle searched in a value a trie walks anyway reads nothing more.
      const bool same_value = terms[j].field->text == terms[i].field->text && terms[i].substring && !terms[j].substring;
      seen = same_value || (j < i && terms[j].SameIndex(terms[i]));
    }
    n += !seen;
  }
  return n;
}

std::size_t Program::Guard::NeedleCount() const {
  std::size_t n = 0;
  for (const Term& t : terms) n += t.substring ? t.prefixes.size() : 0;
  return n;
}

bool Program::GuardOf(uint32_t node, Guard* out, const std::function<bool(const FieldAccessor&)>* keep,
                      const Guard* avoid) const {
  const Node& n = nodes_[node];
  switch (n.op) {
    case Op::kLeaf: {
      // The beginning or the ending, whichever is longer at its shortest
      // (a glob `*/x` bounds its beginning by "").
      Guard head, tail;
      Term t;
      if (keep != nullptr) {  // the kernel's filter: beginnings only, on the fields it can read
        if (!n.leaf->PrefixGuard(&t.field, &t.prefixes) || !(*keep)(*t.field)) return false;
        out->terms = {std::move(t)};
        return true;
      }
      if (n.leaf->PrefixGuard(&t.field, &t.prefixes)) head.terms = {std::move(t)};
      t = Term{};
      if (n.leaf->SuffixGuard(&t.field, &t.prefixes)) {
        t.suffix = true;
        for (std::string& p : t.prefixes) std::reverse(p.begin(), p.end());
        tail.terms = {std::move(t)};
      }
      const auto usable = [](const Guard& g) { return !g.terms.empty() && g.Shortest() != SIZE_MAX ? g.Shortest() : 0; };
      // fd.directory's beginning and fd.filename's ending are fd.name's (as
      // good a bound, on a value the index reads anyway): fd.filename in (...)
      // bounds both its ends, and the ending is taken.
      const bool head_path = !head.terms.empty() && OnPath(&head.terms[0]);
      const bool tail_path = !tail.terms.empty() && OnPath(&tail.terms[0]);
      if (tail_path && !head_path && usable(tail) > 0 && usable(tail) >= usable(head)) head = Guard{};
      if (head_path && !tail_path && usable(head) > 0 && usable(head) >= usable(tail)) tail = Guard{};
      if (avoid != nullptr) {  // a second bound: tries only, none the first bound walks
        const auto walked = [&](const Guard& x) {
          return !x.terms.empty() && std::any_of(avoid->terms.begin(), avoid->terms.end(),
                                                 [&](const Term& a) { return a.SameIndex(x.terms[0]); });
        };
        if (walked(head)) head = Guard{};
        if (walked(tail)) tail = Guard{};
      } else if (std::max(usable(head), usable(tail)) < 2) {  // none, or "/": a needle may do better
        t = Term{};
        std::string needle;
        if (n.leaf->SubstringGuard(&t.field, &needle) && needle.size() >= 2) {
          t.substring = true;
          t.prefixes = {std::move(needle)};
          out->terms = {std::move(t)};
          return true;
        }
      }
      if (usable(head) == 0 && usable(tail) == 0) return false;
      *out = usable(tail) > usable(head) ? std::move(tail) : std::move(head);
      return true;
    }
    case Op::kAnd: {  // each child is necessary: the best bound of any
      bool found = false;
      for (uint32_t i = n.first; i < n.first + n.count; ++i) {
        Guard g;
        if (!GuardOf(kids_[i], &g, keep, avoid)) continue;
        // A bound by tries alone first (a needle search per event costs more
        // than a trie step, and may read a field nothing else reads, as
        // `evt.arg.flags contains O_TRUNC` beside a bound on fd.directory and
        // fd.filename), then fewer fields to read, then fewer needle
        // searches, then the longer shortest prefix.
        const auto rank = [](const Guard& x) {
          return std::tuple{x.NeedleCount() == 0, SIZE_MAX - x.FieldCount(), SIZE_MAX - x.NeedleCount(), x.Shortest()};
        };
        if (!found || rank(g) > rank(*out)) *out = std::move(g);
        found = true;
      }
      return found;
    }
    case Op::kOr:  // bounded only if every child is: the union of their bounds
      for (uint32_t i = n.first; i < n.first + n.count; ++i) {
        Guard g;
        if (!GuardOf(kids_[i], &g, keep, avoid)) return false;
        for (Term& t : g.terms) out->terms.push_back(std::move(t));
      }
      return true;
    default:
      return false;
  }
}

bool Program::PrefixBound(EventType type, std::size_t entry, const std::function<bool(const FieldAccessor&)>& keep,
                          std::vector<std::string>* prefixes) const {
  const auto& es = entries_[static_cast<std::size_t>(type)];
  if (entry >= es.size()) return false;
  Guard g;
  if (!GuardOf(es[entry].root, &g, &keep)) return false;
  prefixes->clear();
  for (const Term& t : g.terms) prefixes->insert(prefixes->end(), t.prefixes.begin(), t.prefixes.end());
  return true;
}

std::optional<bool> Program::Implied(uint32_t node,
                                     const std::function<std::optional<bool>(const Check&)>& leaf) const {
  const Node& n = nodes_[node];
  switch (n.op) {
    case Op::kTrue:
      return true;
    case Op::kFalse:
      return false;
    case Op::kLeaf:
      return leaf(*n.leaf);
    case Op::kNot: {
      const std::optional<bool> v = Implied(kids_[n.first], leaf);
      return v ? std::optional<bool>(!*v) : std::nullopt;
    }
    case Op::kAnd:
    case Op::kOr: {
      // and: false if any child is, true if all are; or: the dual.
      const bool absorbing = n.op == Op::kOr;
      bool all = true;
      for (uint32_t i = n.first; i < n.first + n.count; ++i) {
        const std::optional<bool> v = Implied(kids_[i], leaf);
        if (v == absorbing) return absorbing;
        all = all && v.has_value();
      }
      return all ? std::optional<bool>(!absorbing) : std::nullopt;
    }
  }
  return std::nullopt;
}

bool Program::CanHold(EventType type, std::size_t entry,
                      const std::function<std::optional<bool>(const Check&)>& leaf) const {
  const auto& es = entries_[static_cast<std::size_t>(type)];
  if (entry >= es.size()) return false;
  return Implied(es[entry].root, leaf) != false;
}

std::optional<Program::Constraints> Program::NodeBound(uint32_t node, const BoundFns& fns) const {
  const std::optional<bool> v = Implied(node, fns.known);
  if (v == false) return Constraints{};
  if (v == true) return std::nullopt;
  const Node& n = nodes_[node];
  switch (n.op) {
    case Op::kLeaf:
      return fns.leaf(*n.leaf);
    case Op::kAnd: {  // each child is necessary: the cheapest bound of any
      std::optional<Constraints> best;
      for (uint32_t i = n.first; i < n.first + n.count; ++i) {
        std::optional<Constraints> b = NodeBound(kids_[i], fns);
        if (b && (!best || fns.cost(*b) < fns.cost(*best))) best = std::move(b);
      }
      return best;
    }
    case Op::kOr: {  // bounded only if every child is: the union
      Constraints all;
      for (uint32_t i = n.first; i < n.first + n.count; ++i) {
        std::optional<Constraints> b = NodeBound(kids_[i], fns);
        if (!b) return std::nullopt;
        all.insert(all.end(), b->begin(), b->end());
      }
      return all;
    }
    default:
      return std::nullopt;
  }
}

bool Program::LeafBound(EventType type, std::size_t entry, const std::function<std::optional<bool>(const Check&)>& known,
                        const std::function<std::optional<Constraints>(const Check&)>& leaf,
                        const std::function<std::size_t(const Constraints&)>& cost, Constraints* out) const {
  const auto& es = entries_[static_cast<std::size_t>(type)];
  if (entry >= es.size()) return false;
  std::optional<Constraints> b = NodeBound(es[entry].root, BoundFns{known, leaf, cost});
  if (!b) return false;
  *out = std::move(*b);
  return true;
}

void Program::VisitLeaves(uint32_t node, const std::function<void(const Check&)>& f) const {
  const Node& n = nodes_[node];
  if (n.op == Op::kLeaf) f(*n.leaf);
  for (uint32_t i = n.first; i < n.first + n.count; ++i) VisitLeaves(kids_[i], f);
}

void Program::ForEachLeaf(EventType type, std::size_t entry, const std::function<void(const Check&)>& f) const {
  const auto& es = entries_[static_cast<std::size_t>(type)];
  if (entry < es.size()) VisitLeaves(es[entry].root, f);
}

void Program::AddToIndex(std::vector<FieldIndex>& indexes, const Guard& g, uint32_t slot) {
  for (const Term& t : g.terms) {
    auto it = std::find_if(indexes.begin(), indexes.end(),
                           [&](const FieldIndex& f) { return f.field->text == t.field->text; });
    if (it == indexes.end()) {
      indexes.emplace_back();
      it = indexes.end() - 1;
      it->field = t.field;
    }
    if (it->field == path_.get() && t.field != path_.get()) it->field = t.field;  // the engine's cached fd.name
    it->serves.resize(std::max(it->serves.size(), std::size_t{slot / 64 + 1}), 0);
    it->serves[slot / 64] |= uint64_t{1} << (slot % 64);
    if (t.substring) {
      for (const std::string& p : t.prefixes) {
        auto n = std::find_if(it->needles.begin(), it->needles.end(),
                              [&](const NeedleSlots& x) { return x.needle.text() == p; });
        if (n == it->needles.end()) n = it->needles.insert(it->needles.end(), NeedleSlots{Needle(p), {}});
        if (std::find(n->slots.begin(), n->slots.end(), slot) == n->slots.end()) n->slots.push_back(slot);
      }
      continue;
    }
    ByteTrie& trie = it->tries[t.suffix ? 1 : 0];
    for (const std::string& p : t.prefixes) trie.Insert(p, slot);
  }
}

void Program::Finish() {
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    for (auto* indexes : {&index_[t], &second_[t]})
      for (FieldIndex& f : *indexes)
        for (ByteTrie& trie : f.tries)
          if (!trie.empty()) trie.Compact(f.serves.size());  // serves: as wide as the field's highest entry
}

void Program::WalkGated(std::size_t t, const FieldContext& ctx) const {
  if (!early_[t].empty()) {
    RunEarlyGates(t, ctx);
    WalkFields<true>(index_[t], ctx, cand_.data());
    for (std::size_t w = 0; w < dead_.size(); ++w) cand_[w] &= ~dead_[w];
  } else {
    WalkFields<false>(index_[t], ctx, cand_.data());
  }
  for (const Gate& g : late_[t]) {
    uint64_t any = 0;
    for (std::size_t w = 0; w < g.mask.size(); ++w) any |= cand_[w] & g.mask[w];
    if (any == 0 || Eval(g.node, ctx)) continue;
    for (std::size_t w = 0; w < g.mask.size(); ++w) cand_[w] &= ~g.mask[w];
  }
}

template <bool kGated>
void Program::SearchNeedles(const FieldIndex& f, std::string_view v) const {
  for (const NeedleSlots& n : f.needles)
    if ((!kGated || std::any_of(n.slots.begin(), n.slots.end(),
                                [&](uint32_t s) { return (~dead_[s / 64] >> (s % 64)) & 1; })) &&
        n.needle.In(v))
      for (uint32_t s : n.slots) cand_[s / 64] |= uint64_t{1} << (s % 64);
}

template <bool kGated>
void Program::WalkFields(const std::vector<FieldIndex>& indexes, const FieldContext& ctx, uint64_t* out) const {
  for (const FieldIndex& f : indexes) {
    if (kGated && !AnyAlive(f.serves)) continue;
    const FieldValueRef* ref = f.field->Ref(ctx);
    if (ref == nullptr) continue;  // <NA>: every bounded check on it is false
    const std::string_view v = ref->str;
    const ByteTrie& head = f.tries[0];
    const ByteTrie& tail = f.tries[1];
    if (!head.empty() && (!kGated || AnyAlive(head.serves()))) Allow(head, head.Walk<false>(v), out);
    if (!tail.empty() && (!kGated || AnyAlive(tail.serves()))) Allow(tail, tail.Walk<true>(v), out);
    if (!f.needles.empty()) SearchNeedles<kGated>(f, v);
  }
}

void Program::CheckSecond(std::size_t t, const FieldContext& ctx) const {
  const std::vector<uint64_t>& need = need2_[t];
  std::fill_n(cand2_.begin(), need.size(), 0);  // the second tries hold only need2_ entries: no wider
  WalkFields<false>(second_[t], ctx, cand2_.data());
  for (std::size_t w = 0; w < need.size(); ++w) cand_[w] &= cand2_[w] | ~need[w];
}

template void Program::WalkFields<false>(const std::vector<FieldIndex>&, const FieldContext&, uint64_t*) const;

std::size_t Program::guarded_count(EventType type) const {
  const auto& es = entries_[static_cast<std::size_t>(type)];
  return static_cast<std::size_t>(
      std::count_if(es.begin(), es.end(), [](const Entry& e) { return e.slot != kUnguarded; }));
}

std::vector<std::string> Program::DescribeIndex(EventType type) const {
  std::vector<std::string> out;
  for (const FieldIndex& f : index_[static_cast<std::size_t>(type)]) {
    for (int end = 0; end < 2; ++end)
      if (!f.tries[end].empty())
        out.push_back(f.field->text + (end == 0 ? " prefix: " : " suffix: ") + std::to_string(f.tries[end].size()) +
                      " trie nodes");
    if (f.needles.empty()) continue;
    std::string line = f.field->text + " substring:";
    for (const NeedleSlots& n : f.needles)
      line += " " + n.needle.text() + " (" + std::to_string(n.slots.size()) + " entries)";
    out.push_back(std::move(line));
  }
  return out;
}

std::size_t Program::shared_count() const {
  return static_cast<std::size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.shared; }));
}

bool Program::EvalNode(const Node& n, const FieldContext& ctx) const {
  switch (n.op) {
    case Op::kLeaf:
      return n.leaf->Eval(ctx);
    case Op::kAnd:
      for (uint32_t i = n.first; i < n.first + n.count; ++i)
        if (!Eval(kids_[i], ctx)) return false;
      return true;
    case Op::kOr:
      for (uint32_t i = n.first; i < n.first + n.count; ++i)
        if (Eval(kids_[i], ctx)) return true;
      return false;
    case Op::kNot:
      return !Eval(kids_[n.first], ctx);
    case Op::kTrue:
      return true;
    case Op::kFalse:
      return false;
  }
  return false;
}

}  // namespace vigil::compile
