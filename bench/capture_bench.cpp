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
// Then engine_bench's events/s per ruleset on the recorded stream, and the
// aims run: `vigil run` (default rules) offered 200k opens/s for a fixed
// time, its losses read from /metrics and its peak RSS from /proc.
// Rounds alternate the modes, and each row prints the median with the min
// and max beside it: on a shared host one run's figure means little.
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
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// How long a sensor may take to start (--start-timeout): loading and
// verifying the BPF programs took 100 s on this 2-core host under a load of 12.
int g_start_timeout_s = 300;

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
    auto deadline = Clock::now() + std::chrono::seconds(g_start_timeout_s);
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
// `metrics`: serve /metrics on a free loopback port (logged at start).
std::unique_ptr<Sensor> StartVigilRun(const std::string& vigil, const std::string& dir, uint32_t ringbuf_mb,
                                      const std::vector<std::string>& rules = {}, bool metrics = false) {
  const std::string config = dir + "/vigil.yaml";
  std::ofstream(config) << "capture:\n  ringbuf_mb: " << ringbuf_mb << "\nmetrics:\n  enabled: "
                        << (metrics ? "true\n  listen: 127.0.0.1:0" : "false")
                        << "\nstats_interval_s: 0\noutputs:\n  file:\n    enabled: true\n"
                           "    path: "
                        << dir << "/alerts.json\n";
  std::vector<std::string> argv{vigil, "run", "-c", config};
  if (!rules.empty()) argv.push_back("-r");
  argv.insert(argv.end(), rules.begin(), rules.end());
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
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// ---------------------------------------------------------------- /metrics

// The body of GET http://127.0.0.1:`port``path` ("" when it cannot be read).
std::string HttpGet(int port, const std::string& path) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string text;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::write(s, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[65536];
      ssize_t n;
      while ((n = ::read(s, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(s);
  std::size_t body = text.find("\r\n\r\n");
  return body == std::string::npos ? "" : text.substr(body + 4);
}

// The sum of every sample of `name` (all label sets) in a Prometheus text
// page; with `label`, only the samples carrying it (e.g. site="ringbuf_drop").
double MetricSum(const std::string& page, const std::string& name, const std::string& label = "") {
  std::istringstream in(page);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    if (!label.empty() && line.find(label) == std::string::npos) continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

// The port `vigil run` logged for its /metrics ("metrics: http://H:PORT/metrics"), or -1.
int MetricsPort(const std::string& log) {
  std::size_t at = log.find("metrics: http://");
  if (at == std::string::npos) return -1;
  std::size_t colon = log.find(':', at + 16);
  return colon == std::string::npos ? -1 : std::atoi(log.c_str() + colon + 1);
}

// ---------------------------------------------------------------- options

struct Options {
  std::string vigil = VIGIL_BIN;
  int rounds = 3;
  uint64_t n_open = 200000, n_exec = 400, n_connect = 10000;
  std::vector<double> rates = {50000, 100000, 200000, 300000, 0};
  double step_seconds = 3;
  int workers = 2;
  uint32_t ringbuf_mb = 16;
  bool openat_only = false;
  std::string fd_table = "inherited";
  double engine_seconds = 1;
  std::string engine_events = ENGINE_EVENTS;
  double aim_rate = 200000;
  double aim_seconds = 20;
};

void AddOptions(CLI::App& app, Options& o) {
  app.add_option("--vigil", o.vigil, "vigil binary")->capture_default_str();
  app.add_option("--rounds", o.rounds,
                 "rounds of each workload; each round runs bare and every mode once, in an order rotated by one "
                 "each round (median, min and max reported)")
      ->capture_default_str();
  app.add_option("--openat", o.n_open, "openat calls per round")->capture_default_str();
  app.add_option("--exec", o.n_exec, "fork+exec per round")->capture_default_str();
  app.add_option("--connect", o.n_connect, "loopback connects per round")->capture_default_str();
  app.add_option("--rates", o.rates, "paced openat rates for the drop test, events/s, comma-separated (0 = unpaced)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--step-seconds", o.step_seconds, "seconds per rate step")->capture_default_str();
  app.add_option("--workers", o.workers, "parallel openat processes in the drop test and the aims run")
      ->capture_default_str();
  app.add_option("--ringbuf-mb", o.ringbuf_mb, "vigil ring buffer size")->capture_default_str();
  app.add_flag("--openat-only", o.openat_only,
               "only the openat loop (bare, tracepoints, vigil events, vigil run with the default, exec-only and "
               "path-watching rules, and the defaults without their resolved-path read rules), the engine rates "
               "and the aims run; no other workload, no drop test");
  app.add_option("--fd-table", o.fd_table,
                 "the loops' fd table: inherited (as started; a child of bash has 256 slots) or small (64, as a "
                 "systemd service's): vigil reads the opened file by direct loads only in a small one")
      ->check(CLI::IsMember({"inherited", "small"}))
      ->capture_default_str();
  app.add_option("--engine-seconds", o.engine_seconds,
                 "CPU seconds per ruleset for the engine rates (engine_bench on --engine-events); 0 = skip")
      ->capture_default_str();
  app.add_option("--engine-events", o.engine_events, "events file for the engine rates")->capture_default_str();
  app.add_option("--start-timeout", g_start_timeout_s, "seconds a sensor may take to start")->capture_default_str();
  app.add_option("--aim-rate", o.aim_rate, "opens/s offered to `vigil run` (default rules) in the aims run")
      ->capture_default_str();
  app.add_option("--aim-seconds", o.aim_seconds,
                 "seconds of the aims run (drops from /metrics, peak RSS from /proc); 0 = skip")
      ->capture_default_str();
}

// --fd-table small: go on in a child whose fd table is sized to 3
// descriptors. Returns the exit code for the parent, or nullopt in the child
// (and for "inherited").
std::optional<int> EnterFdTable(const std::string& fd_table) {
  if (fd_table != "small") return std::nullopt;
  // a forked child's table is sized to the descriptors open at the fork
  ::syscall(SYS_close_range, 3, ~0U, 0);
  pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) return std::nullopt;
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void PrintLoadavg(const char* when) {
  std::ifstream la("/proc/loadavg");
  std::string l;
  std::getline(la, l);
  std::printf("loadavg %s: %s\n", when, l.c_str());
}

void PrintHeader(const Options& o) {
  std::printf("capture_bench  vigil=%s  rounds=%d  openat=%llu exec=%llu connect=%llu  ncpu=%ld\n", o.vigil.c_str(),
              o.rounds, static_cast<unsigned long long>(o.n_open), static_cast<unsigned long long>(o.n_exec),
              static_cast<unsigned long long>(o.n_connect), ::sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream st("/proc/self/status");
  std::string l;
  while (std::getline(st, l))
    if (l.rfind("FDSize:", 0) == 0)
      std::printf("fd table of the loops: %s slots (--fd-table %s)\n", l.c_str() + 8, o.fd_table.c_str());
  PrintLoadavg("at start");
  std::printf("\n");
}

// ---------------------------------------------------------------- part 1: cost per operation

struct Workload {
  const char* name;
  const char* tool;
  std::function<LoopResult()> run;
};

struct Bench {
  const Options& opt;
  std::string dir;
  std::string target;
  long rss_kb = 0, hwm_kb = 0;  // vigil's, max over runs

  void Note(const ProcUsage& u) {
    rss_kb = std::max(rss_kb, u.rss_kb);
    hwm_kb = std::max(hwm_kb, u.hwm_kb);
  }

  // The openat loop's path is below a fresh /tmp directory no default rule
  // watches: "vigil run" shows the open path filter, "vigil run exec-only"
  // the interest filter (bench/exec_only_rules.yaml: opens not sent at all),
  // "vigil run path-rules" the open path filter's given-path test alone
  // (bench/open_path_rules.yaml: rules on opens that watch paths by fd.name),
  // "vigil run no-resolved-reads" the default rules without the rules on read
  // opens that match only fd.name.resolved (bench/no_resolved_read_rules.yaml):
  // the loop's read opens stay in the kernel at the given-path test, before
  // the record is built, where under "vigil run" they fail the given-path
  // prefixes and are dropped by the resolved test after the opened file's
  // walk; "tracepoints" the cost of the attachment alone.
  std::unique_ptr<Sensor> Start(const std::string& mode) const {
    if (mode == "tracepoints") return StartTracepoints(dir);
    if (mode == "vigil events") return StartVigil(opt.vigil, dir, opt.ringbuf_mb);
    if (mode == "vigil run") return StartVigilRun(opt.vigil, dir, opt.ringbuf_mb);
    if (mode == "vigil run path-rules") return StartVigilRun(opt.vigil, dir, opt.ringbuf_mb, {OPEN_PATH_RULES});
    if (mode == "vigil run no-resolved-reads")
      return StartVigilRun(opt.vigil, dir, opt.ringbuf_mb, {DEFAULT_RULES_DIR, NO_RESOLVED_READ_RULES});
    return StartVigilRun(opt.vigil, dir, opt.ringbuf_mb, {EXEC_ONLY_RULES});
  }
};

// One workload's figures, by mode ("bare", the sensors, the tool's name).
struct Samples {
  std::map<std::string, std::vector<double>> ns, cpu;
  std::map<std::string, uint64_t> events, drops;
};

// Runs `w` once under a fresh `s` (already started), records ns/op and the
// sensor's CPU share; returns the sensor's report.
SensorReport Measure(const Workload& w, Sensor& s, const std::string& mode, Samples& out) {
  ProcUsage before = ReadUsage(s.pid());
  LoopResult res = w.run();
  ProcUsage after = ReadUsage(s.pid());
  SensorReport rep = s.Stop();
  out.ns[mode].push_back(res.NsPerOp());
  out.cpu[mode].push_back(100.0 * (after.cpu_s - before.cpu_s) / res.seconds);
  return rep;
}

// One round of `mode` ("bare", a vigil mode, or the tool). False: a vigil
// mode did not start (the tool not starting is reported and skipped).
bool RunMode(Bench& b, const Workload& w, const std::string& mode, Samples& out) {
  if (mode == "bare") {
    out.ns["bare"].push_back(w.run().NsPerOp());
    return true;
  }
  const bool tool = mode == w.tool;
  auto s = tool ? StartTool(w.tool, b.dir) : b.Start(mode);
  if (!s->ready()) {
    std::fprintf(stderr, "%s did not start:\n%s\n", mode.c_str(), s->LogText().c_str());
    return tool;
  }
  SensorReport rep = Measure(w, *s, tool ? std::strrchr(w.tool, '/') + 1 : mode, out);
  if (tool) return true;
  out.events[mode] += rep.stats["events"];
  out.drops[mode] += rep.stats["kernel.ringbuf_drop"];
  b.Note(rep.usage);
  return true;
}

void PrintRows(const Workload& w, Samples& s, int rounds) {
  double bare = Median(s.ns["bare"]);
  for (auto& [mode, v] : s.ns) {
    double m = Median(v);
    bool ours = mode.rfind("vigil", 0) == 0;
    std::string ev = ours ? std::to_string(s.events[mode] / static_cast<uint64_t>(rounds)) : "-";
    std::string dr = ours ? std::to_string(s.drops[mode]) : "-";
    std::string c = mode == "bare" ? "-" : std::to_string(static_cast<int>(Median(s.cpu[mode]) + 0.5));
    std::printf("%-10s %-20s %10.0f %9.0f %9.0f %8.2f %13s %12s %12s\n", w.name, mode.c_str(), m,
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()),
                bare > 0 ? m / bare : 0, c.c_str(), ev.c_str(), dr.c_str());
  }
  std::fflush(stdout);
}

// Every mode of `w`, `rounds` times, alternating: each round runs all modes
// once, starting one mode later than the round before, so a slow drift of
// the host's load spreads over all of them.
bool CostOf(Bench& b, const Workload& w) {
  std::vector<std::string> modes =
      std::string(w.name) == "openat"
          ? std::vector<std::string>{"bare", "tracepoints", "vigil events", "vigil run", "vigil run exec-only",
                                     "vigil run path-rules", "vigil run no-resolved-reads", w.tool}
          : std::vector<std::string>{"bare", "vigil events", "vigil run", w.tool};
  Samples s;
  w.run();  // warm caches (page cache, dentries, binaries)
  for (int r = 0; r < b.opt.rounds; ++r) {
    for (std::size_t i = 0; i < modes.size(); ++i)
      if (!RunMode(b, w, modes[(i + static_cast<std::size_t>(r)) % modes.size()], s)) return false;
  }
  PrintRows(w, s, b.opt.rounds);
  return true;
}

bool CostTable(Bench& b) {
  Listener listener;
  const Options& o = b.opt;
  std::vector<Workload> workloads = {
      {"openat", "/usr/sbin/opensnoop", [&] { return OpenatLoop(b.target, o.n_open); }},
      {"fork+exec", "/usr/sbin/execsnoop", [&] { return ExecLoop(o.n_exec); }},
      {"connect", "/usr/sbin/tcpconnect", [&] { return ConnectLoop(listener, o.n_connect); }},
  };
  if (o.openat_only) workloads.resize(1);
  std::printf("%-10s %-20s %10s %9s %9s %8s %13s %12s %12s\n", "workload", "mode", "ns/op", "min", "max", "x bare",
              "sensor cpu %", "events", "drops");
  for (const Workload& w : workloads)
    if (!CostOf(b, w)) return false;
  std::printf("(ns/op: median over %d rounds, min and max beside it; x bare: median over bare's median; "
              "events: all events vigil emitted during one round, host-wide, mean over rounds; "
              "drops: kernel ringbuf_drop summed over rounds)\n\n",
              o.rounds);
  return true;
}

// ---------------------------------------------------------------- part 2: drops by rate

// One rate step under a fresh sensor of `mode`; returns the opens/s done
// when nothing was lost, else 0 (-1: the sensor did not start).
double DropStep(Bench& b, const char* mode, double rate) {
  const Options& o = b.opt;
  auto s = std::string(mode) == "vigil run" ? StartVigilRun(o.vigil, b.dir, o.ringbuf_mb)
                                            : StartVigil(o.vigil, b.dir, o.ringbuf_mb);
  if (!s->ready()) {
    std::fprintf(stderr, "%s did not start:\n%s\n", mode, s->LogText().c_str());
    return -1;
  }
  ProcUsage before = ReadUsage(s->pid());
  auto t0 = Clock::now();
  LoopResult res = PacedOpenat(b.target, rate, o.workers, o.step_seconds);
  // Let the sensor drain what is queued before it is stopped.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double span = Seconds(Clock::now() - t0);
  ProcUsage after = ReadUsage(s->pid());
  SensorReport rep = s->Stop();
  b.Note(rep.usage);
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
  return drop == 0 && other == 0 ? done_rate : 0;
}

bool DropTable(Bench& b) {
  const Options& o = b.opt;
  std::printf("drop test: %d openat processes paced at each rate for %.0f s, vigil ring buffer %u MiB\n", o.workers,
              o.step_seconds, o.ringbuf_mb);
  std::printf("%-13s %12s %14s %16s %12s %12s %14s\n", "mode", "offered/s", "opens done/s", "vigil events/s",
              "ringbuf_drop", "other loss", "vigil cpu %");
  std::map<std::string, double> best_clean;
  for (const char* mode : {"vigil events", "vigil run"})
    for (double rate : o.rates) {
      double clean = DropStep(b, mode, rate);
      if (clean < 0) return false;
      best_clean[mode] = std::max(best_clean[mode], clean);
    }
  for (const auto& [mode, best] : best_clean)
    std::printf("%s: highest openat rate with 0 drops: %.0f events/s\n", mode.c_str(), best);
  std::printf("\n");
  return true;
}

// ---------------------------------------------------------------- part 3: engine, aims

// engine_bench on the recorded stream: events/s per ruleset, beside the capture rows.
void EngineRates(const Options& o) {
  std::printf("engine rates (engine_bench %.1f %s):\n", o.engine_seconds, o.engine_events.c_str());
  std::fflush(stdout);
  pid_t pid = -1;
  const std::string secs = std::to_string(o.engine_seconds);
  std::vector<char*> args{const_cast<char*>(ENGINE_BENCH_BIN), const_cast<char*>(secs.c_str()),
                          const_cast<char*>(o.engine_events.c_str()), nullptr};
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", ENGINE_BENCH_BIN);
    return;
  }
  ::waitpid(pid, nullptr, 0);
  std::printf("\n");
}

// The aims for `vigil run` with the default rules: `workers`
// processes open at `aim_rate` in all for `aim_seconds`; the kernel's and
// the decoder's losses are read from /metrics before the agent stops, its
// peak RSS (VmHWM) from /proc.
bool AimsRun(Bench& b) {
  const Options& o = b.opt;
  auto s = StartVigilRun(o.vigil, b.dir, o.ringbuf_mb, {}, true);
  const int port = s->ready() ? MetricsPort(s->LogText()) : -1;
  if (port <= 0) {
    std::fprintf(stderr, "vigil run (with /metrics) did not start:\n%s\n", s->LogText().c_str());
    return false;
  }
  const std::string page0 = HttpGet(port, "/metrics");
  LoopResult res = PacedOpenat(b.target, o.aim_rate, o.workers, o.aim_seconds);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // let it drain
  const std::string page = HttpGet(port, "/metrics");
  ProcUsage u = ReadUsage(s->pid());
  s->Stop();
  auto delta = [&](const std::string& name, const std::string& label = "") {
    return MetricSum(page, name, label) - MetricSum(page0, name, label);
  };
  std::printf("aims run: vigil run (default rules, ring buffer %u MiB), %d openat processes offered %.0f opens/s "
              "for %.0f s\n",
              o.ringbuf_mb, o.workers, o.aim_rate, o.aim_seconds);
  std::printf("  opens done/s %.0f; vigil_events_total +%.0f; /metrics %s\n", res.ops / res.seconds,
              delta("vigil_events_total"), page.empty() ? "NOT READ" : "read");
  std::printf("  kernel ringbuf_drop +%.0f, all vigil_kernel_errors_total +%.0f, priority lane dropped +%.0f, "
              "decoder rejects +%.0f\n",
              delta("vigil_kernel_errors_total", "site=\"ringbuf_drop\""), delta("vigil_kernel_errors_total"),
              delta("vigil_priority_lane_dropped_total"), delta("vigil_decoder_rejects_total"));
  std::printf("  vigil RSS %.1f MiB, peak (VmHWM) %.1f MiB\n\n", u.rss_kb / 1024.0, u.hwm_kb / 1024.0);
  b.Note(u);
  return true;
}

void Cleanup(const Bench& b) {
  ::unlink(b.target.c_str());
  for (const char* f : {"/vigil.log", "/vigil-run.log", "/vigil.yaml", "/alerts.json", "/tp_floor.log"})
    ::unlink((b.dir + f).c_str());
  for (const char* t : {"opensnoop", "execsnoop", "tcpconnect"}) ::unlink((b.dir + "/" + t + ".log").c_str());
  ::rmdir(b.dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capture_bench: cost of kernel capture to the workloads it watches (prints figures, asserts nothing)"};
  Options opt;
  AddOptions(app, opt);
  CLI11_PARSE(app, argc, argv);
  if (auto code = EnterFdTable(opt.fd_table)) return *code;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "capture_bench needs root (it loads BPF programs through vigil and libbpf-tools)\n");
    return 1;
  }
  char tmpl[] = "/tmp/vigil-capture-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  Bench b{opt, tmpl, std::string(tmpl) + "/target"};
  std::ofstream(b.target) << "x";
  ::signal(SIGPIPE, SIG_IGN);
  PrintHeader(opt);
  if (!CostTable(b)) return 1;
  if (opt.engine_seconds > 0) EngineRates(opt);
  if (!opt.openat_only && !DropTable(b)) return 1;
  if (opt.aim_seconds > 0 && !AimsRun(b)) return 1;
  std::printf("vigil RSS: %.1f MiB at stop (max over runs), peak (VmHWM) %.1f MiB\n", b.rss_kb / 1024.0,
              b.hwm_kb / 1024.0);
  PrintLoadavg("at end");
  Cleanup(b);
  return 0;
}
