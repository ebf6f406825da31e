// SPDX-License-Identifier: Apache-2.0
// The field table: every name a condition or output template can use, its
// type, a description (what `vigil fields` and docs/fields.md print), and how
// to read it from a vigil::Event (and, for rule tests, how to set it).
//
// Contract:
// - Lookup (FindField) happens at load/compile time only. The compiled rule
//   keeps the FieldDef pointer and a parsed FieldArg; per event it calls
//   `get` directly: no name lookup, no throw, and no allocation once the
//   Scratch buffers have grown to their working size.
// - A getter returns false when the value is not available for this event
//   ("<NA>"): a check on it is false, an output renders "<NA>". Fields that a
//   host cannot know (container.image.*, k8s.*, ...) are in the table with
//   `available == false`; they always return false, like Falco without the
//   plugin that would provide them, and are not load errors.
// - Values returned through FieldValueRef may point into the Event or into
//   the Scratch passed in; they stay valid until that Scratch is reused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"

namespace vigil {

class DnsCache;  // engine/state/dns_cache.h

enum class FieldType : uint8_t {
  kString,
  kNumber,      // signed 64-bit
  kBool,
  kIpAddr,      // compares with addresses
  kIpNet,       // compares with CIDR networks (a single address also matches)
  kStringList,  // a check is true when any element satisfies it
};

std::string_view FieldTypeName(FieldType t);

// Host facts that are not in the Event: filled once at start.
struct HostInfo {
  std::string hostname;
  // uid/gid -> name from /etc/passwd and /etc/group (read at start).
  std::vector<std::pair<uint32_t, std::string>> users;
  std::vector<std::pair<uint32_t, std::string>> groups;
  // The host's namespaces: those of PID 1, read once at start (0 = unknown).
  // Where /proc/1/ns is unreadable (some sandboxes deny it even to root), pid,
  // user, uts, ipc and cgroup fall back to the kernel's fixed initial-namespace
  // inode numbers and mnt/net to this process's own: host_ns_source says which.
  Namespaces host_ns;
  std::string host_ns_source;
  // The pid of the vigil process whose live events this engine evaluates
  // (FromSystem: this process's own): `proc.is_vigil_self` is true for its
  // events, so the default rules do not alert on the agent's own start-up
  // (feature probes, self-protection). 0 where the events were recorded by
  // another process (replay, explain of a recorded event): never true there.
  uint32_t sensor_pid = 0;
  // The DNS names the rules compare fd.*ip.name with and their addresses
  // (engine/fields/dns.h). RuleEngine::FromDocument makes one when
  // null; it resolves only once started (`vigil run` starts it).
  std::shared_ptr<DnsCache> dns;

  static HostInfo FromSystem();
  const std::string* UserName(uint32_t uid) const;
  const std::string* GroupName(uint32_t gid) const;
};

// The bracketed argument of a field (`proc.aname[2]`, `container.mount.dest[/etc]`).
struct FieldArg {
  bool present = false;
  int index = 0;    // numeric arguments
  std::string key;  // the raw text
};

struct Scratch {
  std::string buf;
  std::vector<std::string_view> list;
  std::vector<std::string> owned;  // list elements that had to be built
};

struct FieldValueRef {
  std::string_view str;
  int64_t num = 0;
  bool boolean = false;
  IpAddr ip;
  uint16_t family = 0;                              // 2 or 10 for kIpAddr/kIpNet
  const std::vector<std::string_view>* list = nullptr;  // kStringList
  // "Either end" fields (fd.ip, fd.net, fd.port): a second value; a check is
  // true when it holds for either.
  bool has_second = false;
  IpAddr ip2;
  int64_t num2 = 0;
  // kString: `str` holds binary bytes (evt.buffer): checks compare the bytes,
  // outputs render them with RenderBuffer.
  bool bytes = false;
};

// One field value computed for one event, shared by every check that reads
// the same field (proc.cmdline, evt.arg.flags... are built once per event).
struct FieldCacheSlot {
  uint64_t event_num = 0;  // the event the value belongs to (0: empty)
  bool available = false;
  FieldValueRef value;
  Scratch scratch;
};

struct FieldContext {
  const Event* event = nullptr;
  const HostInfo* host = nullptr;
  uint64_t event_num = 1;  // evt.num: events the engine has evaluated, from 1; unique per evaluated event
  FieldCacheSlot* cache = nullptr;  // indexed by FieldAccessor::cache_slot; null: no caching
};

enum class ArgKind : uint8_t { kNone, kIndex, kOptionalIndex, kAny };

struct FieldDef;
using FieldGetter = bool (*)(const FieldDef& def, const FieldContext& ctx, const FieldArg& arg, Scratch& scratch,
                             FieldValueRef* out);
// Sets the field on an event from text (rule tests). Returns an error message or "".
using FieldSetter = std::string (*)(Event& event, OwnedAncestors& ancestors, const FieldArg& arg,
                                    std::string_view text);

// One row of the table. The rows live in their family's file
// (engine/fields/<family>.cpp: evt, proc, fd, user, container, ...), each
// family with an enum of its fields in row order; `id` is the row's value in
// that enum, which a getter serving several rows (proc.name, proc.pname,
// proc.aname[N]...) switches on.
struct FieldDef {
  uint16_t id;
  const char* name;
  FieldType type;
  ArgKind arg_kind;
  bool available;  // false: always "<NA>" on this host (needs a plugin vigil does not have)
  const char* description;
  FieldGetter get;
  FieldSetter set;  // nullptr: tests cannot set it
};

// The type a check sees: an indexed ancestor list field (proc.aname[2]) is a scalar.
FieldType EffectiveType(const FieldDef& def, const FieldArg& arg);

// The ancestor fields without an index (proc.aname, proc.apid, proc.aexe,
// proc.aexepath, proc.acmdline): a comparison is true when it holds for ANY
// ancestor, each compared alone, as libsinsp's compare_full_aname() and its
// siblings do (so `proc.aname in (a, b)` is true when some ancestor is a or b,
// and `proc.aname != x` when some ancestor is not x). Other list fields
// (bpf.prog.helpers) keep libsinsp's list semantics: `in` needs every element.
bool ComparesEachAncestor(const FieldDef& def, const FieldArg& arg);

// proc.env, proc.aenv, proc.env_truncated: a rule or output reading one needs
// the capture to copy the environment at exec (engine/interest.h).
bool FieldNeedsEnv(const FieldDef& def);
// evt.buffer: a rule or output reading it needs the capture to copy the
// payload of data calls (engine/interest.h; engine/fields/field_buffer.cpp).
bool FieldNeedsBuffer(const FieldDef& def);
// A data buffer as outputs print it: printable ASCII as is, every other byte
// as '.' (Falco's default buffer format).
void RenderBuffer(std::string_view bytes, std::string* out);

// Every field, in documentation order.
const std::vector<FieldDef>& AllFields();

// Resolves `name` (without the bracket argument). Also resolves Falco's
// families by prefix: any `evt.arg.X` / `evt.rawarg.X` (the X-named argument),
// any `k8s.*`, `container.image.*`, ... (unavailable). nullptr if unknown.
const FieldDef* FindField(std::string_view name);

// Parses the bracket text for `def`; returns an error message or "".
std::string ParseFieldArg(const FieldDef& def, std::string_view text, bool has_brackets, FieldArg* out);

// IPv4 dotted quad or IPv6 text -> address and family (2 or 10).
bool ParseIpText(std::string_view text, IpAddr* addr, uint16_t* family);
// "a.b.c.d/len", "v6/len" or a bare address (full length) -> network.
bool ParseCidr(std::string_view text, IpAddr* addr, uint16_t* family, int* prefix_len);

// docs/fields.md, generated from the table (a test keeps the file in sync).
std::string FieldsMarkdown();

// Renders a value as Falco prints it in outputs.
void RenderFieldValue(FieldType type, const FieldValueRef& v, std::string* out);

// Capability names for a capability bit set, space-separated ("CAP_CHOWN CAP_SYS_ADMIN").
void RenderCaps(uint64_t caps, std::string* out);

// A time a utimensat-family call set (FileArgs::atime/mtime): ISO 8601 UTC
// with ns, "now" or "omit"; nothing for kFileTimeUnset.
void RenderFileTime(int64_t t, std::string* out);

// Open flags as Falco prints them ("O_WRONLY|O_CREAT|O_TRUNC").
void RenderOpenFlags(uint32_t flags, std::string* out);
// A chmod-family mode as libsinsp renders it (its chmod_mode table): the set
// permission bits by name, lowest bit first, '|'-separated
// ("S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID" for 04755);
// "0" when no bit is set.
void RenderChmodMode(uint32_t mode, std::string* out);
// Inverse of RenderOpenFlags: "O_WRONLY|O_CREAT"; false on an unknown name.
bool ParseOpenFlags(std::string_view text, uint32_t* out);
// "SUCCESS" for res >= 0, else the errno name ("ENOENT"), else the number.
std::string_view ResultName(int64_t res, std::string* buf);

}  // namespace vigil
