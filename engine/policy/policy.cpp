// SPDX-License-Identifier: Apache-2.0
// CompilePolicy: walk each enforcing rule's condition AST (macros and lists as
// the rules engine parsed and resolved them at load, so both compilers read one
// expansion) and map every check to one kernel dimension, or report the check
// that has none.
#include "engine/policy/policy.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "engine/condition/parser.h"  // kMaxDepth
#include "engine/fields/field_table.h"

namespace vigil::policy {
namespace {

using condition::CmpOp;
using condition::Node;

// Where a piece of condition text lives: the rule's condition or a macro body.
struct TextCtx {
  std::function<SourceLoc(uint32_t)> locate;
  std::string where;                  // "" for the rule itself, "in macro 'm': " otherwise
  const std::string* text = nullptr;  // the condition text offsets refer to
};

// The event types a rule with action deny/kill can name, and the kernel hook
// that decides each: the rows of the table of types (bpf/vigil_events.def)
// whose hook is not NONE.
struct HookNames {
  const char* type;
  HookClass hook;
};
constexpr int kHookNONE = -1, kHookEXEC = static_cast<int>(HookClass::kExec),
              kHookOPEN = static_cast<int>(HookClass::kOpen), kHookCONNECT = static_cast<int>(HookClass::kConnect),
              kHookBPF = static_cast<int>(HookClass::kBpf), kHookMODULE = static_cast<int>(HookClass::kModule),
              kHookMOUNT = static_cast<int>(HookClass::kMount), kHookPTRACE = static_cast<int>(HookClass::kPtrace),
              kHookSETUID = static_cast<int>(HookClass::kSetuid);
constexpr std::size_t kHookedTypes = 0
#define VG_EVENT(num, TYPE, name, kind, hook, families) +(kHook##hook != kHookNONE)
#include "bpf/vigil_events.def"
    ;
constexpr std::array<HookNames, kHookedTypes> BuildTypeHooks() {
  std::array<HookNames, kHookedTypes> t{};
  std::size_t n = 0;
#define VG_EVENT(num, TYPE, name, kind, hook, families) \
  if (kHook##hook != kHookNONE) t[n++] = {#name, static_cast<HookClass>(kHook##hook)};
#include "bpf/vigil_events.def"
  return t;
}
constexpr auto kTypeHooks = BuildTypeHooks();

class RuleCompiler {
 public:
  RuleCompiler(const RuleEngine& engine, const rules::RuleDef& def, const Node& condition, Diagnostics* diags,
               const PolicyLimits& limits)
      : engine_(engine), def_(def), condition_(condition), diags_(diags), limits_(limits) {}

  bool Compile(PolicyRule* out) {
    out_ = out;
    out->name = def_.name;
    out->loc = def_.loc;
    out->action = def_.action == "kill" ? Action::kKill : Action::kDeny;
    if (!def_.exceptions.empty()) {
      diags_->Error(def_.exceptions.front().loc, "rule", def_.name, "exceptions",
                    "action " + def_.action + ": exceptions cannot be decided in the kernel; "
                    "fold them into the condition or use action: alert");
      return false;
    }
    const rules::PiecedSource* src = &def_.condition_src;
    TextCtx ctx{[src](uint32_t off) { return src->Locate(off); }, "", &def_.condition};
    bool ok = Walk(condition_, ctx);
    if (ok && !have_hook_) {
      diags_->Error(def_.loc, "rule", def_.name, "condition",
                    "action " + def_.action + ": the condition needs an evt.type check naming one of exec, open, "
                    "connect, bpf, module load, mount, ptrace or setuid for the kernel to decide it");
      ok = false;
    }
    if (ok) ok = CheckHookFit();
    return ok;
  }

 private:
  bool Fail(const TextCtx& ctx, uint32_t offset, const std::string& message) {
    diags_->Error(ctx.locate(offset), "rule", def_.name, "condition",
                  "action " + def_.action + ": " + ctx.where + message);
    return false;
  }

  // Where the `or` keyword of a node sits (between its first two children), so the error points at it.
  static uint32_t KeywordOffset(const Node& n, const TextCtx& ctx, const char* keyword) {
    if (n.children.size() < 2 || ctx.text == nullptr) return n.offset;
    std::size_t at = ctx.text->find(keyword, n.children[0]->end);
    return at != std::string::npos && at < n.children[1]->offset ? static_cast<uint32_t>(at) : n.offset;
  }

  bool Walk(const Node& n, const TextCtx& ctx) {
    if (++depth_ > condition::kMaxDepth) return Fail(ctx, n.offset, "condition nests too deeply");
    struct Dec {
      int& d;
      ~Dec() { --d; }
    } dec{depth_};
    switch (n.kind) {
      case Node::Kind::kAnd: {
        bool ok = true;
        for (const auto& c : n.children) ok = Walk(*c, ctx) && ok;
        return ok;
      }
      case Node::Kind::kOr:
        return Fail(ctx, KeywordOffset(n, ctx, "or"), "'or' cannot be decided in the kernel (write alternatives of one field as 'in (...)')");
      case Node::Kind::kNot:
        return Fail(ctx, n.offset, "'not' cannot be decided in the kernel");
      case Node::Kind::kMacro: {
        auto it = engine_.macros().find(n.name);
        if (it == engine_.macros().end()) return Fail(ctx, n.offset, "unknown macro '" + n.name + "'");
        if (!it->second.ast) return Fail(ctx, n.offset, "macro '" + n.name + "' has errors");
        if (!expanding_.insert(n.name).second) return Fail(ctx, n.offset, "macro '" + n.name + "' refers to itself");
        const compile::ItemContext& body = it->second.ctx;
        bool ok = Walk(*it->second.ast, TextCtx{body.locate, "in macro '" + n.name + "': ", &body.text});
        expanding_.erase(n.name);
        return ok;
      }
      case Node::Kind::kCompare:
        return Compare(n, ctx);
    }
    return false;
  }

  // Values of a check, with list names expanded as the rules compiler expands them.
  bool Values(const Node& n, const TextCtx& ctx, std::vector<std::string>* out) {
    std::string error;
    uint32_t offset = 0;
    if (!compile::ExpandValues(n, engine_.lists(), out, &error, &offset)) return Fail(ctx, offset, error);
    if (out->empty() && n.op != CmpOp::kIn) return Fail(ctx, n.offset, "check has no value");
    return true;
  }

  // One comparison being mapped to a kernel dimension: the node, where its
  // text is, how errors name it, and its values with lists expanded.
  struct Cmp {
    const Node& n;
    const TextCtx& ctx;
    const std::string& f;  // the field's name
    std::string desc;      // "'field op'" for error messages
    std::vector<std::string> vals;
    bool set_op = false;  // '=' or 'in'
  };

  bool Fail(const Cmp& c, const std::string& message) { return Fail(c.ctx, c.n.offset, c.desc + ": " + message); }
  bool Unsupported(const Cmp& c, const char* allowed) {
    return Fail(c, "the kernel decides " + c.f + " only with " + allowed);
  }

  bool Compare(const Node& n, const TextCtx& ctx) {
    Cmp c{n, ctx, n.field.name, "'" + n.field.ToString() + " " + condition::CmpOpName(n.op) + "'", {},
          n.op == CmpOp::kEq || n.op == CmpOp::kIn};
    if (!n.field.transformers.empty() || n.field.has_arg || n.rhs_field)
      return Fail(c, "transformers, field arguments and val() cannot be decided in the kernel");
    if (!Values(n, ctx, &c.vals)) return false;
    const std::string& f = c.f;
    if (f == "evt.type") return c.set_op ? Hook(n, ctx, c.vals) : Unsupported(c, "'=' or 'in'");
    if (f == "proc.name" || f == "proc.pname") return CompareComm(c);
    if (f == "proc.exepath" || f == "proc.exe" || f == "fd.name" || f == "evt.arg.filename" || f == "fs.path.name" ||
        f == "evt.arg.path" || f == "fd.directory")
      return ComparePath(c);
    if (f == "evt.is_open_write" || f == "evt.is_open_read") {
      if (n.op != CmpOp::kEq || c.vals.size() != 1 || c.vals[0] != "true") return Unsupported(c, "'= true'");
      out_->access |= f == "evt.is_open_write" ? kAccessWrite : kAccessRead;
      return true;
    }
    if (f == "container.id") return ComparePlacement(c);
    if (f == "user.uid" || f == "fd.rport" || f == "fd.sport" || f == "bpf.cmd" || f == "bpf.prog.type")
      return CompareNumber(c);
    if (f == "bpf.prog.helpers") return CompareHelpers(c);
    if (f == "fd.rip" || f == "fd.sip" || f == "fd.rnet" || f == "fd.snet" || f == "fd.net") return CompareCidr(c);
    return Fail(c, "field " + f + " cannot be decided in the kernel");
  }

  bool CompareComm(const Cmp& c) {
    if (!c.set_op) return Unsupported(c, "'=' or 'in'");
    const bool self = c.f == "proc.name";
    auto& dst = self ? out_->comms : out_->parent_comms;
    for (const auto& v : c.vals) {
      if (v.empty() || v.size() > 15) return Fail(c, "'" + v + "' is not a task name (1..15 bytes)");
      dst.push_back(v);
    }
    return Intersect(c.ctx, c.n, self ? seen_comm_ : seen_pcomm_);
  }

  bool ComparePath(const Cmp& c) {
    const bool prefix = c.n.op == CmpOp::kStartsWith || c.f == "fd.directory";
    if (!c.set_op && !prefix) return Unsupported(c, "'=', 'in' or 'startswith'");
    if (c.f == "proc.exepath" || c.f == "proc.exe") path_is_exe_ = true;
    else path_is_file_ = true;
    for (const auto& v : c.vals) {
      if (v.empty() || v[0] != '/') return Fail(c, "'" + v + "' is not an absolute path");
      if (v.size() > limits_.max_path_bytes)
        return Fail(c, "path longer than " + std::to_string(limits_.max_path_bytes) + " bytes");
      std::string p = v;
      if (c.f == "fd.directory" && p.back() != '/') p += '/';
      out_->paths.push_back({p, prefix});
    }
    return Intersect(c.ctx, c.n, seen_path_);
  }

  bool ComparePlacement(const Cmp& c) {
    if ((c.n.op != CmpOp::kEq && c.n.op != CmpOp::kNe) || c.vals.size() != 1 || c.vals[0] != "host")
      return Unsupported(c, "'= host' or '!= host'");
    Placement p = c.n.op == CmpOp::kEq ? Placement::kHost : Placement::kContainer;
    if (out_->placement != Placement::kAny && out_->placement != p)
      return Fail(c, "contradicts an earlier container.id check");
    out_->placement = p;
    return true;
  }

  bool CompareNumber(const Cmp& c) {
    if (!c.set_op) return Unsupported(c, "'=' or 'in'");
    const bool port = c.f == "fd.rport" || c.f == "fd.sport";
    for (const auto& v : c.vals) {
      uint64_t x = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), x);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || x > (port ? 65535 : 0xffffffffu))
        return Fail(c, "'" + v + "' is not a number in range");
      if (c.f == "user.uid") out_->uids.push_back(static_cast<uint32_t>(x));
      else if (c.f == "bpf.cmd") out_->bpf_cmds.push_back(static_cast<uint32_t>(x));
      else if (c.f == "bpf.prog.type") out_->prog_types.push_back(static_cast<uint32_t>(x));
      else out_->ports.push_back(static_cast<uint16_t>(x));
    }
    return Intersect(c.ctx, c.n, seen_num_[c.f]);
  }

  // A list field: the rule matches a program that calls at least one listed helper.
  bool CompareHelpers(const Cmp& c) {
    if (c.n.op != CmpOp::kIntersects && c.n.op != CmpOp::kContains) return Unsupported(c, "'intersects' or 'contains'");
    for (const auto& v : c.vals) {
      uint32_t x = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), x);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || x >= kMaxHelperId)
        return Fail(c, "'" + v + "' is not a helper id (0.." + std::to_string(kMaxHelperId - 1) + ")");
      out_->helpers.push_back(x);
    }
    return Intersect(c.ctx, c.n, seen_num_[c.f]);
  }

  bool CompareCidr(const Cmp& c) {
    if (!c.set_op) return Unsupported(c, "'=' or 'in'");
    for (const auto& v : c.vals) {
      Cidr cidr;
      if (!ParseCidr(v, &cidr)) return Fail(c, "'" + v + "' is not an address or CIDR");
      out_->cidrs.push_back(cidr);
    }
    return Intersect(c.ctx, c.n, seen_cidr_);
  }

  // Two checks on the same dimension would need an intersection of sets; refuse it.
  bool Intersect(const TextCtx& ctx, const Node& n, bool& seen) {
    if (seen) return Fail(ctx, n.offset, "a second check on " + n.field.name + " in one rule cannot be decided in the kernel");
    seen = true;
    return true;
  }

  bool Hook(const Node& n, const TextCtx& ctx, const std::vector<std::string>& vals) {
    for (const auto& v : vals) {
      const HookNames* hit = nullptr;
      for (const auto& h : kTypeHooks)
        if (v == h.type) hit = &h;
      if (hit == nullptr) return Fail(ctx, n.offset, "event type '" + v + "' has no kernel enforcement hook");
      if (have_hook_ && out_->hook != hit->hook)
        return Fail(ctx, n.offset, std::string("event types of two hook classes (") + HookClassName(out_->hook) +
                                       ", " + HookClassName(hit->hook) + ") in one rule; split it into two rules");
      out_->hook = hit->hook;
      have_hook_ = true;
    }
    return true;
  }

  // Dimensions a hook class cannot see.
  bool CheckHookFit() {
    auto err = [&](const std::string& what) {
      diags_->Error(def_.loc, "rule", def_.name, "condition",
                    "action " + def_.action + ": " + what + " cannot be decided at the " + HookClassName(out_->hook) +
                        " hook");
      return false;
    };
    HookClass h = out_->hook;
    if (!out_->paths.empty()) {
      if (h == HookClass::kExec && path_is_file_ && !path_is_exe_) {
      } else if (h == HookClass::kExec) {
      } else if (h == HookClass::kOpen && !path_is_exe_) {
      } else if (h == HookClass::kOpen) {
        return err("proc.exepath (the acting binary)");
      } else {
        return err("a path");
      }
    }
    if (out_->access != 0 && h != HookClass::kOpen) return err("the open access mode");
    if ((!out_->ports.empty() || !out_->cidrs.empty()) && h != HookClass::kConnect) return err("a remote address");
    if ((!out_->bpf_cmds.empty() || !out_->prog_types.empty() || !out_->helpers.empty()) && h != HookClass::kBpf)
      return err("a bpf() argument");
    return true;
  }

  const RuleEngine& engine_;
  const rules::RuleDef& def_;
  const Node& condition_;  // the rule's condition as the engine parsed it at load
  Diagnostics* diags_;
  const PolicyLimits& limits_;
  std::set<std::string> expanding_;
  PolicyRule* out_ = nullptr;
  int depth_ = 0;
  bool have_hook_ = false;
  bool seen_comm_ = false, seen_pcomm_ = false, seen_path_ = false, seen_cidr_ = false;
  bool path_is_exe_ = false, path_is_file_ = false;
  std::map<std::string, bool> seen_num_;
};

template <typename T>
void Dedupe(std::vector<T>* v) {
  std::vector<T> out;
  for (auto& x : *v)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  *v = std::move(out);
}

}  // namespace

const char* HookClassName(HookClass c) {
  switch (c) {
    case HookClass::kExec: return "exec";
    case HookClass::kOpen: return "open";
    case HookClass::kConnect: return "connect";
    case HookClass::kBpf: return "bpf";
    case HookClass::kModule: return "module load";
    case HookClass::kMount: return "mount";
    case HookClass::kPtrace: return "ptrace";
    case HookClass::kSetuid: return "setuid";
  }
  return "?";
}

bool ParseCidr(const std::string& text, Cidr* out) {
  // One address syntax for rules and policy: the condition compiler's parser.
  IpAddr ip;
  uint16_t family = 0;
  int len = 0;
  if (!vigil::ParseCidr(text, &ip, &family, &len)) return false;
  Cidr c;
  c.v6 = family == 10;
  c.addr = ip.bytes;
  c.prefix_len = static_cast<uint8_t>(len);
  // Zero host bits so equal networks compare equal.
  for (int bit = len; bit < 128; ++bit) c.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  *out = c;
  return true;
}

std::optional<PolicySpec> CompilePolicy(const RuleEngine& engine, Diagnostics* diags, const PolicyLimits& limits) {
  PolicySpec spec;
  bool ok = true;
  std::map<std::string, const rules::RuleDef*> defs;
  for (const auto& d : engine.document().rules) defs[d.name] = &d;
  for (const auto& rule : engine.rules()) {
    if (!rule->enabled || (rule->action != "deny" && rule->action != "kill")) continue;
    auto it = defs.find(rule->name);
    if (it == defs.end() || !rule->condition_ast) continue;
    PolicyRule pr;
    RuleCompiler rc(engine, *it->second, *rule->condition_ast, diags, limits);
    if (!rc.Compile(&pr)) {
      ok = false;
      continue;
    }
    Dedupe(&pr.comms);
    Dedupe(&pr.parent_comms);
    Dedupe(&pr.paths);
    Dedupe(&pr.uids);
    Dedupe(&pr.ports);
    Dedupe(&pr.cidrs);
    Dedupe(&pr.bpf_cmds);
    Dedupe(&pr.prog_types);
    Dedupe(&pr.helpers);
    pr.id = static_cast<uint32_t>(spec.rules.size());
    spec.rules.push_back(std::move(pr));
  }
  // Capacity: count the entries each map needs; over the limit is an error, never a partial policy.
  std::size_t comms = 0, paths = 0, uids = 0, ports = 0, cidrs = 0, bpfv = 0;
  for (const auto& r : spec.rules) {
    comms += r.comms.size() + r.parent_comms.size();
    paths += r.paths.size();
    uids += r.uids.size();
    ports += r.ports.size();
    cidrs += r.cidrs.size();
    bpfv += r.bpf_cmds.size() + r.prog_types.size() + r.helpers.size();
  }
  auto over = [&](std::size_t n, std::size_t max, const char* what) {
    if (n <= max) return;
    diags->Error(SourceLoc{}, "", "", "", std::string("the enforcing rules need ") + std::to_string(n) + " " +
                                                    what + " entries; the kernel maps hold " + std::to_string(max));
    ok = false;
  };
  over(spec.rules.size(), limits.max_rules, "rule");
  over(comms, limits.max_comms, "process-name");
  over(paths, limits.max_paths, "path");
  over(uids, limits.max_uids, "uid");
  over(ports, limits.max_ports, "port");
  over(cidrs, limits.max_cidrs, "address/CIDR");
  over(bpfv, limits.max_bpf_values, "bpf command/program-type/helper");
  if (!ok) return std::nullopt;
  return spec;
}

}  // namespace vigil::policy
