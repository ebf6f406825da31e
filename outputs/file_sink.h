// SPDX-License-Identifier: Apache-2.0
// File and stdout sinks: one encoded alert per line (JSON lines).
//
// Contract:
// - File mode 0600 on creation; opened O_APPEND so other writers (or a
//   restarted agent) never interleave inside a line. A missing directory
//   (and its missing parents) is created with mode 0750 (kDirMode). PATH is
//   opened O_NOFOLLOW and refused, like its directory, when another user
//   controls it (see paths.h): logged, kept for retry, the sink failing.
// - Size rotation: before a line would take the file past max_size_bytes the
//   file is renamed to PATH.1 (PATH.1 -> PATH.2 ... up to `backups`; the oldest
//   is removed) and a new PATH is created. backups = 0 truncates instead.
// - Reopen() (SIGHUP/SIGUSR1, logrotate's "move then signal") closes and
//   reopens PATH at the next Tick().
// - Every path_check_interval_ms (default 1 s) Tick() compares PATH's inode
//   with the open file's: a file deleted or renamed away (not through
//   logrotate's signal) is noticed and PATH opened anew, so alerts go to an
//   unlinked inode for at most that long.
// - Write errors (ENOSPC, EIO, a removed directory) are logged with the path
//   and errno, the line is kept in memory and retried every retry_interval_ms;
//   a partially written line is completed, never duplicated or torn. Lines
//   beyond max_pending_bytes drop the oldest unwritten line (counted). While
//   lines cannot be written the sink is marked failing (SinkCounters), which
//   fails /healthz. Lines still unwritten when Close() gives up are counted
//   as dropped and logged.
// - fsync_interval_ms: 0 = fdatasync after every batch of lines written,
//   otherwise at most that long between a write and its fdatasync; < 0 never.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include "outputs/encode.h"
#include "outputs/sink.h"

namespace vigil::outputs {

struct FileSinkOptions {
  std::string path;                 // empty: write to `fd` (stdout sink)
  int fd = -1;                      // used when path is empty; not closed
  Format format = Format::kFalco;
  FalcoJsonOptions falco_json;  // used when format is falco
  uint64_t max_size_bytes = 100ull << 20;  // 0 = never rotate
  int backups = 5;
  int fsync_interval_ms = 1000;
  uint64_t max_pending_bytes = 64ull << 20;
  int retry_interval_ms = 200;
  int path_check_interval_ms = 1000;
};

class FileSink : public Sink {
 public:
  static constexpr mode_t kDirMode = 0750;

  explicit FileSink(FileSinkOptions options);
  ~FileSink() override;

  std::string_view Name() const override { return options_.path.empty() ? "stdout" : "file"; }
  void Write(const Alert& alert) override;
  void Tick() override;
  void Close(int deadline_ms) override;
  void Reopen() override { reopen_requested_.store(true, std::memory_order_relaxed); }

  // Lines waiting to be written (for tests and metrics).
  std::size_t pending() const { return pending_.size(); }

  // Appends an already encoded line (no trailing newline). For the benchmark
  // and for callers that encode once for several sinks.
  void WriteLine(std::string line);

 private:
  using Clock = std::chrono::steady_clock;
  void Flush();
  bool EnsureOpen();
  void CloseFd();
  void Rotate();
  void MaybeSync(bool force);
  void CheckPath();
  void LogError(const char* what, int err);
  void Refuse(const std::string& why);

  FileSinkOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::deque<std::string> pending_;
  std::size_t head_offset_ = 0;  // bytes of pending_.front() already written
  uint64_t pending_bytes_ = 0;
  bool dirty_ = false;           // written since last fdatasync
  bool failing_ = false;         // in an error episode (for logging once)
  Clock::time_point last_sync_ = Clock::now();
  Clock::time_point retry_at_{};
  Clock::time_point next_path_check_{};
  Clock::time_point last_error_log_{};
  std::atomic<bool> reopen_requested_{false};
};

}  // namespace vigil::outputs
