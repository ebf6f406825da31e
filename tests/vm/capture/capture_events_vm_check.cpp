// SPDX-License-Identifier: Apache-2.0
// capture_events_vm_check: capture end to end on a booted kernel. Starts `vigil events -w`,
// performs real exec, file, network, bpf and escape actions, and checks the recorded events (their
// fields, not only their types), then runs them through the default rules with `vigil replay` and
// checks four alerts. On 5.10 this is the legacy BPF build, on 6.1 compat, on 6.12 typed: the same
// checks for each. (One capture load, not a second one for `vigil run`: a load of the typed build
// takes ~35 s under TCG; `vigil run` in the VM is vm_agent_self_protect's.)
//
// Protocol (docs/testing-vm.md): VM-RESULT case lines; exit 0 iff every case passed.
// Usage: capture_events_vm_check VIGIL RULES_DIR
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

bool all_ok = true;

void Case(const std::string& name, bool pass, const std::string& detail = "") {
  std::printf("VM-RESULT case %s %s %s\n", name.c_str(), pass ? "pass" : "fail", detail.c_str());
  std::fflush(stdout);
  all_ok = pass && all_ok;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Starts argv with stdout and stderr to `log`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  execv(a[0], a.data());
  _exit(127);
}

// Waits until `log` holds `text` (true) or the process exits or time runs out (false).
bool WaitFor(const std::string& log, const std::string& text, pid_t pid, std::chrono::seconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (ReadAll(log).find(text) != std::string::npos) return true;
    if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

int Child(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int Run(std::vector<std::string> argv) {
  return Child([&] {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    return 127;
  });
}

struct Actions {
  int port = 0;           // the loopback listener the "reverse shell" connected to
  pid_t traced = 0;       // the child ptrace attached to
  std::string tmp_file;   // a file created under /tmp (a tmpfs: the path walk crosses a mount)
};

// A socket filter that calls bpf_get_prandom_u32 (helper 7), named vm_filter. Before 5.11 BPF
// memory is charged to RLIMIT_MEMLOCK per user, and root's vigil instances already hold more than
// the default: without this the load is refused with EPERM.
int LoadBpf() {
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &unlimited);
  bpf_insn insns[] = {
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<uint64_t>(insns);
  attr.insn_cnt = 3;
  attr.license = reinterpret_cast<uint64_t>("GPL");
  std::strncpy(attr.prog_name, "vm_filter", sizeof(attr.prog_name) - 1);
  int fd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)));
  if (fd >= 0) close(fd);  // close() keeps errno of a failed load: it is not called then
  return fd;
}

Actions Act() {
  Actions a;
  // exec + a miner's command line (busybox true ignores its arguments)
  Case("act_exec", Run({"/bin/true", "-o", "stratum+tcp://pool.invalid:3333", "--donate-level", "1"}) == 0);
  // file: /etc/shadow read by cat; a file created under /tmp
  Case("act_cat_shadow", Run({"/bin/cat", "/etc/shadow"}) == 0);
  a.tmp_file = "/tmp/vm-capture-" + std::to_string(getpid());
  int fd = open(a.tmp_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Case("act_tmp_file", fd >= 0);
  if (fd >= 0) close(fd);
  // network: a child connects to a loopback listener and puts the socket on its stdout (the
  // guest's init leaves lo down; the accept waits at most 5 s)
  Run({"/bin/ip", "link", "set", "lo", "up"});
  int srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bool listening = srv >= 0 && bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && listen(srv, 1) == 0 &&
                   getsockname(srv, reinterpret_cast<sockaddr*>(&sa), &len) == 0;
  a.port = ntohs(sa.sin_port);
  int rc = listening ? Child([&] {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 1;
    return dup2(c, 1) == 1 ? 0 : 2;
  })
                     : -1;
  pollfd pfd{srv, POLLIN, 0};
  int acc = listening && poll(&pfd, 1, 5000) == 1 ? accept(srv, nullptr, nullptr) : -1;
  Case("act_connect_dup2", rc == 0 && acc >= 0, "port " + std::to_string(a.port));
  if (acc >= 0) close(acc);
  if (srv >= 0) close(srv);
  // bpf
  int bpf_fd = LoadBpf();
  Case("act_bpf_prog_load", bpf_fd >= 0, bpf_fd >= 0 ? "" : std::strerror(errno));
  // escape: unshare, setuid, ptrace
  Case("act_unshare_setuid", Child([] {
         if (unshare(CLONE_NEWUTS) != 0) return 1;
         return setuid(0) == 0 ? 0 : 2;
       }) == 0);
  pid_t victim = fork();
  if (victim == 0) {
    pause();
    _exit(0);
  }
  a.traced = victim;
  bool attached = ptrace(PTRACE_ATTACH, victim, nullptr, nullptr) == 0;
  if (attached) {
    waitpid(victim, nullptr, __WALL);
    ptrace(PTRACE_DETACH, victim, nullptr, nullptr);
  }
  kill(victim, SIGKILL);
  waitpid(victim, nullptr, 0);
  Case("act_ptrace", attached);
  return a;
}

std::vector<json> ReadLines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::string Str(const json& e, const char* key) {
  auto it = e.find(key);
  if (it == e.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// One event check: a predicate over an event line, required to hold for at least one.
struct EventCase {
  const char* name;
  std::function<bool(const json&)> match;
};

void CheckEvents(const std::vector<json>& events, const Actions& a) {
  const std::string me = std::to_string(getpid());
  const std::string port = std::to_string(a.port);
  const EventCase cases[] = {
      {"exec_argv_exepath",
       [](const json& e) {
         return Str(e, "evt.type") == "execve" && Str(e, "proc.argv").find("stratum+tcp") != std::string::npos &&
                Str(e, "proc.exepath") == "/bin/busybox" && Str(e, "proc.cwd") == "/";
       }},
      {"file_openat_etc_shadow",
       [](const json& e) {
         return Str(e, "evt.type") == "openat" && Str(e, "fd.name") == "/etc/shadow" && Str(e, "proc.name") == "cat";
       }},
      {"file_openat_tmp_across_mount",
       [&](const json& e) {
         return Str(e, "evt.type") == "openat" && Str(e, "fd.name") == a.tmp_file && Str(e, "proc.pid") == me;
       }},
      {"net_connect_remote",
       [&](const json& e) {
         return Str(e, "evt.type") == "connect" && Str(e, "fd.rip") == "127.0.0.1" && Str(e, "fd.rport") == port &&
                Str(e, "evt.res") == "0";
       }},
      {"net_accept_peer",
       [&](const json& e) {
         return Str(e, "evt.type").rfind("accept", 0) == 0 && Str(e, "fd.lport") == port && Str(e, "proc.pid") == me;
       }},
      {"escape_dup2_socket_on_stdout",
       [&](const json& e) {
         return Str(e, "evt.type") == "dup2" && Str(e, "arg.newfd") == "1" && Str(e, "fd.rport") == port;
       }},
      {"bpf_prog_load_name_helpers",
       [](const json& e) {
         return Str(e, "evt.type") == "bpf" && Str(e, "bpf.prog.name") == "vm_filter" &&
                Str(e, "bpf.prog.helpers").find("7") != std::string::npos;
       }},
      {"escape_unshare_flags",
       [](const json& e) { return Str(e, "evt.type") == "unshare" && Str(e, "arg.flags") == "67108864"; }},
      {"escape_setuid",
       [](const json& e) { return Str(e, "evt.type") == "setuid" && Str(e, "evt.res") == "0"; }},
      {"escape_ptrace_attach",
       [&](const json& e) {
         return Str(e, "evt.type") == "ptrace" && Str(e, "arg.request") == "16" &&
                Str(e, "arg.target_pid") == std::to_string(a.traced);
       }},
  };
  for (const auto& c : cases) {
    bool found = false;
    for (const auto& e : events) found = found || c.match(e);
    Case(std::string("event_") + c.name, found);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: capture_events_vm_check VIGIL RULES_DIR\n");
    return 2;
  }
  const std::string vigil = argv[1], rules = argv[2];
  const std::string events_file = "/tmp/vm-events.json", alerts_file = "/tmp/vm-alerts.json";
  {
    std::ofstream shadow("/etc/shadow");
    shadow << "root:*:19000:0:99999:7:::\n";
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t ev = Spawn({vigil, "events", "-w", events_file}, "/tmp/vm-events.log");
  bool ev_up = WaitFor("/tmp/vm-events.log", "capturing with", ev, 150s);
  double up_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Case("vigil_events_started", ev_up, (ev_up ? "" : ReadAll("/tmp/vm-events.log")) + " (" + std::to_string(up_s) + " s)");
  if (!ev_up) return 1;

  Actions a = Act();
  std::this_thread::sleep_for(1500ms);  // the consumer polls every 100 ms
  kill(ev, SIGINT);
  waitpid(ev, nullptr, 0);
  std::vector<json> events = ReadLines(events_file);
  Case("events_recorded", !events.empty(), std::to_string(events.size()) + " events");
  CheckEvents(events, a);

  // The default rules over the recorded events.
  pid_t rp = Spawn({vigil, "replay", "-r", rules, events_file}, alerts_file);
  int st = 0;
  waitpid(rp, &st, 0);
  Case("replay_ran", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status " + std::to_string(st));
  std::vector<json> alerts = ReadLines(alerts_file);
  const char* want[] = {"Cryptocurrency Miner Command Line", "Sensitive Credential File Read", "Reverse Shell",
                        "BPF Program Loaded by Unexpected Process"};
  for (const char* w : want) {
    std::string out;
    for (const auto& al : alerts)
      if (al.value("rule", "") == w) out = al.value("output", "");
    std::string name = std::string("alert_") + w;
    for (auto& c : name) c = c == ' ' ? '_' : c;
    Case(name, !out.empty(), out.substr(0, 160));
  }
  return all_ok ? 0 : 1;
}
