// SPDX-License-Identifier: Apache-2.0
// A child process with its stdin and stdout on pipes, for tests that drive
// helper executables (mock broker, producing agent) and external tools (kcat).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "engine/non_copyable.h"

namespace vigil::testing {

class ChildProcess : NonCopyable {
 public:
  // Starts argv[0] (a path) with the given arguments; stderr is inherited.
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  bool WriteLine(const std::string& line) {
    std::string l = line + "\n";
    return ::write(stdin_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  }
  void CloseStdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // The next line of stdout (without '\n'), or nullopt at EOF or timeout.
  std::optional<std::string> ReadLine(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || eof_) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) eof_ = true;
      else buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Reads lines until one starts with `prefix`; returns it.
  std::optional<std::string> WaitFor(const std::string& prefix, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto line = ReadLine(static_cast<int>(left.count()));
      if (!line) return std::nullopt;
      if (line->rfind(prefix, 0) == 0) return line;
    }
  }

  // Everything left on stdout until EOF.
  std::string ReadAll(int timeout_ms) {
    std::string all;
    while (auto line = ReadLine(timeout_ms)) all += *line + "\n";
    all += buf_;
    buf_.clear();
    return all;
  }

  void Kill(int sig) { ::kill(pid_, sig); }

  // Exit status (or 128 + signal).
  int Wait() {
    if (exited_) return status_;
    int st = 0;
    ::waitpid(pid_, &st, 0);
    exited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace vigil::testing
