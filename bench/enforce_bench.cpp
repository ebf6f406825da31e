// SPDX-License-Identifier: Apache-2.0
// enforce_bench: cost of in-kernel enforcement on the hot syscalls, as ratios to no enforcement
// measured in the same run. Loops (in a worker process: the manager never enforces against its
// own process): fork+exec /bin/true, open+close of a file, UDP connect to 127.0.0.1 (each connect
// runs the connect hook). Policies: programs attached with 0 entries, 100 and 10,000 non-matching
// deny entries (exec paths, open paths, connect networks), so every decision does its lookups
// and then allows. On a kernel without BPF LSM this measures the fallback path (tracepoint exec
// + cgroup connect; open has no fallback hook). Prints; never asserts. Needs root.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include <spdlog/spdlog.h>

#include "bpf/enforce/enforcement.h"

namespace {

using Clock = std::chrono::steady_clock;

// Runs `loop` in a forked worker; returns ns per iteration.
double InWorker(const std::function<void()>& loop, int iterations) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) loop();
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / iterations;
    (void)!write(fds[1], &ns, sizeof(ns));
    _exit(0);
  }
  double ns = 0;
  (void)!read(fds[0], &ns, sizeof(ns));
  waitpid(pid, nullptr, 0);
  close(fds[0]);
  close(fds[1]);
  return ns;
}

void ExecTrue() {
  pid_t p = fork();
  if (p == 0) {
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(p, nullptr, 0);
}

void OpenClose() {
  int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
}

void UdpConnect() {
  static int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(9);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
}

vigil::policy::PolicySpec MakePolicy(int entries) {
  using namespace vigil::policy;
  PolicySpec spec;
  // 0 entries = programs attached, empty policy. (Never a rule without values here: an
  // unconstrained exec kill rule would kill every exec on the machine.)
  if (entries <= 0) return spec;
  PolicyRule exec, open, conn;
  exec.id = 0, exec.name = "bench exec", exec.hook = HookClass::kExec, exec.action = Action::kKill;
  open.id = 1, open.name = "bench open", open.hook = HookClass::kOpen;
  conn.id = 2, conn.name = "bench connect", conn.hook = HookClass::kConnect;
  for (int i = 0; i < entries; ++i) {
    exec.paths.push_back({"/nonexistent/bench/bin" + std::to_string(i), false});
    open.paths.push_back({"/nonexistent/bench/file" + std::to_string(i), false});
    Cidr c;
    c.addr = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    c.prefix_len = 32;
    conn.cidrs.push_back(c);
  }
  spec.rules = {exec, open, conn};
  return spec;
}

struct Figures {
  double exec = 0, open = 0, connect = 0;
};

void Min(Figures* best, const Figures& f) {
  best->exec = std::min(best->exec, f.exec);
  best->open = std::min(best->open, f.open);
  best->connect = std::min(best->connect, f.connect);
}

int g_divisor = 1;  // argv[2]: fewer iterations (slow emulated VMs)

Figures MeasureOnce() {
  return {InWorker(ExecTrue, 500 / g_divisor), InWorker(OpenClose, 100000 / g_divisor),
          InWorker(UdpConnect, 100000 / g_divisor)};
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  if (argc > 2) g_divisor = std::max(1, std::atoi(argv[2]));
  spdlog::set_level(spdlog::level::warn);
  std::printf("enforce_bench: best of %d interleaved rounds; exec = fork+exec /bin/true (%d), open = open+close (%d), "
              "connect = UDP connect (%d)\n", rounds, 500 / g_divisor, 100000 / g_divisor, 100000 / g_divisor);
  // Rounds interleave every configuration, so drift in machine load spreads over all of them;
  // the best (lowest) figure per configuration is kept.
  const int kEntries[] = {0, 100, 10000};
  Figures base{1e18, 1e18, 1e18};
  Figures with[3] = {base, base, base};
  bool lsm = false;
  MeasureOnce();  // warm-up (page cache, CPU frequency), discarded
  for (int r = 0; r < rounds; ++r) {
    Min(&base, MeasureOnce());
    {
    std::string error;
    auto m = vigil::enforce::EnforcementManager::Create(vigil::enforce::EnforceOptions{}, &error);
    if (!m) {
      std::fprintf(stderr, "enforce_bench: %s\n", error.c_str());
      return 1;
    }
    lsm = m->lsm();
    for (int k = 0; k < 3; ++k) {
      if (auto err = m->Install(MakePolicy(kEntries[k]))) {
        std::fprintf(stderr, "enforce_bench: install %d: %s\n", kEntries[k], err->c_str());
        return 1;
      }
      Min(&with[k], MeasureOnce());
    }
    }  // manager destroyed: programs detached
    Min(&base, MeasureOnce());
  }
  std::printf("mechanism: %s\n", lsm ? "BPF LSM" : "fallback (tracepoint exec kill, cgroup connect; no open hook)");
  std::printf("%-22s %12s %8s %12s %8s %12s %8s\n", "policy", "exec ns", "ratio", "open ns", "ratio", "connect ns",
              "ratio");
  std::printf("%-22s %12.0f %8.3f %12.0f %8.3f %12.0f %8.3f\n", "no enforcement", base.exec, 1.0, base.open, 1.0,
              base.connect, 1.0);
  for (int k = 0; k < 3; ++k) {
    const Figures& f = with[k];
    std::string label = std::to_string(kEntries[k]) + " entries/hook";
    std::printf("%-22s %12.0f %8.3f %12.0f %8.3f %12.0f %8.3f\n", label.c_str(), f.exec, f.exec / base.exec, f.open,
                f.open / base.open, f.connect, f.connect / base.connect);
  }
  return 0;
}
