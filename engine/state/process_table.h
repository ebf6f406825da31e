// SPDX-License-Identifier: Apache-2.0
// Process state: a bounded table of live processes, keyed by tgid, that gives
// every event its parent and ancestor chain and the process context the kernel
// record did not carry (argv, cwd and exe of processes seen exec'ing before).
//
// Contract:
// - Single-threaded: only the hot thread calls it. No locks.
// - Bounded: at most `capacity` entries; when full, exited entries go first,
//   then the least recently used; evictions are counted.
// - Pointers returned by Find() and the view installed by Apply() stay valid
//   until the next call that mutates the table (Apply, Upsert, Remove).
// - Exited processes linger for kExitedGraceNs (of event time) so late events
//   of the same process still find it and its children still find their parent.
// - Identity is (pid, start_ns): an event or Upsert whose start_ns differs from
//   the entry's by more than kStartTimeToleranceNs is a new process that reused
//   the pid, and replaces the entry (/proc gives start times in 10 ms ticks,
//   the kernel in ns; the tolerance makes both agree).
// - The view also finds pipe peers (AncestorView::StdioPeer): entries whose
//   stdout (stdin) is the same pipe inode as the event's stdin (stdout),
//   live ones first; an exited one stays a peer until it is freed (its grace
//   period), since a writer can finish before the reader's exec is seen. The
//   index is kept on exec, fork, Upsert and when an entry is freed, and
//   is bounded by the capacity (one stdin and one stdout key per entry).
// - Descriptors (FdTable, fd_table.h): opens, dup* and other calls returning
//   a descriptor that user space sees keep a bounded (pid, fd) -> opened name
//   table; a fork child copies its parent's, a successful exec drops the
//   O_CLOEXEC ones, exit and eviction drop the process's. An fd-based file
//   call (fchmod, fchown, ftruncate, fsetxattr, fremovexattr, and the *at
//   calls on an fd with an empty path) whose open was seen, on the same file,
//   gets the opened name in FileArgs::abspath (fd.name); FileArgs::resolved
//   keeps the kernel's path (fd.name.resolved).
// - The ancestor view walks ppid links at most kMaxAncestorDepth levels and
//   stops at a pid already on the chain (cycles from pid reuse or bad input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/event.h"
#include "engine/non_copyable.h"
#include "engine/state/fd_table.h"

namespace vigil {

inline constexpr int kMaxAncestorDepth = 32;
inline constexpr uint64_t kExitedGraceNs = 5'000'000'000;        // 5 s
inline constexpr uint64_t kStartTimeToleranceNs = 20'000'000;    // two USER_HZ ticks
// Processes (live, or exited within kExitedGraceNs) indexed per pipe and
// direction (stdin/stdout) for the pipe peer fields (AncestorView::StdioPeer); more holders of one pipe are not
// indexed, so a peer may then be missed.
inline constexpr std::size_t kMaxPipeHolders = 32;


struct ProcessTableStats {
  std::size_t size = 0;
  uint64_t evictions = 0;       // entries dropped because the table was full (exited or live)
  uint64_t misses = 0;          // events whose process was unknown
  uint64_t live_evictions = 0;  // of `evictions`, entries that had not exited (their children lose ancestry)
  uint64_t reaped = 0;          // exited entries freed after the grace period
  uint64_t pid_reuses = 0;      // entries replaced by a new process with the same pid
  std::size_t exited = 0;       // exited entries still held
  FdTableStats fds;             // the descriptor table (fd_table.h)
};

class ProcessTable : NonCopyable {
 public:
  explicit ProcessTable(std::size_t capacity = 65536);
  ~ProcessTable();

  // Adds or replaces a process known from elsewhere (the /proc scan at start).
  void Upsert(const ProcessInfo& info);
  // Forgets a process.
  void Remove(uint32_t pid);
  // Updates state from `event` (fork/clone add the child, exec replaces the
  // image, procexit marks exited) and enriches it: fills proc fields the
  // record left empty from the table, and points event.ancestors at a view of
  // the parent chain. Never throws; allocation only when a new process appears.
  //
  // How events are read:
  // - fork/vfork/clone/clone3 from the parent's side (res > 0): the child is
  //   args.target_pid (or res when that is 0); it gets the parent's context
  //   (exe, argv, cwd, cgroup, container, creds, namespaces). From the child's
  //   side (res == 0): event.proc is the child. clone/clone3 with CLONE_THREAD
  //   in args.flags create no process. Either order of the two sides (and of
  //   the child's first exec) is fine.
  // - execve/execveat with res == 0: the image is replaced from event.proc
  //   (exepath, argv, argv_truncated, env, env_truncated, name, cwd when
  //   given, exec_ns = proc.exec_ns or ts_ns). A failed exec changes nothing.
  // - procexit with proc.tid == proc.pid (or tid 0) marks the process exited.
  // - Any event of an unknown pid adds it from event.proc (counted as a miss).
  // Enrichment fills, when empty/0 in the event: ppid, name, exepath, argv
  // and env (not for a successful exec; env is shared, not copied), cwd, cgroup, cgroup_id, container_id,
  // start_ns, exec_ns, namespaces, and session/process group (sid, pgid,
  // vsid, vpgid) when the event has none (session_known), and descriptors
  // 0-2 (stdio, stdin_name) when it has none. A fork child gets
  // its parent's session, group and descriptors, an exec or Upsert the ones it carries.
  // Strings are copied into the event's own
  // (reused) buffers; argv elements longer than 15 bytes allocate, because
  // Event::Reset() does not keep their capacity.
  void Apply(Event& event);
  // The entry for `pid`, or nullptr.
  const ProcessInfo* Find(uint32_t pid) const;
  ProcessTableStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
