// SPDX-License-Identifier: Apache-2.0
// Host fallback enforcement end to end (label root): the real enforcement BPF object on this
// kernel (no BPF LSM here), policies compiled from YAML rules, real execs and connects in child
// processes (the manager never enforces against its own process).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "bpf/enforce/enforcement.h"
#include "engine/policy/policy.h"
#include "tests/support/temp_dir.h"
#include "tests/support/loopback.h"

namespace vigil::enforce {
namespace {

namespace fs = std::filesystem;

std::string Rule(const std::string& name, const std::string& condition, const std::string& action) {
  return "- rule: " + name + "\n  desc: d\n  condition: " + condition + "\n  output: o\n  priority: WARNING\n  action: " +
         action + "\n";
}

policy::PolicySpec Compile(const std::string& yaml) {
  Diagnostics diags;
  auto engine = RuleEngine::LoadTexts({{"enforce.yaml", yaml}}, &diags);
  REQUIRE(engine);
  INFO(diags.ToString());
  REQUIRE_FALSE(diags.HasErrors());
  auto spec = policy::CompilePolicy(*engine, &diags);
  INFO(diags.ToString());
  REQUIRE(spec);
  return *spec;
}

struct Listener : vigil::testing::LoopbackListener {
  Listener() : LoopbackListener(16, SOCK_CLOEXEC) { REQUIRE(fd >= 0); }
};

// Connects from a child process; returns 0 on success or the child's errno.
int ChildConnect(uint16_t port) {
  pid_t pid = fork();
  if (pid == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    _exit(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 ? 0 : errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

struct ExecResult {
  int status = 0;
  bool marker = false;
};

// Runs `argv0 marker` (a copy of touch) from `cwd`; reports the wait status and whether the
// program got to create the marker.
ExecResult ChildExec(const std::string& cwd, const std::string& argv0, const std::string& marker) {
  fs::remove(marker);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(120);
    execl(argv0.c_str(), argv0.c_str(), marker.c_str(), static_cast<char*>(nullptr));
    _exit(121);
  }
  ExecResult r;
  waitpid(pid, &r.status, 0);
  r.marker = fs::exists(marker);
  return r;
}

struct TempDir : vigil::testing::TempDirOf<> {
  TempDir() : TempDirOf("enforce") {}
};

TEST_CASE("exec kill: the process dies by SIGKILL before its program runs; the twin runs", "[root]") {
  TempDir dir;
  const std::string victim = dir.path + "/victim", twin = dir.path + "/twin";
  fs::copy_file("/usr/bin/touch", victim);
  fs::copy_file("/usr/bin/touch", twin);
  std::string error;
  auto m = EnforcementManager::Create(EnforceOptions{}, &error);
  REQUIRE(m);
  REQUIRE_FALSE(m->lsm());  // this host kernel has no BPF LSM: the fallback path is under test
  auto spec = Compile(Rule("kill victim", "evt.type = execve and proc.exepath = " + victim, "kill"));
  REQUIRE_FALSE(m->Install(spec));
  REQUIRE(m->Report().size() == 1);
  CHECK(m->Report()[0].mechanism == Mechanism::kTracepointKill);

  struct Row {
    const char* what;
    std::string cwd, argv0, marker;
    bool killed;
  };
  const Row rows[] = {
      {"absolute path", "/", victim, dir.path + "/m1", true},
      {"relative path (matched by file identity)", dir.path, "./victim", dir.path + "/m2", true},
      {"allowed twin", "/", twin, dir.path + "/m3", false},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    ExecResult r = ChildExec(row.cwd, row.argv0, row.marker);
    if (row.killed) {
      CHECK(WIFSIGNALED(r.status));
      CHECK((WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL));
      CHECK_FALSE(r.marker);
    } else {
      CHECK(WIFEXITED(r.status));
      CHECK(WEXITSTATUS(r.status) == 0);
      CHECK(r.marker);
    }
  }
  CHECK(m->RefusalCount(policy::HookClass::kExec) == 2);
  std::vector<Refusal> seen;
  m->PollRefusals(100, [&](const Refusal& r) { seen.push_back(r); });
  REQUIRE(seen.size() == 2);
  for (const auto& r : seen) {
    CHECK(std::string(r.rule) == "kill victim");
    CHECK(std::string(r.action) == "kill");
    CHECK(r.hook == policy::HookClass::kExec);
  }
}

TEST_CASE("connect deny via cgroup: matching connect gets EPERM, the other port works; swap is atomic", "[root]") {
  Listener a, b;
  std::string error;
  auto m = EnforcementManager::Create(EnforceOptions{}, &error);
  REQUIRE(m);
  CHECK(ChildConnect(a.port) == 0);  // no policy yet
  REQUIRE_FALSE(m->Install(Compile(Rule("deny a", "evt.type = connect and fd.rport = " + std::to_string(a.port) +
                                                      " and fd.rip = 127.0.0.1", "deny"))));
  CHECK(m->Report()[0].mechanism == Mechanism::kCgroupConnect);
  CHECK(ChildConnect(a.port) == EPERM);
  CHECK(ChildConnect(b.port) == 0);
  std::vector<Refusal> seen;
  m->PollRefusals(100, [&](const Refusal& r) { seen.push_back(r); });
  REQUIRE(seen.size() == 1);
  CHECK(std::string(seen[0].rule) == "deny a");
  CHECK(std::string(seen[0].action) == "deny");

  // Reload: the new policy denies b (by network) and no longer a.
  REQUIRE_FALSE(m->Install(Compile(Rule("deny b", "evt.type = connect and fd.rport in (" + std::to_string(b.port) +
                                                      ", 1) and fd.rnet = 127.0.0.0/8", "deny"))));
  CHECK(ChildConnect(a.port) == 0);
  CHECK(ChildConnect(b.port) == EPERM);
  // And back again (reuses the first generation's maps after clearing them).
  REQUIRE_FALSE(m->Install(Compile(Rule("deny a again", "evt.type = connect and fd.rport = " + std::to_string(a.port), "deny"))));
  CHECK(ChildConnect(a.port) == EPERM);
  CHECK(ChildConnect(b.port) == 0);
  seen.clear();
  m->PollRefusals(100, [&](const Refusal& r) { seen.push_back(r); });
  REQUIRE(seen.size() == 2);
  CHECK(std::string(seen[0].rule) == "deny b");
  CHECK(std::string(seen[1].rule) == "deny a again");
}

TEST_CASE("without BPF LSM, each deny is reported with how it degrades", "[root]") {
  const std::string yaml = Rule("exec deny", "evt.type = execve and proc.name = nope-x", "deny") +
                           Rule("open deny", "evt.type = openat and fd.name = /nonexistent/x", "deny") +
                           Rule("connect parent", "evt.type = connect and proc.pname = nope-y", "deny") +
                           Rule("bpf kill", "evt.type = bpf and bpf.cmd = 999", "kill") +
                           Rule("helpers deny", "evt.type = bpf and bpf.cmd = 5 and bpf.prog.helpers contains 255", "deny");
  struct Row {
    Degrade degrade;
    Mechanism exec_deny;
  };
  for (const Row& row : {Row{Degrade::kAlert, Mechanism::kAlertOnly}, Row{Degrade::kKill, Mechanism::kTracepointKill}}) {
    EnforceOptions o;
    o.degrade = row.degrade;
    std::string error;
    auto m = EnforcementManager::Create(o, &error);
    REQUIRE(m);
    REQUIRE_FALSE(m->Install(Compile(yaml)));
    const auto& r = m->Report();
    REQUIRE(r.size() == 5);
    CHECK(r[0].mechanism == row.exec_deny);
    CHECK(r[0].effective == (row.degrade == Degrade::kKill ? "kill" : "alert"));
    CHECK(r[1].mechanism == Mechanism::kAlertOnly);
    CHECK(r[1].reason == "no BPF LSM and no fallback hook for open");
    CHECK(r[2].mechanism == Mechanism::kAlertOnly);
    CHECK(r[3].mechanism == Mechanism::kAlertOnly);
    CHECK(r[4].mechanism == Mechanism::kAlertOnly);
    CHECK(r[4].effective == "alert");
  }
  auto probe = ProbeEnforcement();
  REQUIRE(probe.size() == 17);
  CHECK(probe[16].capability == "bpf helper-id deny");
  CHECK(probe[16].mechanism == "alert only (no BPF LSM)");
  CHECK(probe[1].capability == "exec kill");
  CHECK(probe[1].mechanism == "tracepoint sched_process_exec SIGKILL");
  CHECK(probe[4].capability == "connect deny");
  CHECK(probe[4].mechanism == "cgroup connect4/6 deny");
  CHECK(probe[2].mechanism == "alert only (no BPF LSM)");
}

TEST_CASE("a policy larger than the kernel maps is refused and the active one stays", "[root]") {
  Listener a;
  std::string error;
  auto m = EnforcementManager::Create(EnforceOptions{}, &error);
  REQUIRE(m);
  REQUIRE_FALSE(m->Install(Compile(Rule("deny a", "evt.type = connect and fd.rport = " + std::to_string(a.port), "deny"))));
  policy::PolicySpec big = Compile(Rule("many", "evt.type = connect and proc.name = x", "deny"));
  for (int i = 0; i < 20000; ++i) big.rules[0].comms.push_back("n" + std::to_string(i));
  auto err = m->Install(big);
  REQUIRE(err);
  CHECK(err->find("process-name entries") != std::string::npos);
  CHECK(ChildConnect(a.port) == EPERM);  // the old policy is still in force
}

}  // namespace
}  // namespace vigil::enforce
