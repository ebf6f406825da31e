/* SPDX-License-Identifier: Apache-2.0 */
// The capture sensor: loads vigil's BPF object, attaches what this kernel
// supports, and turns ring-buffer records into enriched vigil::Events on one
// hot thread (poll -> decode -> cgroup/container -> process table -> callback).
//
// Contract:
// - Open() is the start-up boundary: it probes features, switches off the
//   programs whose hooks are missing (reported in disabled()), loads and
//   attaches. Not root, no BTF, no ring buffer or nothing attachable -> nullptr
//   and a message in *error naming what is missing. Never throws.
// - Poll() and everything after Open() run on one thread (the hot thread);
//   the callback runs on it and must not keep the Event (it is reused) nor the
//   ancestor view beyond the call.
// - Nothing is dropped silently: kernel-side losses are in ReadCounters(),
//   decoder rejects in decode_stats(), process-table evictions in table_stats().
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/decoder.h"
#include "bpf/features.h"
#include "bpf/object_ids.h"
#include "bpf/procfs/cgroup_resolver.h"
#include "engine/event.h"
#include "engine/non_copyable.h"
#include "engine/state/container_meta.h"
#include "engine/state/process_table.h"

namespace vigil::capture {

// Which build of the BPF object to load (bpf/CMakeLists.txt): kTyped uses the
// bpf_rdonly_cast kfunc (Linux 6.2+) for direct loads where the compat build
// reads with helpers; kLegacy (no bpf_loop: 5.8-5.16) reads everything with
// helpers and walks paths in bounded loops. kAuto takes kTyped when this
// kernel lets a tracepoint program call the kfunc (Features::rdonly_cast),
// else kCompat when it has bpf_loop, else kLegacy.
enum class BpfBuild { kAuto, kTyped, kCompat, kLegacy };

// "auto", "typed", "compat", "legacy"; false for anything else.
bool ParseBpfBuild(std::string_view s, BpfBuild* out);
std::string_view BpfBuildName(BpfBuild b);

// The two programs on every syscall's raw entry and exit that capture 32-bit
// (int 0x80) calls (bpf/compat.bpf.h). kAuto loads them unless the kernel
// refuses 32-bit syscalls (Features::ia32 is kOff: nothing for them to see,
// and they would still run on every call).
enum class Ia32Programs { kAuto, kOn, kOff };
bool ParseIa32Programs(std::string_view s, Ia32Programs* out);  // "auto" | "on" | "off

// At most this many priority paths (VG_PRIO_PATHS_MAX).
inline constexpr std::size_t kMaxPriorityPaths = 64;

// Why `p` cannot be a priority path ("" when it can): not absolute, a NUL,
// longer than the kernel compares.
std::string PriorityPathProblem(const std::string& p);

// capture.priority_paths by default: credential and authentication files.
std::vector<std::string> DefaultPriorityPaths();

struct SensorOptions {
  uint32_t ringbuf_bytes = 16u << 20;  // power of two
  // The priority lane (docs/capture.md): a second ring of this many bytes
  // (a power of two, at least a page) for security-relevant records; 0: off,
  // every record goes to the one ring.
  uint32_t priority_ringbuf_bytes = 512u << 10;
  // Opens of these paths take the priority lane: an absolute path matched
  // exactly, or a directory prefix when it ends in '/'. Each at most
  // VG_PRIO_PATH_LEN - 1 bytes (63), at most VG_PRIO_PATHS_MAX (64) of them
  // (Open() fails otherwise).
  std::vector<std::string> priority_paths = DefaultPriorityPaths();
  std::size_t process_table_capacity = 65536;
  bool seed_from_proc = true;           // ScanProcesses() into the table at start
  // The seed reads each process's environment (/proc/<pid>/environ, bounded
  // as an exec record's) so proc.env works on processes older than the
  // sensor. The agent sets it as it will set SetInterest's `env`.
  bool seed_env = true;
  std::vector<std::string> disable;     // program names not to load (tests, operators)
  BpfBuild build = BpfBuild::kAuto;
  Ia32Programs ia32_programs = Ia32Programs::kAuto;
  // Fault injection for tests: every load of the typed build fails (one of its
  // maps is given a size the kernel refuses), so that the auto choice's fall
  // back to the compat build runs for real on a kernel that loads both.
  bool fail_typed_load = false;
  // Container metadata (agent: filled by runtime/ContainerWatcher): each event
  // of a container gets its entry (Event::container); an unknown id is queued
  // for the fetcher. Null: no metadata, container fields beyond the id are <NA>.
  std::shared_ptr<ContainerMetaCache> containers;
};

// A program that was not loaded, and why.
struct DisabledProgram {
  std::string name;
  std::string reason;
};

// Kernel ids of the sensor's own BPF objects (for self-protection).
using OwnObjectIds = bpfobj::ObjectIds;

struct KernelCounter {
  std::string_view name;
  uint64_t value = 0;
};

// One access class of the open path filter (Sensor::SetOpenFilter).
struct OpenFilterClass {
  bool active = false;
  std::vector<std::string> prefixes;
  // The resolved test (engine/interest.h OpenResolvedKeys): when `resolved`,
  // an open whose given path fails is sent unless it succeeded and its
  // opened file's top and leaf names start with none of `resolved_keys`
  // (kind VG_OPEN_KIND_TOP or VG_OPEN_KIND_LEAF, bytes; at most
  // VG_RES_KEYS_MAX, each at most VG_RES_NAME_LEN bytes).
  bool resolved = false;
  std::vector<std::pair<uint8_t, std::string>> resolved_keys;
};

// Events of one type sent to user space, left in the kernel by the interest
// filter (no loaded rule uses the type) and, for the open family, left there
// by the open path filter (no loaded rule's path prefix matches).
struct FilterCount {
  EventType type;
  uint64_t sent = 0;
  uint64_t filtered = 0;
  uint64_t path_filtered = 0;
};

class Sensor : NonCopyable {
 public:
  using Callback = std::function<void(const Event&)>;

  static std::unique_ptr<Sensor> Open(const SensorOptions& options, std::string* error);
  ~Sensor();

  // Waits up to timeout_ms for the kernel side's wakeup (one per 256 KiB of
  // waiting records) and handles the records committed by then: always
  // returns, however fast records arrive. Returns the number handled, or
  // -errno (-EINTR when a signal arrived; -EBADMSG for a ring record header
  // the kernel cannot have written, at which the reader stops).
  int Poll(int timeout_ms, const Callback& callback);

  const Features& features() const;
  // The build that was loaded (kTyped, kCompat or kLegacy).
  BpfBuild build() const;
  const std::vector<DisabledProgram>& disabled() const;
  // Names of the programs loaded and attached.
  const std::vector<std::string>& attached() const;
  // The interest filter: only events of `types` leave the kernel, and every
  // event of `self_tgid` (the agent, whose heartbeat opens a path no rule
  // reads; 0: none). Until called everything is sent (`vigil events`). Takes
  // effect atomically for all types at once; safe to call again on reload.
  // `env`: exec records carry the new image's environment (proc.env); until
  // called they do. `data`: the send/recv family's records carry the first
  // VG_DATA_LEN bytes of the payload (evt.buffer); until called they do.
  void SetInterest(const std::bitset<kEventTypeCount>& types, uint32_t self_tgid, bool env, bool data);
  // The open path filter (engine/interest.h OpenPathFilters, docs/capture.md),
  // per access class (index: 0 read, 1 write; bpf/file.bpf.h vg_open_class):
  // a class not `active` sends every open of it; an active one sends an open
  // the kernel can judge only if its given path starts with one of its
  // `prefixes` (each at most VG_OPEN_PATH_WINDOW bytes, at most
  // VG_OPEN_PREFIXES_MAX). With neither class active every open is sent (as
  // at load). The new sets are written under the unused generation and then
  // switched to with one store, so an open is judged by the old sets or the
  // new ones, never by a mix (the resolved test included). On failure (a map update refused) every open is
  // sent and false is returned with `*error` set.
  bool SetOpenFilter(const OpenFilterClass (&classes)[2], std::string* error);
  // Per event type: sent and filtered counts summed over CPUs.
  std::vector<FilterCount> ReadFilterCounts() const;
  // Per-site kernel counters summed over CPUs (enum vg_counter order).
  std::vector<KernelCounter> ReadCounters() const;
  // Whether the priority lane is on, and the records the kernel wrote to its
  // ring (its losses are the "priority_ringbuf_drop" kernel counter).
  bool priority_lane() const;
  uint64_t ReadPriorityReceived() const;
  const DecodeStats& decode_stats() const;
  ProcessTableStats table_stats() const;
  CgroupResolverStats cgroup_stats() const;
  // Processes seeded from /proc at start.
  std::size_t seeded() const;
  // Ids of this sensor's programs, maps and links (queried from the kernel).
  OwnObjectIds ObjectIds() const;

 private:
  struct Impl;
  explicit Sensor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Names of enum vg_counter, index = counter.
std::string_view KernelCounterName(uint32_t counter);

}  // namespace vigil::capture
