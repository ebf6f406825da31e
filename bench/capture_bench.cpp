// SPDX-License-Identifier: Apache-2.0
// capture_bench: what kernel capture costs the programs it watches, and how
// many events per second the pipeline carries before the kernel drops any.
//
// Same run, three workloads (an openat loop, a fork+exec loop, a loopback
// connect loop), each timed with no sensor (the baseline), with `vigil events`
// capturing (JSON lines to /dev/null), with `vigil run` (the agent: capture,
// process table, default rules, alerts to a file; no per-event JSON), and with
// the matching libbpf-tools tracer (opensnoop / execsnoop / tcpconnect, output
// to /dev/null). Then parallel openat loops paced at rising rates under each
// vigil mode, with vigil's kernel and decoder counters read at its exit.
// Prints figures; asserts nothing. Needs root (it starts BPF sensors).
//
//   ninja -C build vigil capture_bench && sudo build/bench/capture_bench
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------- workloads

struct LoopResult {
  uint64_t ops = 0;
  double seconds = 0;
  double NsPerOp() const { return ops ? seconds * 1e9 / static_cast<double>(ops) : 0; }
};

LoopResult OpenatLoop(const std::string& path, uint64_t n) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    int fd = ::openat(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  }
  return {n, Seconds(Clock::now() - t0)};
}

LoopResult ExecLoop(uint64_t n) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      char* const argv[] = {const_cast<char*>("true"), nullptr};
      ::execve("/bin/true", argv, environ);
      _exit(127);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
  return {n, Seconds(Clock::now() - t0)};
}

// A loopback listener that accepts and closes, for the connect loop.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 4096);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = a;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
      }
    });
  }
  ~Listener() {
    stop_.store(true);
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  const sockaddr_in& addr() const { return addr_; }

 private:
  int fd_ = -1;
  sockaddr_in addr_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

LoopResult ConnectLoop(const Listener& l, uint64_t n) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) continue;
    linger lg{1, 0};  // close with RST: no TIME_WAIT, so ports never run out
    ::setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    ::connect(s, reinterpret_cast<const sockaddr*>(&l.addr()), sizeof(l.addr()));
    ::close(s);
  }
  return {n, Seconds(Clock::now() - t0)};
}

// `workers` processes each opening `path` at rate/workers per second for
// `seconds` (rate 0: as fast as they can). Returns the opens done.
LoopResult PacedOpenat(const std::string& path, double rate, int workers, double seconds) {
  std::vector<pid_t> pids;
  int pipefd[2];
  if (::pipe(pipefd) != 0) return {};
  auto t0 = Clock::now();
  for (int w = 0; w < workers; ++w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipefd[0]);
      double per_worker = rate / workers;
      auto start = Clock::now();
      auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
      uint64_t done = 0;
      while (true) {
        auto now = Clock::now();
        if (now >= end) break;
        if (rate > 0) {
          double due = per_worker * Seconds(now - start);
          if (static_cast<double>(done) >= due) {
            ::usleep(200);
            continue;
          }
        }
        for (int i = 0; i < 64; ++i) {
          int fd = ::openat(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd >= 0) ::close(fd);
        }
        done += 64;
      }
      if (::write(pipefd[1], &done, sizeof(done)) != sizeof(done)) _exit(1);
      _exit(0);
    }
    if (pid > 0) pids.push_back(pid);
  }
  ::close(pipefd[1]);
  uint64_t total = 0, done = 0;
  while (::read(pipefd[0], &done, sizeof(done)) == sizeof(done)) total += done;
  ::close(pipefd[0]);
  for (pid_t p : pids) ::waitpid(p, nullptr, 0);
  return {total, Seconds(Clock::now() - t0)};
}

// ---------------------------------------------------------------- sensors

struct ProcUsage {
  double cpu_s = 0;
  long rss_kb = 0;
  long hwm_kb = 0;
};

ProcUsage ReadUsage(pid_t pid) {
  ProcUsage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string f;
    std::vector<std::string> fields;
    while (in >> f) fields.push_back(f);
    // field 14 utime, 15 stime; fields[0] is field 3.
    if (fields.size() > 13) {
      double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
      u.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / hz;
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) u.hwm_kb = std::atol(line.c_str() + 6);
  }
  return u;
}

struct SensorReport {
  bool ok = false;
  std::map<std::string, uint64_t> stats;  // vigil: the exit stats line, key=value
  ProcUsage usage;                         // just before stopping
};

class Sensor {
 public:
  // `ready_marker`: a line the sensor logs to stderr once capturing; empty:
  // wait `settle` instead (libbpf-tools print their header to stdout only).
  Sensor(std::vector<std::string> argv, std::string log, std::string ready_marker, double settle_s)
      : log_(std::move(log)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid_ <= 0) return;
    auto deadline = Clock::now() + std::chrono::seconds(60);
    if (ready_marker.empty()) {
      std::this_thread::sleep_for(std::chrono::duration<double>(settle_s));
      ready_ = Alive();
      return;
    }
    while (Clock::now() < deadline && Alive()) {
      if (LogText().find(ready_marker) != std::string::npos) {
        std::this_thread::sleep_for(std::chrono::duration<double>(settle_s));
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Sensor() {
    if (pid_ > 0 && !stopped_) Stop();
  }
  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }
  std::string LogText() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  SensorReport Stop() {
    SensorReport r;
    r.usage = ReadUsage(pid_);
    ::kill(pid_, SIGINT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    stopped_ = true;
    r.ok = ready_;
    // vigil prints "events=N kernel.x=N ..." as its last stats line at exit
    // (`vigil run` behind its log prefix, "... stats: events=N ...").
    std::istringstream in(LogText());
    std::string line, last;
    while (std::getline(in, line)) {
      std::size_t at = line.find("events=");
      if (at != std::string::npos && (at == 0 || line[at - 1] == ' ')) last = line.substr(at);
    }
    std::istringstream kv(last);
    std::string tok;
    while (kv >> tok) {
      auto eq = tok.find('=');
      if (eq != std::string::npos) r.stats[tok.substr(0, eq)] = std::strtoull(tok.c_str() + eq + 1, nullptr, 10);
    }
    return r;
  }

 private:
  bool Alive() const { return ::kill(pid_, 0) == 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string log_;
  pid_t pid_ = -1;
  bool ready_ = false;
  bool stopped_ = false;
};

std::unique_ptr<Sensor> StartVigil(const std::string& vigil, const std::string& dir, uint32_t ringbuf_mb) {
  return std::make_unique<Sensor>(
      std::vector<std::string>{vigil, "events", "-w", "/dev/null", "--stats", "--stats-interval", "3600",
                               "--ringbuf-mb", std::to_string(ringbuf_mb)},
      dir + "/vigil.log", "capturing with", 0.5);
}

// The whole agent: capture, process table, the default rules, alerts to a
// file (no per-event JSON: this is the production pipeline).
// `rules`: a rules file instead of the default rules ("" = the defaults).
std::unique_ptr<Sensor> StartVigilRun(const std::string& vigil, const std::string& dir, uint32_t ringbuf_mb,
                                      const std::string& rules = "") {
  const std::string config = dir + "/vigil.yaml";
  std::ofstream(config) << "capture:\n  ringbuf_mb: " << ringbuf_mb
                        << "\nmetrics:\n  enabled: false\nstats_interval_s: 0\noutputs:\n  file:\n    enabled: true\n"
                           "    path: "
                        << dir << "/alerts.json\n";
  std::vector<std::string> argv{vigil, "run", "-c", config};
  if (!rules.empty()) argv.insert(argv.end(), {"-r", rules});
  return std::make_unique<Sensor>(argv, dir + "/vigil-run.log", "vigil running", 0.5);
}

// Empty programs on the tracepoints an openat capture uses (bench/tp_floor).
std::unique_ptr<Sensor> StartTracepoints(const std::string& dir) {
  return std::make_unique<Sensor>(std::vector<std::string>{TP_FLOOR_BIN}, dir + "/tp_floor.log", "capturing with",
                                  0.5);
}

std::unique_ptr<Sensor> StartTool(const std::string& tool, const std::string& dir) {
  return std::make_unique<Sensor>(std::vector<std::string>{tool}, dir + "/" + tool.substr(tool.rfind('/') + 1) + ".log",
                                  "", 2.0);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capture_bench: cost of kernel capture to the workloads it watches (prints figures, asserts nothing)"};
  std::string vigil = VIGIL_BIN;
  int rounds = 3;
  uint64_t n_open = 200000, n_exec = 400, n_connect = 10000;
  std::vector<double> rates = {50000, 100000, 200000, 300000, 0};
  double step_seconds = 3;
  int workers = 2;
  uint32_t ringbuf_mb = 16;
  app.add_option("--vigil", vigil, "vigil binary")->capture_default_str();
  app.add_option("--rounds", rounds, "rounds of each workload per mode (median reported)")->capture_default_str();
  app.add_option("--openat", n_open, "openat calls per round")->capture_default_str();
  app.add_option("--exec", n_exec, "fork+exec per round")->capture_default_str();
  app.add_option("--connect", n_connect, "loopback connects per round")->capture_default_str();
  app.add_option("--rates", rates, "paced openat rates for the drop test, events/s, comma-separated (0 = unpaced)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--step-seconds", step_seconds, "seconds per rate step")->capture_default_str();
  app.add_option("--workers", workers, "parallel openat processes in the drop test")->capture_default_str();
  app.add_option("--ringbuf-mb", ringbuf_mb, "vigil ring buffer size")->capture_default_str();
  bool openat_only = false;
  app.add_flag("--openat-only", openat_only,
               "only the openat loop (bare, tracepoints, vigil events, vigil run with the default, exec-only and "
               "path-watching rules); no other workload, no drop test");
  std::string fd_table = "inherited";
  app.add_option("--fd-table", fd_table,
                 "the loops' fd table: inherited (as started; a child of bash has 256 slots) or small (64, as a "
                 "systemd service's): vigil reads the opened file by direct loads only in a small one")
      ->check(CLI::IsMember({"inherited", "small"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (fd_table == "small") {
    // a forked child's table is sized to the descriptors open at the fork
    ::syscall(SYS_close_range, 3, ~0U, 0);
    pid_t child = ::fork();
    if (child < 0) {
      std::perror("fork");
      return 1;
    }
    if (child > 0) {
      int status = 0;
      ::waitpid(child, &status, 0);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
  }

  if (::geteuid() != 0) {
    std::fprintf(stderr, "capture_bench needs root (it loads BPF programs through vigil and libbpf-tools)\n");
    return 1;
  }
  char tmpl[] = "/tmp/vigil-capture-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  const std::string target = dir + "/target";
  std::ofstream(target) << "x";
  ::signal(SIGPIPE, SIG_IGN);

  std::printf("capture_bench  vigil=%s  rounds=%d  openat=%llu exec=%llu connect=%llu  ncpu=%ld\n", vigil.c_str(),
              rounds, static_cast<unsigned long long>(n_open), static_cast<unsigned long long>(n_exec),
              static_cast<unsigned long long>(n_connect), ::sysconf(_SC_NPROCESSORS_ONLN));
  {
    std::ifstream st("/proc/self/status");
    std::string l;
    while (std::getline(st, l))
      if (l.rfind("FDSize:", 0) == 0) std::printf("fd table of the loops: %s slots (--fd-table %s)\n", l.c_str() + 8, fd_table.c_str());
  }
  {
    std::ifstream la("/proc/loadavg");
    std::string l;
    std::getline(la, l);
    std::printf("loadavg at start: %s\n\n", l.c_str());
  }

  // ---- part 1: per-operation cost, sensor vs bare vs libbpf-tools
  struct Workload {
    const char* name;
    const char* tool;
    std::function<LoopResult()> run;
  };
  Listener listener;
  std::vector<Workload> workloads = {
      {"openat", "/usr/sbin/opensnoop", [&] { return OpenatLoop(target, n_open); }},
      {"fork+exec", "/usr/sbin/execsnoop", [&] { return ExecLoop(n_exec); }},
      {"connect", "/usr/sbin/tcpconnect", [&] { return ConnectLoop(listener, n_connect); }},
  };
  if (openat_only) workloads.resize(1);
  long vigil_rss_kb = 0, vigil_hwm_kb = 0;
  // The openat loop's path is below a fresh /tmp directory no default rule
  // watches: "vigil run" shows the open path filter, "vigil run exec-only"
  // the interest filter (bench/exec_only_rules.yaml: opens not sent at all),
  // "vigil run path-rules" the open path filter (bench/open_path_rules.yaml:
  // rules on opens that watch paths by fd.name; the default rules read
  // fd.name.resolved, which leaves that filter off),
  // "tracepoints" the cost of the attachment alone.
  auto start = [&](const std::string& mode) -> std::unique_ptr<Sensor> {
    if (mode == "tracepoints") return StartTracepoints(dir);
    if (mode == "vigil events") return StartVigil(vigil, dir, ringbuf_mb);
    if (mode == "vigil run") return StartVigilRun(vigil, dir, ringbuf_mb);
    if (mode == "vigil run path-rules") return StartVigilRun(vigil, dir, ringbuf_mb, OPEN_PATH_RULES);
    return StartVigilRun(vigil, dir, ringbuf_mb, EXEC_ONLY_RULES);
  };
  std::printf("%-10s %-19s %12s %10s %14s %12s %12s\n", "workload", "mode", "ns/op", "x bare", "sensor cpu %",
              "events", "drops");
  for (const Workload& w : workloads) {
    std::map<std::string, std::vector<double>> ns;
    std::map<std::string, std::vector<double>> cpu;
    std::map<std::string, uint64_t> events, drops;
    w.run();  // warm caches (page cache, dentries, binaries)
    for (int r = 0; r < rounds; ++r) {
      ns["bare"].push_back(w.run().NsPerOp());
      const std::vector<std::string> modes =
          std::string(w.name) == "openat"
              ? std::vector<std::string>{"tracepoints", "vigil events", "vigil run", "vigil run exec-only",
                                         "vigil run path-rules"}
              : std::vector<std::string>{"vigil events", "vigil run"};
      for (const std::string& mode : modes) {
        auto s = start(mode);
        if (!s->ready()) {
          std::fprintf(stderr, "%s did not start:\n%s\n", mode.c_str(), s->LogText().c_str());
          return 1;
        }
        ProcUsage before = ReadUsage(s->pid());
        LoopResult res = w.run();
        ProcUsage after = ReadUsage(s->pid());
        SensorReport rep = s->Stop();
        ns[mode].push_back(res.NsPerOp());
        cpu[mode].push_back(100.0 * (after.cpu_s - before.cpu_s) / res.seconds);
        events[mode] += rep.stats["events"];
        drops[mode] += rep.stats["kernel.ringbuf_drop"];
        vigil_rss_kb = std::max(vigil_rss_kb, rep.usage.rss_kb);
        vigil_hwm_kb = std::max(vigil_hwm_kb, rep.usage.hwm_kb);
      }
      {
        auto s = StartTool(w.tool, dir);
        const char* name = std::strrchr(w.tool, '/') + 1;
        if (!s->ready()) {
          std::fprintf(stderr, "%s did not start:\n%s\n", w.tool, s->LogText().c_str());
          continue;
        }
        ProcUsage before = ReadUsage(s->pid());
        LoopResult res = w.run();
        ProcUsage after = ReadUsage(s->pid());
        s->Stop();
        ns[name].push_back(res.NsPerOp());
        cpu[name].push_back(100.0 * (after.cpu_s - before.cpu_s) / res.seconds);
      }
    }
    double bare = Median(ns["bare"]);
    for (auto& [mode, v] : ns) {
      double m = Median(v);
      bool ours = mode.rfind("vigil", 0) == 0;
      std::string ev = ours ? std::to_string(events[mode] / static_cast<uint64_t>(rounds)) : "-";
      std::string dr = ours ? std::to_string(drops[mode]) : "-";
      std::string c = mode == "bare" ? "-" : std::to_string(static_cast<int>(Median(cpu[mode]) + 0.5));
      std::printf("%-10s %-19s %12.0f %10.2f %14s %12s %12s\n", w.name, mode.c_str(), m, bare > 0 ? m / bare : 0,
                  c.c_str(), ev.c_str(), dr.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("(events: all events vigil emitted during one round, host-wide, median round; "
              "drops: kernel ringbuf_drop summed over rounds)\n\n");
  if (openat_only) return 0;

  // ---- part 2: sustained events/s before the first kernel drop
  std::printf("drop test: %d openat processes paced at each rate for %.0f s, vigil ring buffer %u MiB\n", workers,
              step_seconds, ringbuf_mb);
  std::printf("%-13s %12s %14s %16s %12s %12s %14s\n", "mode", "offered/s", "opens done/s", "vigil events/s", "ringbuf_drop",
              "other loss", "vigil cpu %");
  std::map<std::string, double> best_clean;
  for (const char* mode : {"vigil events", "vigil run"})
  for (double rate : rates) {
    auto s = std::string(mode) == "vigil run" ? StartVigilRun(vigil, dir, ringbuf_mb) : StartVigil(vigil, dir, ringbuf_mb);
    if (!s->ready()) {
      std::fprintf(stderr, "%s did not start:\n%s\n", mode, s->LogText().c_str());
      return 1;
    }
    ProcUsage before = ReadUsage(s->pid());
    auto t0 = Clock::now();
    LoopResult res = PacedOpenat(target, rate, workers, step_seconds);
    // Let the sensor drain what is queued before it is stopped.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double span = Seconds(Clock::now() - t0);
    ProcUsage after = ReadUsage(s->pid());
    SensorReport rep = s->Stop();
    vigil_rss_kb = std::max(vigil_rss_kb, rep.usage.rss_kb);
    vigil_hwm_kb = std::max(vigil_hwm_kb, rep.usage.hwm_kb);
    uint64_t drop = rep.stats["kernel.ringbuf_drop"];
    uint64_t other = rep.stats["kernel.pending_full"];
    for (auto& [k, v] : rep.stats)
      if (k.rfind("decoder.", 0) == 0 && k != "decoder.decoded") other += v;
    double done_rate = res.ops / res.seconds;
    std::printf("%-13s %12s %14.0f %16.0f %12llu %12llu %14.0f\n", mode,
                rate > 0 ? std::to_string(static_cast<long>(rate)).c_str() : "unpaced", done_rate,
                static_cast<double>(rep.stats["events"]) / span, static_cast<unsigned long long>(drop),
                static_cast<unsigned long long>(other), 100.0 * (after.cpu_s - before.cpu_s) / span);
    std::fflush(stdout);
    if (drop == 0 && other == 0 && done_rate > best_clean[mode]) best_clean[mode] = done_rate;
  }
  for (const auto& [mode, best] : best_clean)
    std::printf("%s: highest openat rate with 0 drops: %.0f events/s\n", mode.c_str(), best);
  std::printf("\n");
  std::printf("vigil RSS: %.1f MiB at stop (max over runs), peak (VmHWM) %.1f MiB\n", vigil_rss_kb / 1024.0,
              vigil_hwm_kb / 1024.0);

  ::unlink(target.c_str());
  for (const char* f : {"/vigil.log", "/vigil-run.log", "/vigil.yaml", "/alerts.json"}) ::unlink((dir + f).c_str());
  for (const char* t : {"opensnoop", "execsnoop", "tcpconnect"}) ::unlink((dir + "/" + t + ".log").c_str());
  ::rmdir(dir.c_str());
  return 0;
}
