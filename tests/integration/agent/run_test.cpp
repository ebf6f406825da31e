// `vigil run` end to end on this kernel: the real binary, real BPF capture, real
// files and HTTP. Covers alert delivery, /metrics, SIGHUP with a broken and a
// good ruleset, --dry-run, and a clean SIGTERM.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string RuleFile(const std::string& name, const std::string& marker) {
  return "- rule: " + name + "\n  desc: test\n  condition: evt.type in (open, openat) and fd.name = " + marker +
         "\n  output: marker opened by %proc.name (%fd.name)\n  priority: WARNING\n  tags: [test]\n";
}

// The agent as a child process; its stderr is collected line by line.
class Agent {
 public:
  explicit Agent(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(VIGIL_BIN));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(VIGIL_BIN, argv.data());
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
  ~Agent() {
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
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void Signal(int sig) { kill(pid_, sig); }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (reader_.joinable()) reader_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

int RunToExit(const std::vector<std::string>& args) {
  Agent a(args);
  return a.Wait();
}

void Touch(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd >= 0) close(fd);
}

std::size_t CountLines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("vigil run: alerts, metrics, reload keeps the old ruleset on errors, clean stop", "[root]") {
  char tmpl[] = "/tmp/vigil-run-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string rules = dir + "/rules.yaml", config = dir + "/vigil.yaml", alerts = dir + "/alerts.json";
  const std::string marker_a = dir + "/marker-a", marker_b = dir + "/marker-b";
  Write(marker_a, "a");
  Write(marker_b, "b");
  Write(rules, RuleFile("Marker A", marker_a));
  Write(config, "outputs:\n  file:\n    enabled: true\n    path: " + alerts +
                    "\n    fsync_interval_ms: 0\nmetrics:\n  listen: 127.0.0.1:0\nstats_interval_s: 0\n");

  SECTION("dry run") {
    CHECK(RunToExit({"run", "--dry-run", "-c", config, "-r", rules}) == 0);
    Write(dir + "/broken.yaml", "- rule: Broken\n  condition: evt.type = open and\n");
    CHECK(RunToExit({"run", "--dry-run", "-c", config, "-r", dir + "/broken.yaml"}) == 2);
    CHECK(RunToExit({"run", "--dry-run", "-c", dir + "/missing.yaml", "-r", rules}) == 2);
  }

  SECTION("live") {
    Agent agent({"run", "-c", config, "-r", rules});
    REQUIRE(agent.WaitFor("vigil running", 60s));
    std::smatch m;
    const auto log = agent.Log();
    REQUIRE(std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
    const int port = std::stoi(m[1]);

    Touch(marker_a);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker A\"") < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    REQUIRE(CountLines(alerts, "\"rule\":\"Marker A\"") == 1);

    // /metrics counts the match and the delivery (published once a second).
    httplib::Client http("127.0.0.1", port);
    std::string body;
    deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http.Get("/metrics");
      REQUIRE(r);
      body = r->body;
      if (body.find("vigil_rule_matches_total{rule=\"Marker A\"} 1\n") != std::string::npos) break;
      std::this_thread::sleep_for(200ms);
    }
    CHECK(body.find("vigil_rule_matches_total{rule=\"Marker A\"} 1\n") != std::string::npos);
    CHECK(body.find("vigil_alerts_sent_total{sink=\"file\"} 1\n") != std::string::npos);
    CHECK(std::regex_search(body, std::regex(R"(vigil_events_by_type_total\{type="openat"\} [1-9])")));
    CHECK(body.find("vigil_kernel_errors_total{site=\"ringbuf_drop\"}") != std::string::npos);
    auto health = http.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);

    // A broken ruleset on SIGHUP: refused, old rule still fires, an alert says so.
    Write(rules, "- rule: Marker A\n  condition: evt.type in (open, openat) and and\n");
    agent.Signal(SIGHUP);
    REQUIRE(agent.WaitFor("previous one stays active", 30s));
    Touch(marker_a);
    deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker A\"") < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    CHECK(CountLines(alerts, "\"rule\":\"Marker A\"") == 2);
    CHECK(CountLines(alerts, "\"rule\":\"vigil rules reload failed\"") == 1);

    // A good ruleset on SIGHUP replaces the old one.
    Write(rules, RuleFile("Marker B", marker_b));
    agent.Signal(SIGHUP);
    REQUIRE(agent.WaitFor("new ruleset active", 30s));
    Touch(marker_a);
    Touch(marker_b);
    deadline = std::chrono::steady_clock::now() + 10s;
    while (CountLines(alerts, "\"rule\":\"Marker B\"") < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    CHECK(CountLines(alerts, "\"rule\":\"Marker B\"") == 1);
    CHECK(CountLines(alerts, "\"rule\":\"Marker A\"") == 2);

    agent.Signal(SIGTERM);
    CHECK(agent.Wait() == 0);
    CHECK(agent.Log().find("stopping: flushing outputs") != std::string::npos);
  }
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}

TEST_CASE("vigil run enforces a kill rule before the program runs, and the alert says so", "[root]") {
  char tmpl[] = "/tmp/vigil-kill-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string rules = dir + "/rules.yaml", config = dir + "/vigil.yaml", alerts = dir + "/alerts.json";
  // Both copies would create their marker if they ran a line of their own.
  const std::string script = "#!/bin/sh\ntouch \"$0.ran\"\n";
  Write(dir + "/evil", script);
  Write(dir + "/good", script);
  REQUIRE(chmod((dir + "/evil").c_str(), 0755) == 0);
  REQUIRE(chmod((dir + "/good").c_str(), 0755) == 0);
  Write(rules, "- rule: Kill evil\n  desc: test\n  condition: evt.type = execve and proc.exepath = " + dir +
                   "/evil\n  output: killed %proc.exepath\n  priority: CRITICAL\n  action: kill\n  tags: [test]\n");
  Write(config, "outputs:\n  file:\n    enabled: true\n    path: " + alerts +
                    "\n    fsync_interval_ms: 0\nmetrics:\n  enabled: false\nstats_interval_s: 0\n");

  Agent agent({"run", "-c", config, "-r", rules});
  REQUIRE(agent.WaitFor("vigil running", 60s));
  CHECK(agent.Log().find("enforcement: rule 'Kill evil': kill via") != std::string::npos);

  auto run = [](const std::string& path) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  };
  const int evil = run(dir + "/evil");
  const int good = run(dir + "/good");
  CHECK(WIFSIGNALED(evil));
  CHECK(WTERMSIG(evil) == SIGKILL);
  CHECK(access((dir + "/evil.ran").c_str(), F_OK) != 0);
  CHECK(WIFEXITED(good));
  CHECK(access((dir + "/good.ran").c_str(), F_OK) == 0);

  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (CountLines(alerts, "\"rule\":\"Kill evil\"") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK(CountLines(alerts, "\"enforcement\":\"kill\"") == 1);
  CHECK(CountLines(alerts, "\"action\":\"kill\"") == 1);
  agent.Signal(SIGTERM);
  CHECK(agent.Wait() == 0);
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}
