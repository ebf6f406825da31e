// SPDX-License-Identifier: Apache-2.0
#include "vigil_harness.h"

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#ifndef VIGIL_BINARY
#error "VIGIL_BINARY must name the vigil executable under test"
#endif

namespace vigil::e2e {

namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

std::string SeenAlert::Field(const std::string& name) const {
  if (!output_fields.is_object() || !output_fields.contains(name)) return "";
  const auto& v = output_fields[name];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<NA>";
  return v.dump();
}

bool SeenAlert::WarningOrAbove() const {
  static const char* kSevere[] = {"Emergency", "Alert", "Critical", "Error", "Warning"};
  for (const char* s : kSevere)
    if (priority == s) return true;
  return false;
}

std::string RuleYaml(const std::string& name, const std::string& desc, const std::string& condition,
                     const std::string& output, const std::string& priority) {
  return "- rule: " + name + "\n  desc: " + desc + "\n  condition: " + condition + "\n  output: " + output +
         "\n  priority: " + priority + "\n";
}

std::string WriteSentinelRule(const std::string& dir) {
  const std::string path = dir + "/e2e-sentinel.yaml";
  std::ofstream(path) << RuleYaml(kSentinelRule,
                                  "the e2e test opened its sentinel file; every earlier event has been handled",
                                  "evt.type in (open, openat) and fd.name = " + dir + "/sentinel",
                                  "e2e sentinel opened (file=%fd.name)", "NOTICE");
  return path;
}

pid_t RunShell(const std::vector<std::string>& args, int* status) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>("sh")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/bin/sh", argv.data());
    _exit(127);
  }
  if (pid > 0) waitpid(pid, status, 0);
  return pid;
}

std::string FinishSteps(VigilProcess& vigil, const std::string& dir, std::vector<SeenAlert>* alerts) {
  std::string problems = AwaitSentinel(vigil, dir);
  const std::string tail = vigil.LogTail();
  const std::string stopped = vigil.Stop();
  if (!stopped.empty()) problems += (problems.empty() ? "" : "; ") + stopped;
  *alerts = vigil.Alerts();
  return problems.empty() ? "" : problems + "\nvigil's log ends:\n" + tail;
}

std::string AwaitSentinel(const VigilProcess& vigil, const std::string& dir, std::chrono::seconds timeout) {
  const uint32_t me = static_cast<uint32_t>(getpid());
  const std::string sentinel = dir + "/sentinel";
  const auto start = std::chrono::steady_clock::now();
  auto next_open = start;
  while (std::chrono::steady_clock::now() < start + timeout) {
    if (std::chrono::steady_clock::now() >= next_open) {
      int fd = open(sentinel.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return "cannot open the sentinel " + sentinel + ": " + std::strerror(errno);
      close(fd);
      next_open = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    for (const auto& a : vigil.Alerts())
      if (a.rule == kSentinelRule && a.pid == me) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return "the sentinel alert did not arrive within " + std::to_string(timeout.count()) +
         " s: vigil is behind or lost events";
}

VigilProcess::VigilProcess(std::string dir, std::vector<std::string> rules_paths)
    : dir_(std::move(dir)), rules_paths_(std::move(rules_paths)) {}

VigilProcess::~VigilProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string VigilProcess::Start(int timeout_s) {
  const std::string config = dir_ + "/vigil.yaml";
  {
    std::ofstream c(config);
    // metrics off: a second vigil on the host may hold the default port
    c << "stats_interval_s: 0\n"
         "metrics:\n"
         "  enabled: false\n"
         "outputs:\n"
         "  file:\n"
         "    enabled: true\n"
         "    path: "
      << dir_
      << "/alerts.json\n"
         "    fsync_interval_ms: 0\n"
         "  stdout:\n"
         "    enabled: true\n"
         "    format: ocsf\n"
      << extra_config_;
  }
  std::vector<std::string> args = {VIGIL_BINARY, "run", "-c", config};
  for (const auto& r : rules_paths_) {
    args.push_back("-r");
    args.push_back(r);
  }
  const std::string log = dir_ + "/vigil.log";
  const std::string out = dir_ + "/stdout.json";
  pid_ = fork();
  if (pid_ < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid_ == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int l = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0 || l < 0 || dup2(o, 1) < 0 || dup2(l, 2) < 0) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "vigil " + Describe(status) + " before it was ready; log:\n" + LogTail();
    }
    if (ReadWhole(log).find("vigil running") != std::string::npos) return "";
    usleep(50 * 1000);
  }
  return "vigil not ready after " + std::to_string(timeout_s) + " s; log:\n" + LogTail();
}

std::string VigilProcess::Stop(int timeout_s) {
  if (pid_ <= 0) return "vigil is not running";
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Describe(status);
    }
    usleep(20 * 1000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return "vigil did not exit within " + std::to_string(timeout_s) + " s of SIGTERM";
}

std::vector<SeenAlert> VigilProcess::Alerts() const {
  // OCSF lines by uuid: the acting process and container.
  std::map<std::string, const nlohmann::json*> ocsf;
  auto ocsf_lines = ReadJsonLines(dir_ + "/stdout.json");
  for (const auto& j : ocsf_lines)
    if (j.contains("finding_info") && j["finding_info"].contains("uid"))
      ocsf[j["finding_info"]["uid"].get<std::string>()] = &j;
  std::vector<SeenAlert> out;
  for (const auto& j : ReadJsonLines(dir_ + "/alerts.json")) {
    SeenAlert a;
    a.uuid = j.value("uuid", "");
    a.rule = j.value("rule", "");
    a.priority = j.value("priority", "");
    a.output = j.value("output", "");
    if (j.contains("output_fields")) a.output_fields = j["output_fields"];
    auto it = ocsf.find(a.uuid);
    if (it != ocsf.end()) {
      const auto& ev = (*it->second)["evidences"];
      if (ev.is_array() && !ev.empty()) {
        const auto& e = ev[0];
        if (e.contains("process")) {
          a.pid = e["process"].value("pid", 0u);
          if (e["process"].contains("parent_process")) a.ppid = e["process"]["parent_process"].value("pid", 0u);
        }
        if (e.contains("container")) a.container = e["container"].value("uid", "");
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string VigilProcess::LogTail(std::size_t bytes) const {
  std::string log = ReadWhole(dir_ + "/vigil.log");
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

// --- ForkWatch ---------------------------------------------------------------

ForkWatch::ForkWatch() {
  fd_ = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd_ < 0) {
    error_ = std::string("proc connector socket: ") + std::strerror(errno);
    return;
  }
  int rcv = 16 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    error_ = std::string("proc connector bind: ") + std::strerror(errno);
    return;
  }
  // nlmsghdr | cn_msg | proc_cn_mcast_op, laid out by hand (cn_msg ends in a
  // flexible array member).
  alignas(nlmsghdr) char msg[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(msg);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = static_cast<uint32_t>(getpid());
  auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(proc_cn_mcast_op);
  const proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(cn->data, &op, sizeof op);
  if (send(fd_, msg, nl->nlmsg_len, 0) < 0) {
    error_ = std::string("proc connector listen: ") + std::strerror(errno);
    return;
  }
  if (pipe2(stop_pipe_, O_CLOEXEC) < 0) {
    error_ = std::string("pipe: ") + std::strerror(errno);
    return;
  }
  thread_ = std::thread([this] { Loop(); });
}

ForkWatch::~ForkWatch() {
  if (thread_.joinable()) {
    char c = 1;
    (void)!write(stop_pipe_[1], &c, 1);
    thread_.join();
  }
  for (int fd : {fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) close(fd);
}

void ForkWatch::Loop() {
  alignas(nlmsghdr) char buf[1 << 16];
  for (;;) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == ENOBUFS) ++overruns_;
      continue;
    }
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nl, static_cast<uint32_t>(n));
         nl = NLMSG_NEXT(nl, n)) {
      auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
      if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
      auto* ev = reinterpret_cast<proc_event*>(cn->data);
      if (ev->what != proc_event::PROC_EVENT_FORK) continue;
      // Threads share the tgid: only new processes extend the tree.
      if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid) continue;
      std::lock_guard<std::mutex> lock(mu_);
      forks_.emplace_back(static_cast<uint32_t>(ev->event_data.fork.parent_tgid),
                          static_cast<uint32_t>(ev->event_data.fork.child_tgid));
    }
  }
}

std::set<uint32_t> ForkWatch::Descendants(uint32_t root) const {
  std::set<uint32_t> out = {root};
  std::lock_guard<std::mutex> lock(mu_);
  // Forks arrive in order, so one pass suffices; later parents of earlier
  // children cannot exist.
  for (const auto& [parent, child] : forks_)
    if (out.count(parent)) out.insert(child);
  return out;
}

}  // namespace vigil::e2e
