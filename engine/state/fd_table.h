// SPDX-License-Identifier: Apache-2.0
// The files processes opened, by (pid, fd), as user space saw the opens: so
// an fd-based call (fchmod, fchown, ftruncate, fsetxattr, fremovexattr, a
// utimensat/fchmodat/fchownat on an fd with no path) gets in fd.name the name
// the file was opened with, as libsinsp gives it, while fd.name.resolved stays
// the kernel's path of the file now.
//
// Contract:
// - Single-threaded (the process table's thread). Allocates when a (pid, fd)
//   is first seen; the same descriptor opened again reuses its node. Bounded: at most
//   kMaxFdsPerProcess entries per process (the oldest of that process goes
//   first) and `capacity` in all (the least recently opened or used goes
//   first); evictions are counted.
// - Close is not captured, so an entry may outlive its descriptor. An entry is
//   only used when the file it recorded is the one the call acts on: the
//   kernel's path the open had (FileArgs::resolved) equals the call's. Else
//   it is stale (closed and reused by an unseen open, or the file renamed):
//   dropped and counted, and the call keeps the kernel's path.
// - Opens the capture did not send (event types filtered in the kernel by the
//   ruleset's interest, or opened before vigil started) are not known: those
//   calls keep the kernel's path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil {

inline constexpr std::size_t kMaxFdsPerProcess = 64;

struct FdTableStats {
  std::size_t size = 0;
  uint64_t evictions = 0;  // entries dropped for a bound (per process or total)
  uint64_t stale = 0;      // entries found not to match the call's file (dropped)
  uint64_t hits = 0;       // fd-based calls given the opened name
  uint64_t misses = 0;     // fd-based calls whose fd was not known
};

class FdTable {
 public:
  explicit FdTable(std::size_t capacity = 16384);

  // A successful open of `name` (libsinsp's fd.name: absolute, symlinks not
  // followed) returning `fd`; `resolved` is the kernel's path of the opened
  // file ("" when the record had none). Replaces what `fd` held.
  void Opened(uint32_t pid, int32_t fd, std::string_view name, std::string_view resolved, bool cloexec);
  // dup family: `newfd` now refers to what `oldfd` does (forgotten when
  // `oldfd` is not known). The new descriptor has no close-on-exec.
  void Duplicated(uint32_t pid, int32_t oldfd, int32_t newfd);
  // `fd` now refers to something that is not a file opened by name (a socket,
  // an accepted connection, a memfd...).
  void Forget(uint32_t pid, int32_t fd);
  // A fork child starts with its parent's descriptors.
  void Forked(uint32_t parent, uint32_t child);
  // A successful exec closes the close-on-exec descriptors.
  void Execed(uint32_t pid);
  // The process is gone (exit, eviction, pid reuse).
  void DropProcess(uint32_t pid);
  // The name `fd` was opened with when its entry matches `resolved` (the
  // kernel's path of the call's file); nullptr otherwise (a stale entry is
  // dropped). The pointer is valid until the next mutating call.
  const std::string* NameFor(uint32_t pid, int32_t fd, std::string_view resolved);

  FdTableStats Stats() const;

 private:
  struct Node {
    uint32_t pid = 0;
    int32_t fd = -1;
    bool cloexec = false;
    std::string name;
    std::string resolved;
  };
  using List = std::list<Node>;
  static uint64_t Key(uint32_t pid, int32_t fd) { return (static_cast<uint64_t>(pid) << 32) | static_cast<uint32_t>(fd); }
  Node* Put(uint32_t pid, int32_t fd);  // a fresh or reused node at the LRU head, indexed
  void Erase(List::iterator it);

  std::size_t capacity_;
  List lru_;    // most recently opened or used first
  List spare_;  // erased nodes, kept so their strings' buffers are reused
  std::unordered_map<uint64_t, List::iterator> index_;
  std::unordered_map<uint32_t, std::vector<int32_t>> by_pid_;  // each process's fds, oldest first
  FdTableStats stats_;
};

}  // namespace vigil
