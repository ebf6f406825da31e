// SPDX-License-Identifier: Apache-2.0
// capture_events_vm_check: capture end to end on a booted kernel. Starts `vigil events -w`,
// performs real exec, file, network, bpf and escape actions, and checks the recorded events (their
// fields, not only their types), then runs them through the default rules with `vigil replay` and
// checks four alerts. On 5.10 this is the legacy BPF build, on 6.1 compat, on 6.12 typed: the same
// checks for each. (One capture load, not a second one for `vigil run`: a load of the typed build
// takes ~35 s under TCG; `vigil run` in the VM is vm_agent_self_protect's.)
//
// Protocol (docs/testing-vm.md): VM-RESULT case lines; exit 0 iff every case passed.
// With INT80_ACTIONS, the same kinds of actions made as 32-bit syscalls (int 0x80) by a 64-bit
// program: their events must carry evt.is_compat / evt.is_compat_from_64bit, and the default rule
// 32-bit Syscall From 64-bit Program must alert.
// Usage: capture_events_vm_check VIGIL RULES_DIR [INT80_ACTIONS]
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
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
  int port32 = 0;         // the listener int80_actions connected to
  pid_t traced32 = 0;     // the child int80_actions attached to
  pid_t exec32 = 0;       // the child int80_actions exec'd /bin/true in
  std::string gone_dir;   // a directory made and removed (rmdir)
  int udp_port = 0;       // the loopback UDP socket a datagram was sent to (sendto)
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
  // issues 17/18: rmdir, setxattr (what setcap writes; the event comes whatever the result),
  // sendto on loopback UDP, userfaultfd (the call may be refused: the event comes either way)
  a.gone_dir = "/tmp/vm-gone-" + std::to_string(getpid());
  Case("act_rmdir", mkdir(a.gone_dir.c_str(), 0700) == 0 && rmdir(a.gone_dir.c_str()) == 0);
  const uint32_t cap[5] = {0x02000001u, 1u << 13, 0, 0, 0};  // cap_net_raw+ep
  long xr = setxattr(a.tmp_file.c_str(), "security.capability", cap, sizeof cap, 0);
  Case("act_setxattr", true, xr == 0 ? "ok" : std::strerror(errno));
  int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in ua{};
  ua.sin_family = AF_INET;
  ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t ulen = sizeof ua;
  bool sent = rx >= 0 && tx >= 0 && bind(rx, reinterpret_cast<sockaddr*>(&ua), sizeof ua) == 0 &&
              getsockname(rx, reinterpret_cast<sockaddr*>(&ua), &ulen) == 0 &&
              sendto(tx, "x", 1, 0, reinterpret_cast<sockaddr*>(&ua), sizeof ua) == 1;
  a.udp_port = ntohs(ua.sin_port);
  Case("act_sendto", sent, "port " + std::to_string(a.udp_port));
  if (rx >= 0) close(rx);
  if (tx >= 0) close(tx);
  long uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
  Case("act_userfaultfd", true, uffd >= 0 ? "ok" : std::strerror(errno));
  if (uffd >= 0) close(static_cast<int>(uffd));
  return a;
}

// int80_actions: the same kinds of actions as 32-bit syscalls (int 0x80) of a 64-bit program.
// Its "int80 <action> <result> <detail>" lines go to `log`; each action must have succeeded
// (init_module and finit_module must fail: the image is not a module, the fd not an ELF).
void Act32(const std::string& int80, Actions* a) {
  const std::string log = "/tmp/vm-int80.log";
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bool listening = srv >= 0 && bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && listen(srv, 4) == 0 &&
                   getsockname(srv, reinterpret_cast<sockaddr*>(&sa), &len) == 0;
  a->port32 = ntohs(sa.sin_port);
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = Spawn({int80, std::to_string(a->port32)}, log);
  int st = 0;
  waitpid(pid, &st, 0);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (srv >= 0) close(srv);
  std::string out = ReadAll(log);
  Case("act32_ran", listening && WIFEXITED(st) && WEXITSTATUS(st) == 0 && out.find("int80 done") != std::string::npos,
       "status " + std::to_string(st) + " in " + std::to_string(secs) + " s");
  std::map<std::string, std::pair<long, long>> got;
  std::istringstream in(out);
  for (std::string tag, what; in >> tag >> what;) {
    if (what == "done") break;
    long r = 0, d = 0;
    in >> r >> d;
    got[what] = {r, d};
  }
  for (const char* ok : {"open", "openat", "connect_direct", "connect_socketcall", "ptrace_attach", "setuid32",
                         "setreuid16", "setuid16", "setresgid32", "bpf_prog_load", "execve"}) {
    bool pass = got.count(ok) && got[ok].first >= 0;
    Case(std::string("act32_") + ok, pass, got.count(ok) ? "result " + std::to_string(got[ok].first) : "no line");
  }
  for (const char* fails : {"init_module", "finit_module"})
    Case(std::string("act32_") + fails, got.count(fails) && got[fails].first < 0,
         got.count(fails) ? "result " + std::to_string(got[fails].first) : "no line");
  a->traced32 = static_cast<pid_t>(got["ptrace_attach"].second);
  a->exec32 = static_cast<pid_t>(got["execve"].second);
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
      {"file_rmdir",
       [&](const json& e) {
         return Str(e, "evt.type") == "rmdir" && Str(e, "fd.name") == a.gone_dir && Str(e, "evt.res") == "0";
       }},
      {"file_setxattr_capability",
       [&](const json& e) {
         return Str(e, "evt.type") == "setxattr" && Str(e, "fd.name") == a.tmp_file &&
                Str(e, "fs.xattr") == "security.capability" && Str(e, "fs.length") == "20";
       }},
      {"net_sendto_udp",
       [&](const json& e) {
         return Str(e, "evt.type") == "sendto" && Str(e, "fd.rport") == std::to_string(a.udp_port) &&
                Str(e, "net.size") == "1" && Str(e, "proc.pid") == me;
       }},
      {"escape_userfaultfd",
       [&](const json& e) { return Str(e, "evt.type") == "userfaultfd" && Str(e, "proc.pid") == me; }},
  };
  for (const auto& c : cases) {
    bool found = false;
    for (const auto& e : events) found = found || c.match(e);
    Case(std::string("event_") + c.name, found);
  }
}

// The 32-bit calls of int80_actions: each kind of event, marked as a compat call made by a 64-bit
// program; and no 64-bit call of anyone marked so.
void CheckEvents32(const std::vector<json>& events, const Actions& a) {
  auto compat64 = [](const json& e, const char* type) {
    return Str(e, "evt.type") == type && Str(e, "evt.is_compat") == "true" &&
           Str(e, "evt.is_compat_from_64bit") == "true";
  };
  const std::string port = std::to_string(a.port32);
  const EventCase cases[] = {
      {"open_etc_shadow", [&](const json& e) { return compat64(e, "open") && Str(e, "fd.name") == "/etc/shadow"; }},
      {"openat_tmp_across_mount",
       [&](const json& e) { return compat64(e, "openat") && Str(e, "fd.name") == "/tmp/int80-openat"; }},
      {"socket", [&](const json& e) { return compat64(e, "socket") && Str(e, "proc.name") == "int80_actions"; }},
      {"ptrace_attach",
       [&](const json& e) {
         return compat64(e, "ptrace") && Str(e, "arg.request") == "16" &&
                Str(e, "arg.target_pid") == std::to_string(a.traced32);
       }},
      {"setuid32", [&](const json& e) { return compat64(e, "setuid") && Str(e, "arg.ids") == "[0,4294967295,4294967295]"; }},
      {"setreuid16_keep_is_minus_one",
       [&](const json& e) { return compat64(e, "setreuid") && Str(e, "arg.ids") == "[4294967295,0,4294967295]"; }},
      {"setresgid32", [&](const json& e) { return compat64(e, "setresgid") && Str(e, "arg.ids") == "[4294967295,0,4294967295]"; }},
      {"init_module_params",
       [&](const json& e) { return compat64(e, "init_module") && Str(e, "evt.res") != "0"; }},
      {"finit_module", [&](const json& e) { return compat64(e, "finit_module"); }},
      {"bpf_prog_load_name",
       [&](const json& e) {
         return compat64(e, "bpf") && Str(e, "bpf.prog.name") == "int80_filter" &&
                Str(e, "bpf.prog.helpers").find("7") != std::string::npos;
       }},
      {"execve_argv_exepath",
       [&](const json& e) {
         return compat64(e, "execve") && Str(e, "proc.pid") == std::to_string(a.exec32) &&
                Str(e, "proc.argv").find("int80-exec-marker") != std::string::npos &&
                Str(e, "proc.exepath") == "/bin/busybox";
       }},
  };
  for (const auto& c : cases) {
    bool found = false;
    for (const auto& e : events) found = found || c.match(e);
    Case(std::string("event32_") + c.name, found);
  }
  int connects = 0, marked_others = 0;  // the direct connect and the one through socketcall
  for (const auto& e : events) {
    connects += compat64(e, "connect") && Str(e, "fd.rip") == "127.0.0.1" && Str(e, "fd.rport") == port &&
                Str(e, "evt.res") == "0";
    marked_others += Str(e, "evt.is_compat") == "true" && Str(e, "proc.name") != "int80_actions" &&
                     Str(e, "proc.pid") != std::to_string(a.exec32);
  }
  Case("event32_connect_direct_and_socketcall", connects == 2, std::to_string(connects) + " connect events");
  Case("event32_no_native_call_marked", marked_others == 0, std::to_string(marked_others) + " marked");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: capture_events_vm_check VIGIL RULES_DIR [INT80_ACTIONS]\n");
    return 2;
  }
  const std::string vigil = argv[1], rules = argv[2], int80 = argc == 4 ? argv[3] : "";
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
  // what the loader said (programs this kernel refused are named here)
  std::printf("vigil events log:\n%s\n", ReadAll("/tmp/vm-events.log").c_str());

  Actions a = Act();
  if (!int80.empty()) Act32(int80, &a);
  std::this_thread::sleep_for(1500ms);  // the consumer polls every 100 ms
  kill(ev, SIGINT);
  waitpid(ev, nullptr, 0);
  std::vector<json> events = ReadLines(events_file);
  Case("events_recorded", !events.empty(), std::to_string(events.size()) + " events");
  CheckEvents(events, a);
  if (!int80.empty()) CheckEvents32(events, a);

  // The default rules over the recorded events.
  pid_t rp = Spawn({vigil, "replay", "-r", rules, events_file}, alerts_file);
  int st = 0;
  waitpid(rp, &st, 0);
  Case("replay_ran", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status " + std::to_string(st));
  std::vector<json> alerts = ReadLines(alerts_file);
  std::vector<const char*> want = {"Cryptocurrency Miner Command Line", "Sensitive Credential File Read",
                                   "Reverse Shell", "BPF Program Loaded by Unexpected Process"};
  if (!int80.empty()) want.push_back("32-bit Syscall From 64-bit Program");
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
