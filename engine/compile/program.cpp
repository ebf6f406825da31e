// SPDX-License-Identifier: Apache-2.0
#include "engine/compile/program.h"

#include <algorithm>

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

bool Program::Add(EventType type, const Check& check, const void* rule) {
  building_ = static_cast<uint8_t>(type);
  const uint32_t root = Build(type, check);
  if (nodes_[root].op == Op::kFalse) return false;
  entries_[static_cast<std::size_t>(type)].push_back({rule, root});
  return true;
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

bool Program::Eval(uint32_t node, const FieldContext& ctx) const {
  const Node& n = nodes_[node];
  if (!n.shared) return EvalNode(n, ctx);
  Memo& m = memo_[node];
  if (m.event_num != ctx.event_num) {
    m.value = EvalNode(n, ctx);
    m.event_num = ctx.event_num;
  }
  return m.value;
}

}  // namespace vigil::compile
