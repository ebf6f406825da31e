// SPDX-License-Identifier: Apache-2.0
// `vigil` as a child process for the agent integration tests: started with
// arguments, its stderr (the log) collected by a reader thread, waited for by
// text, signalled, and killed if the test ends first.
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/non_copyable.h"

namespace vigil::testing {

class AgentProcess : NonCopyable {
 public:
  // Runs VIGIL_BIN (a compile definition of the test), or a copy of it at
  // `binary`, with `args`.
  explicit AgentProcess(const std::vector<std::string>& args, const std::string& binary = VIGIL_BIN) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        log_.append(buf, static_cast<std::size_t>(n));
      }
      close(fd);
    });
  }
  ~AgentProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  std::string Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  // True once `needle` has appeared `occurrences` times in the log.
  bool WaitFor(const std::string& needle, std::chrono::seconds timeout, std::size_t occurrences = 1) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto log = Log();
      std::size_t count = 0, pos = 0;
      while ((pos = log.find(needle, pos)) != std::string::npos) {
        ++count;
        pos += needle.size();
      }
      if (count >= occurrences) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void Signal(int sig) { kill(pid_, sig); }
  // Waits for the exit; the exit code, or 128 + the signal that killed it.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (reader_.joinable()) reader_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // SIGTERM, then Wait().
  int Stop() {
    Signal(SIGTERM);
    return Wait();
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

// Writes `text` to `path` (replacing it).
inline void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// How many lines of the file at `path` contain `needle` (and `also`, unless
// it is empty).
inline std::size_t CountLines(const std::string& path, const std::string& needle, const std::string& also = "") {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos && line.find(also) != std::string::npos) ++n;
  return n;
}

// The first line of the file at `path` that contains `needle`, or "".
inline std::string FirstLine(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

// A test's working directory, /tmp/vigil-NAME-XXXXXX (left behind, for its
// logs), and the files an agent test writes there. Its members bind by name:
// `const auto [dir, rules, config, alerts] = AgentFiles("name");`.
struct AgentFiles {
  explicit AgentFiles(const std::string& name) : dir(MakeDir(name)) {}
  std::string dir;
  std::string rules = dir + "/rules.yaml", config = dir + "/vigil.yaml", alerts = dir + "/alerts.json";

 private:
  static std::string MakeDir(const std::string& name) {
    std::string tmpl = "/tmp/vigil-" + name + "-XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    return tmpl;
  }
};

// Whether the agent's Prometheus endpoint listens (on a port the kernel picks).
enum class Metrics { kListen, kOff };

// The agent configuration most tests run with: the file sink at `alerts`,
// synced with every alert, no periodic stats, metrics as `metrics` says.
inline std::string FileSinkConfig(const std::string& alerts, Metrics metrics) {
  return "outputs:\n  file:\n    enabled: true\n    path: " + alerts + "\n    fsync_interval_ms: 0\nmetrics:\n" +
         (metrics == Metrics::kListen ? "  listen: 127.0.0.1:0\n" : "  enabled: false\n") + "stats_interval_s: 0\n";
}

}  // namespace vigil::testing
