// SPDX-License-Identifier: Apache-2.0
// Kernel policy: the enforcing rules (`action: deny|kill`) of a loaded
// RuleEngine, compiled to plain data the BPF enforcement programs can decide
// on their own (bpf/enforce/ writes it into policy maps).
//
// What compiles (docs/enforcement.md has the full table): a condition that is
// a conjunction (`and`) of checks, after macros and lists are expanded, each
// check one of
//   evt.type = X | evt.type in (...)              -> the hook class (required, one class)
//   proc.name = | in                              -> task comm (exec: the new image's name)
//   proc.pname = | in                             -> parent task comm
//   proc.exepath|proc.exe|fd.name|evt.arg.filename|fs.path.name  = | in | startswith
//                                                  -> target path (exec: the binary; open: the file)
//   evt.is_open_write|evt.is_open_read = true     -> open access mode
//   user.uid = | in                               -> uid
//   container.id = host | != host                 -> host / container (pid namespace level)
//   fd.rport|fd.sport = | in                      -> remote port (connect)
//   fd.rip|fd.sip|fd.rnet|fd.snet|fd.net = | in    -> remote address / CIDR (connect)
//   bpf.cmd = | in, bpf.prog.type = | in           -> bpf(2) command, program type
//   bpf.prog.helpers intersects (...) | contains N -> BPF_PROG_LOAD of a program calling one of
//                                                     these helper ids (0..kMaxHelperId-1)
// `or` and `not` are refused: the kernel form is "every listed dimension
// matches one of its values"; alternatives inside one field are written with
// `in (...)`. Exceptions on an enforcing rule are refused too.
//
// Contract: CompilePolicy() never throws. Every enforcing rule either becomes
// a PolicyRule or produces an error on `diags` naming file:line:col, the rule
// and the part that cannot run in the kernel; a policy over the limits in
// PolicyLimits is an error. On any error the result is nullopt — never a
// partial policy.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/rule_engine.h"

namespace vigil::policy {

// The kernel hook family a rule is decided at.
enum class HookClass : uint8_t { kExec, kOpen, kConnect, kBpf, kModule, kMount, kPtrace, kSetuid };
inline constexpr std::size_t kHookClassCount = 8;
const char* HookClassName(HookClass c);

enum class Action : uint8_t { kDeny, kKill };

struct PathMatch {
  std::string path;
  bool prefix = false;  // startswith; otherwise equal
  bool operator==(const PathMatch&) const = default;
};

// An IPv4 or IPv6 network; a single address is a /32 or /128.
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  uint8_t prefix_len = 0;
  bool operator==(const Cidr&) const = default;
};

inline constexpr uint32_t kAccessRead = 1, kAccessWrite = 2;
// Helper ids the kernel policy can name (the capture reports the same range).
inline constexpr uint32_t kMaxHelperId = 256;

enum class Placement : uint8_t { kAny, kHost, kContainer };

// One enforcing rule in kernel form. An empty vector means "any value".
struct PolicyRule {
  uint32_t id = 0;  // index in PolicySpec::rules, what the kernel reports on a refusal
  std::string name;
  SourceLoc loc;
  Action action = Action::kDeny;
  HookClass hook = HookClass::kExec;
  std::vector<std::string> comms;
  std::vector<std::string> parent_comms;
  std::vector<PathMatch> paths;
  uint32_t access = 0;  // kAccessRead|kAccessWrite, all required; 0 = any
  std::vector<uint32_t> uids;
  Placement placement = Placement::kAny;
  std::vector<uint16_t> ports;
  std::vector<Cidr> cidrs;
  std::vector<uint32_t> bpf_cmds;
  std::vector<uint32_t> prog_types;
  std::vector<uint32_t> helpers;  // BPF_PROG_LOAD: the program calls at least one of these
};

// Sizes of the kernel maps (per policy generation); bpf/enforce uses the same numbers.
struct PolicyLimits {
  std::size_t max_rules = 64;  // rules are bits of a u64 mask in the kernel
  std::size_t max_comms = 16384;
  std::size_t max_paths = 32768;
  std::size_t max_uids = 4096;
  std::size_t max_ports = 4096;
  std::size_t max_cidrs = 16384;
  std::size_t max_bpf_values = 1024;
  std::size_t max_path_bytes = 254;  // longest path the kernel key holds
};

struct PolicySpec {
  std::vector<PolicyRule> rules;
};

// Compiles every enabled rule with action deny or kill. Rules with action
// alert are ignored.
std::optional<PolicySpec> CompilePolicy(const RuleEngine& engine, Diagnostics* diags,
                                        const PolicyLimits& limits = PolicyLimits{});

// Parses "10.0.0.0/8", "1.2.3.4", "fd00::/8" (false on a malformed value).
bool ParseCidr(const std::string& text, Cidr* out);

}  // namespace vigil::policy
