// SPDX-License-Identifier: Apache-2.0
// Interest: which event types a loaded ruleset can use, so that the capture
// can leave the others in the kernel (docs/capture.md, "Interest filter").
//
// Contract:
// - DeriveInterest() is conservative: an event of a type outside `types`
//   cannot make any enabled rule fire, and leaving it out does not change
//   what the process table tells the rules about other events (see
//   kStateEventTypes). A rule is evaluated only for the event types of its
//   index (CompiledRule::types, derived from its evt.type checks through
//   and/or/not), so a rule whose condition does not restrict evt.type has
//   every type. Exceptions only ever make a rule match less, so they are not
//   consulted.
// - Disabled rules contribute nothing; a reload derives the set again.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compile/checks.h"
#include "engine/rule_engine.h"

namespace vigil {

// Events the process table (engine/state) learns from whatever rules are
// loaded: fork/clone/exec/exit build the tree and the images that ancestor
// fields (proc.pname, proc.aname[N], ...) read; set*id, capset, setns and
// unshare change the credentials and namespaces it keeps for a process and
// are reported by no later event of their own.
compile::EventTypeSet StateEventTypes();

// The types a kernel record can carry (the synthesized ones, such as
// `container`, never reach the capture's mask: engine/event.h).
compile::EventTypeSet KernelEventTypes();

struct Interest {
  compile::EventTypeSet types;       // sent: rules | state
  compile::EventTypeSet rule_types;  // the union of the enabled rules' event types
  compile::EventTypeSet state_types; // StateEventTypes()
  // An enabled rule whose condition does not restrict evt.type (it needs every
  // event; first one found), or "" when there is none.
  std::string unrestricted_rule;
  // Exec records carry the environment: an enabled rule reads proc.env (its
  // condition, exceptions or output); env_rule is the first such rule.
  bool env = false;
  std::string env_rule;
  // The send/recv family's records carry the payload's first bytes: an
  // enabled rule reads evt.buffer; buffer_rule is the first such rule.
  bool buffer = false;
  std::string buffer_rule;
};

Interest DeriveInterest(const RuleEngine& engine);

// The open path filter (docs/capture.md, "Open path filter"): a second,
// conservative level for the open family (open, openat, openat2, creat),
// derived per access class: what the kernel knows of an open's flags at the
// syscall (OpenClassOf()) splits opens into reads and writes, and a rule
// that cannot hold for a read open bounds only the write class.
//
// Contract:
// - DeriveOpenPathFilters() gives, per class, when it can, a set of path
//   prefixes such that an open of that class whose given path passes
//   OpenPathKernelCheckable() and starts with none of them cannot make any
//   enabled rule fire. Per enabled rule and open type, a rule that cannot
//   hold on an open of the class (compile::Program::CanHold with only the
//   class known: evt.is_open_write, evt.is_open_read, evt.is_open_create,
//   evt.is_open_exec and `evt.arg.flags contains O_...` have a value on every
//   open of it; evt.is_compat and evt.is_compat_from_64bit are false, since
//   the kernel sends every 32-bit call's open) imposes nothing on it;
//   otherwise the bound is the prefilter index's analysis (compile::Program::PrefixBound) restricted to fd.name
//   and fd.directory without transformers: for a path the kernel can check,
//   fd.name is the given path (the decoder's lexical normalisation only drops
//   a trailing '/', so a prefix of fd.name is a prefix of the path) and
//   fd.directory is a prefix of fd.name. A rule that can hold on the class
//   without such a bound, or with an empty prefix, leaves that class's filter
//   off (`active` false: every open of the class is sent, `unbounded_rule`
//   names it). Exceptions are part of a rule's check and only narrow it, so
//   they never widen what is dropped.
// - `extra` prefixes pass too, in both classes (built-in readers of opens such
//   as self-protection, whose /proc/<pid>/mem check reads fd.name).
// - The kernel compares the first kOpenPathWindow bytes: a prefix longer
//   than that is cut to it (more passes, never fewer).
// - The process table's descriptor table learns names from opens
//   (docs/state.md "Descriptors"): an enabled rule on a call whose fd.name
//   comes from it (NamesFdFromOpen(): fchmod, fchown, ftruncate, ...) whose
//   check or `correlate:` reads the name (fd.name, fd.directory,
//   fd.filename, fs.path.*; not fd.name.resolved, the kernel's path) leaves the filter off for both classes, except
//   that ftruncate on a read-class descriptor always fails (EINVAL), so a
//   rule on it that requires success (evt.rawres = 0 or >= 0, evt.res =
//   SUCCESS) leaves the read class alone.
//   A rule that only prints the name in its output keeps the filter: its
//   alert names the kernel's path of the file where the open stayed in the
//   kernel, as for a descriptor opened before vigil started.
//
// The resolved test (docs/capture.md, "Open path filter"): a rule that the
// given path does not bound may still be bounded by fd.name.resolved, the
// kernel's path of the opened file (symlinks resolved). Per class, a rule is
// bounded when every way it can hold on the class (compile::Program::LeafBound
// with the class's known leaves, as above) needs one of: fd.name or
// fd.directory starting with a prefix (joins `prefixes`), or fd.name.resolved
// whose first component (`top`) equals a name or starts with a prefix, or
// whose last component (`leaf`) equals a name or ends with a suffix. These
// come from the prefilter index's beginnings and endings of the leaf
// (compile::Check::PrefixGuard, SuffixGuard): an ending containing '/' gives
// the leaf name after its last '/', one without gives a leaf suffix; a
// beginning "/a/..." gives top "a", one without a second '/' a top prefix.
// A class with such a rule is `resolved`: an open of it whose given path
// fails `prefixes` is still sent unless it succeeded and the kernel's walk of
// the opened file reached the root (a complete chain: then fd.name.resolved
// is that path, bpf/decoder.h JoinNames) and the path passes none of the four
// sets. A failed open (fd.name.resolved is then the given path) and an
// incomplete walk are sent. The kernel reads at most kResolvedNameWindow
// bytes of a component: a longer top name or prefix is cut to it (more
// passes), a longer leaf is always sent.
inline constexpr std::size_t kOpenPathWindow = 119;
inline constexpr std::size_t kOpenPrefixesMax = 4096;

// An open's access class, from the flags it was called with: write when it
// asks for write access (O_WRONLY, O_RDWR, or the invalid 3), O_CREAT,
// O_TRUNC, O_APPEND or O_TMPFILE, or is creat(); read otherwise. bpf/file.bpf.h
// vg_open_class() mirrors this.
enum class OpenClass : uint8_t { kRead = 0, kWrite = 1 };
inline constexpr std::size_t kOpenClassCount = 2;
inline constexpr uint32_t kOpenWriteFlags = 020003103;  // O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE
OpenClass OpenClassOf(EventType type, uint32_t flags);
const char* OpenClassName(OpenClass c);  // "read", "write"

// One class's filter.
struct OpenPathFilter {
  bool active = false;
  // Sorted; none is a prefix of another (only the shortest of a chain is
  // kept: the kernel needs one match).
  std::vector<std::string> prefixes;
  std::string unbounded_rule;  // why not active: the first rule without a bound ("" when active)
  std::vector<std::string> unbounded_rules;  // every enabled rule that needs this class's opens unbounded
  std::size_t bounded_rules = 0;  // enabled rules on the open family that can hold for the class, each bounded
  // The resolved test (see the contract); sorted, unique.
  bool resolved = false;
  std::vector<std::string> top_names, top_prefixes, leaf_names, leaf_suffixes;
  std::vector<std::string> resolved_rules;  // the rules bounded through fd.name.resolved
};

// One key of the resolved test as the kernel looks it up (bpf/vigil_abi.h
// struct vg_open_key, kinds VG_OPEN_KIND_TOP and VG_OPEN_KIND_LEAF): a
// component matches when a key is a prefix of it. A top is looked up as its
// first kResolvedNameWindow bytes and a NUL; a leaf reversed, with its NUL.
inline constexpr std::size_t kResolvedNameWindow = 63;
inline constexpr std::size_t kResolvedKeysMax = 1024;  // per class
enum class ResolvedKind : uint8_t { kTop = 1, kLeaf = 2 };
struct ResolvedKey {
  ResolvedKind kind;
  std::string bytes;
  bool operator<(const ResolvedKey& o) const { return kind != o.kind ? kind < o.kind : bytes < o.bytes; }
  bool operator==(const ResolvedKey& o) const = default;
};
std::vector<ResolvedKey> OpenResolvedKeys(const OpenPathFilter& filter);

struct OpenPathFilters {
  OpenPathFilter cls[kOpenClassCount];
  const OpenPathFilter& of(OpenClass c) const { return cls[static_cast<std::size_t>(c)]; }
  bool active() const { return cls[0].active || cls[1].active; }
};

bool IsOpenFamily(EventType type);
OpenPathFilters DeriveOpenPathFilters(const RuleEngine& engine, const std::vector<std::string>& extra = {});

// Whether the kernel may judge an open by its given path ("plain"): absolute,
// at most kOpenPathWindow bytes, and no '/' followed by '/' or '.' (so no
// empty, `.` or `..` component; a name starting with '.' is left to user
// space too, which keeps the kernel's test to word compares).
// bpf/file.bpf.h vg_open_path_passes() mirrors this.
bool OpenPathKernelCheckable(std::string_view path);
// One class's decision for an open whose given path is `path`: true = sent.
// An inactive filter sends every open; a path the kernel cannot check is sent.
bool OpenPathPasses(const OpenPathFilter& filter, std::string_view path);
// The kernel's decision for a native (not 32-bit) open of `type` called
// with `flags`.
bool OpenPathPasses(const OpenPathFilters& filters, EventType type, uint32_t flags, std::string_view path);
// The resolved test's decision for a successful open whose fd.name.resolved
// is `resolved` (true = sent): a path that is not absolute, is "/" or has an
// empty first or last component, or a leaf longer than the window, is sent.
bool ResolvedPathPasses(const OpenPathFilter& filter, std::string_view resolved);
// The kernel's decision for the open `e` (a 32-bit call's is always sent):
// its given path passes, or its class is `resolved` and the open failed or
// its resolved path passes.
bool OpenPathPasses(const OpenPathFilters& filters, const Event& e);

// The event type names of `set`, comma-separated, in EventType order.
std::string EventTypeNames(const compile::EventTypeSet& set);

}  // namespace vigil
