// SPDX-License-Identifier: Apache-2.0
// End-to-end harness: the real `vigil run` binary as a child process, its
// alerts read back from the file sink (Falco JSON) joined with the stdout sink
// (OCSF, which carries the acting pid), and a fork tracker (the kernel's proc
// connector) that tells which pids descend from a given process, so alerts can
// be attributed to what a test did even while other work runs on the host.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/non_copyable.h"

namespace vigil::e2e {

// One alert as delivered: the Falco line plus the pid/container from OCSF.
struct SeenAlert {
  std::string uuid;
  std::string rule;
  std::string priority;  // Falco spelling: "Critical", "Warning", ...
  nlohmann::json output_fields;
  std::string output;
  uint32_t pid = 0;   // 0 when the stdout (OCSF) line was not found
  uint32_t ppid = 0;
  std::string container;  // "" for the host

  // output_fields[name] rendered as text ("" when absent).
  std::string Field(const std::string& name) const;
  // True for Emergency, Alert, Critical, Error, Warning.
  bool WarningOrAbove() const;
};

// A `vigil run` child with the default rules plus `extra_rules`, a file sink in
// `dir`/alerts.json and an OCSF stdout sink in `dir`/stdout.json.
class VigilProcess : NonCopyable {
 public:
  VigilProcess(std::string dir, std::vector<std::string> rules_paths);
  ~VigilProcess();  // SIGKILLs the child if Stop() was not called

  // Starts vigil and waits (up to `timeout_s`) for "vigil running" in its log.
  // Returns "" on success, else what went wrong (with the log's tail).
  std::string Start(int timeout_s = 60);
  // SIGTERM, wait for a clean exit (flushes sinks). Returns the exit status
  // description ("" = exited 0).
  std::string Stop(int timeout_s = 20);
  // Reads both sinks; valid after Stop().
  std::vector<SeenAlert> Alerts() const;
  std::string LogTail(std::size_t bytes = 4000) const;
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }  // -1 before Start() and after Stop()
  // YAML appended to the generated configuration (top-level keys the harness
  // does not write, e.g. containers:); set before Start().
  void set_extra_config(std::string yaml) { extra_config_ = std::move(yaml); }

 private:
  std::string dir_;
  std::string extra_config_;
  std::vector<std::string> rules_paths_;
  pid_t pid_ = -1;
};

// One rules-file entry: `- rule: <name>` with its desc, condition, output and
// priority, as YAML text (values as given, unquoted: no ': ' or leading '%').
std::string RuleYaml(const std::string& name, const std::string& desc, const std::string& condition,
                     const std::string& output, const std::string& priority);

// The sentinel: a NOTICE rule on opening <dir>/sentinel. WriteSentinelRule
// writes it to <dir>/e2e-sentinel.yaml and returns that path (give it to
// VigilProcess with the rules under test).
inline constexpr const char* kSentinelRule = "E2E Sentinel";
std::string WriteSentinelRule(const std::string& dir);

// Opens <dir>/sentinel from this process and waits (up to `timeout`) until
// its alert is in both sinks, attributed to this pid. The ring buffer is
// ordered and vigil handles events in order, so by then every event the steps
// caused has been handled and its alerts submitted (Stop() flushes them); a
// fixed sleep instead lost the last events on a busy host. The open is
// repeated every few seconds in case one sentinel record was dropped.
// Returns "" when the sentinel arrived, else what went wrong.
std::string AwaitSentinel(const VigilProcess& vigil, const std::string& dir,
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// Runs /bin/sh with `args` (a script and its arguments) in a child with this
// process's stdout and stderr, and waits for it. Its pid (-1: fork failed);
// its wait status in *status.
pid_t RunShell(const std::vector<std::string>& args, int* status);

// After the steps: AwaitSentinel(), Stop(), and the alerts into *alerts.
// "" when both went well, else what went wrong and the end of vigil's log.
std::string FinishSteps(VigilProcess& vigil, const std::string& dir, std::vector<SeenAlert>* alerts);

// Records every fork on the host (proc connector, NETLINK_CONNECTOR) while it
// lives, so that Descendants(root) is exact even for processes that lived a
// millisecond. Requires root.
class ForkWatch : NonCopyable {
 public:
  ForkWatch();
  ~ForkWatch();

  // "" when listening; else why not (the caller fails the test).
  const std::string& error() const { return error_; }
  // root and every process (tgid) forked from it or its descendants so far.
  std::set<uint32_t> Descendants(uint32_t root) const;
  // Receive-buffer overruns (events lost): a non-zero value makes
  // Descendants() unreliable.
  uint64_t overruns() const { return overruns_.load(); }

 private:
  void Loop();
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::string error_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::pair<uint32_t, uint32_t>> forks_;  // (parent tgid, child tgid)
  std::atomic<uint64_t> overruns_{0};
};

}  // namespace vigil::e2e
