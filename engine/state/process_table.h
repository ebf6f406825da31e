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
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/event.h"

namespace vigil {

struct ProcessTableStats {
  std::size_t size = 0;
  uint64_t evictions = 0;
  uint64_t misses = 0;  // events whose process was unknown
};

class ProcessTable {
 public:
  explicit ProcessTable(std::size_t capacity = 65536);
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Adds or replaces a process known from elsewhere (the /proc scan at start).
  void Upsert(const ProcessInfo& info);
  // Forgets a process.
  void Remove(uint32_t pid);
  // Updates state from `event` (fork/clone add the child, exec replaces the
  // image, procexit marks exited) and enriches it: fills proc fields the
  // record left empty from the table, and points event.ancestors at a view of
  // the parent chain. Never throws; allocation only when a new process appears.
  void Apply(Event& event);
  // The entry for `pid`, or nullptr.
  const ProcessInfo* Find(uint32_t pid) const;
  ProcessTableStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
