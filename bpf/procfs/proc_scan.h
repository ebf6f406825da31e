/* SPDX-License-Identifier: Apache-2.0 */
// /proc scanner: the processes that existed before the sensor started, as
// ProcessInfo values, so the process table can be seeded (exe, argv, parent of
// everything already running) before the first ring-buffer event.
//
// Contract:
// - Start-up / slow-path only: every call does file I/O (about 10 small reads
//   and readlinks per process; a full scan of ~500 processes takes a few ms).
//   Never call it per event on the hot thread.
// - Thread use: no shared state; safe to call from any one thread at a time
//   per ProcScanOptions object (the functions themselves are reentrant).
// - Never throws. A process that vanishes mid-scan is skipped and counted; a
//   field that cannot be read (EACCES, kernel thread without exe) stays empty/0.
// - Values match what the kernel programs report for the same task:
//   * start_ns is boot-time ns (CLOCK_BOOTTIME, as bpf_ktime_get_boot_ns and
//     task->start_boottime), but /proc only has it in clock ticks
//     (USER_HZ, 10 ms): start_ns = ticks * kNsPerClockTick. The process table
//     treats two start_ns within kStartTimeToleranceNs as the same process.
//   * cgroup is the cgroup v2 path from the host's cgroup root ("/" based, the
//     `0::` line of /proc/<pid>/cgroup); cgroup_id is the inode number of that
//     directory under the cgroup2 mount (== bpf_get_current_cgroup_id()).
//   * ns.* are the namespace inode numbers (/proc/<pid>/ns/<type>).
//   * exe_32bit is the ELF class of /proc/<pid>/exe (IsElf32).
//   * env is /proc/<pid>/environ, bounded and marked as an exec record's
//     (the environment area as the process has it now: a process that
//     wrote over its own environ strings shows what it wrote, as libsinsp's
//     /proc scan does; one it cannot read, EACCES, stays null).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/event.h"

namespace vigil {

struct ProcScanOptions {
  std::string proc_root = "/proc";
  std::string cgroup_root;                     // cgroup2 mount, for cgroup_id; "" = FindCgroup2Mount()
  std::size_t max_argv_bytes = 4096;           // cmdline bytes kept; more sets argv_truncated
  std::size_t max_args = 64;                   // argv entries kept; more sets argv_truncated
  // /proc/<pid>/environ into ProcessInfo::env (proc.env), its first
  // max_env_bytes when longer (env_truncated; a cut last entry is dropped),
  // the bound and marking of an exec record's environment (VG_ENV_LEN, which
  // proc_scan.cpp asserts equal). Off: env stays null (not captured), as for
  // exec records while no rule reads proc.env.
  bool read_env = true;
  std::size_t max_env_bytes = 4096;
};

struct ProcScanStats {
  uint64_t found = 0;       // numeric entries listed in /proc
  uint64_t read = 0;        // processes returned
  uint64_t vanished = 0;    // exited between listing and reading
  uint64_t incomplete = 0;  // returned, but some field could not be read (not counted for kernel threads' exe/cwd)
};

// Nanoseconds per /proc clock tick (1e9 / sysconf(_SC_CLK_TCK)).
uint64_t NsPerClockTick();

// The bytes of fd 0's file name kept (the exec record's VG_STDIN_NAME_LEN - 1).
inline constexpr std::size_t kStdinNameMax = 63;

// Descriptors 0-2 of the process whose /proc directory is `pid_dir` (ending
// in '/'): stat() of fd/N, so a pipe reads as the pipe's inode; closed ones as
// StdioType::kNone, unreadable ones (no permission) as kUnknown.
void ReadStdio(const std::string& pid_dir, ProcessInfo* p);

// Reads /proc/<pid> (a thread group leader). nullopt when the process does not
// exist or vanished while being read. `incomplete`, when given, is set to true
// if a field other than exe/cwd of a kernel thread could not be read.
std::optional<ProcessInfo> ReadProcess(uint32_t pid, const ProcScanOptions& options = {},
                                       bool* incomplete = nullptr);

// Every process in /proc, in ascending pid order.
std::vector<ProcessInfo> ScanProcesses(const ProcScanOptions& options = {}, ProcScanStats* stats = nullptr);

// The namespace inodes of `pid` (any field that cannot be read stays 0);
// nullopt when /proc/<pid>/ns cannot be read at all.
std::optional<Namespaces> ReadNamespaces(uint32_t pid, const std::string& proc_root = "/proc");

// PID 1's namespaces: the host's, for InContainer() (engine/state/container.h).
// Reading them needs root (or CAP_SYS_PTRACE); nullopt otherwise.
inline std::optional<Namespaces> ReadHostNamespaces(const std::string& proc_root = "/proc") {
  return ReadNamespaces(1, proc_root);
}

// Where the cgroup v2 hierarchy is mounted in our mount namespace, from
// /proc/self/mountinfo: "/sys/fs/cgroup" on a unified host, "/sys/fs/cgroup/unified"
// on a hybrid one. "/sys/fs/cgroup" when no cgroup2 mount is listed. Reads a file.
std::string FindCgroup2Mount(const std::string& mountinfo = "/proc/self/mountinfo");

// True when `path` is a 32-bit ELF file (ELFCLASS32: i386 or x32), as the
// capture's exec flag says of an exec'd image (ProcessInfo::exe_32bit); false
// for anything else or when it cannot be read. One open and a 5-byte read.
bool IsElf32(const std::string& path);

// The current boot-time clock in ns (CLOCK_BOOTTIME), the clock of start_ns.
uint64_t BootTimeNowNs();

}  // namespace vigil
