// SPDX-License-Identifier: Apache-2.0
// End to end, as root: the real `vigil run` binary with the default ruleset
// (rules/), real actions on this host in safe forms (tests/e2e/actions.h), and
// the alerts read back from its file sink. Alerts are attributed to this test
// by pid (the OCSF copy on stdout carries it; the kernel's proc connector
// tells which pids descend from us), so other work on the host neither makes
// nor breaks the assertions.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <set>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "actions.h"
#include "falco_actions_table.h"
#include "vigil_harness.h"

using namespace vigil::e2e;

namespace {

std::string Subst(std::string text, const Scratch& s) {
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{tag}", s.tag}, {"{dir}", s.dir}}) {
    for (std::size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  }
  return text;
}

// The default rules as shipped (vigil under test runs from the build tree,
// not /usr/bin/vigil: its own start-up must stay quiet through
// proc.is_vigil_self, see OwnAlerts), plus the sentinel rule (AwaitSentinel).
std::vector<std::string> RulesPaths(const Scratch& s) { return {VIGIL_RULES_DIR, WriteSentinelRule(s.dir)}; }

struct Step {
  const char* name;
  Action action;
};

struct Expect {
  const char* rule;
  const char* priority;
  std::vector<std::pair<const char*, const char*>> fields;  // output field contains text ({tag}, {dir})
  bool in_container = false;
  const bool* not_expected_if = nullptr;  // set by a step: this kernel cannot do the action
};

const std::vector<Step> kSteps = {
    {"bpf: plain socket filter", BpfPlainLoad},
    {"bpf: helper 36 probe_write_user", BpfProbeWriteUser},
    {"bpf: helper 58 override_return", BpfOverrideReturn},
    {"bpf: helper 109 send_signal", BpfSendSignal},
    {"bpf: program past the scan bound", BpfLargeProgram},
    {"bpf: raw tracepoint sys_enter", BpfRawTracepointSysEnter},
    {"bpf: xdp program", BpfXdpLoad},
    {"bpf: map by id, pin in private bpffs", BpfMapByIdAndPin},
    {"bpf: map create in container", BpfInContainer},
    {"open unprivileged_bpf_disabled for write", OpenUnprivilegedBpfSysctl},
    {"release_agent write in container", ReleaseAgentWrite},
    {"open core_pattern for write", CorePatternOpenForWrite},
    {"container: unshare net, sysctl open", ContainerSysctlAndNamespaces},
    {"container: mount proc", ContainerMountProc},
    {"container: mount disk refused (EPERM/EACCES)", ContainerMountRefused},
    {"open /dev/mem", OpenDevMem},
    {"container: open disk", ContainerOpensBlockDevice},
    {"container: docker.sock", ContainerRuntimeSocket},
    {"ptrace attach child", PtraceChild},
    {"/proc/pid/mem, process_vm_writev", ProcMemWrite},
    {"container: /proc/self/fd write-open", ContainerProcSelfFdWrite},
    {"container: setuid, capset, exec", ContainerSetuidCapsetExec},
    {"cat /etc/shadow", CatShadow},
    {"persistence in private /etc, /root", PersistenceInPrivateEtc},
    {"k8s token read", KubeTokenRead},
    {"truncate log in private /var/log", LogTruncate},
    {"truncate .bash_history", HistoryTruncate},
    {"chmod 4755", ChmodSetuid},
    {"setcap cap_net_raw+ep on a copy", SetcapOnCopy},
    {"touch -d 2019-01-01", Timestomp},
    {"run a 32-bit (i386) program", Run32BitProgram},
    {"hidden dir in /tmp", HiddenDirInTmp},
    {"nginx spawns sh", NginxSpawnsShell},
    {"memfd exec", MemfdExec},
    {"/dev/shm exec", DevShmExec},
    {"dup2 socket onto stdout", ReverseShellDup2},
    {"miner command line", MinerCommandLine},
    {"miner port, AF_PACKET in empty netns", ConnectsInEmptyNetns},
    {"container: metadata connect in empty netns", ContainerMetadataConnect},
    {"issue 17 techniques (technique_actions.sh)", TechniqueActions},
};

const std::vector<Expect> kExpected = {
    // eBPF
    {"BPF Program Loaded by Unexpected Process", "Warning", {{"bpf.prog.name", "e2e_plain"}}},
    {"BPF Program Uses bpf_probe_write_user", "Critical", {{"bpf.prog.name", "e2e_write_user"}}},
    {"Failed or Unprivileged BPF Program Load", "Notice", {{"bpf.prog.name", "e2e_write_user"}}},
    {"BPF Program Overrides Kernel Return Values", "Critical", {{"bpf.prog.name", "e2e_override"}}},
    {"BPF Program Overrides Kernel Return Values", "Critical", {{"bpf.prog.name", "e2e_fmod_ret"}}},
    {"BPF Program Sends Signals", "Critical", {{"bpf.prog.name", "e2e_send_signal"}}},
    {"BPF Program Too Large To Inspect", "Notice", {{"bpf.prog.name", "e2e_large"}}},
    {"BPF Attached to Sensitive Kernel Hook", "Critical", {{"bpf.target", "sys_enter"}}},
    {"Network BPF Program Loaded by Unexpected Process", "Warning", {{"bpf.prog.name", "e2e_xdp"}}},
    {"BPF Object Opened by Id", "Warning", {{"evt.arg.cmd", "MAP_GET_FD_BY_ID"}}},
    {"BPF Object Pinned or Token Created", "Warning", {{"bpf.target", "{dir}/bpffs/e2e_pin_{tag}"}}},
    {"BPF Object Pinned or Token Created", "Warning", {{"fs.path.target", "{dir}/bpffs"}}},
    {"BPF Syscall in Container", "Critical", {{"evt.arg.cmd", "MAP_CREATE"}}, true},
    {"Unprivileged BPF Setting Changed", "Warning", {}},
    // container escape
    {"Cgroup Release Agent Modified", "Critical", {{"fd.name", "{dir}/release_agent"}}, true},
    {"Kernel Core Pattern or Sysctl Modified", "Critical", {{"fd.name", "/proc/sys/kernel/core_pattern"}}},
    {"Sysctl Written From Container", "Warning", {{"fd.name", "/proc/sys/net/ipv4/ip_forward"}}, true},
    {"Namespace Change From Container", "Warning", {}, true},
    {"Host Device or Procfs Mounted in Container", "Critical", {{"fs.path.target", "{dir}/procmnt"}}, true},
    // issue 17: the refused mount alerts too (the step checks it failed with EPERM or EACCES; 6.18 says EACCES)
    {"Host Device or Procfs Mounted in Container", "Critical",
     {{"fs.path.target", "{dir}/refusedmnt"}, {"evt.arg.dev", "/dev/sda1"}}, true},
    {"Raw Kernel Memory Device Opened", "Critical", {{"fd.name", "/dev/mem"}}},
    {"Container Runtime Socket Accessed From Container", "Critical", {{"fd.unix_path", "/run/docker.sock"}}, true},
    {"Process Memory Written by Ptrace", "Warning", {{"evt.arg.request", "PTRACE_ATTACH"}}},
    {"Process Memory Written Directly", "Critical", {{"fd.name", "/mem"}}},
    {"Process Memory Written Directly", "Critical", {{"evt.type", "process_vm_writev"}}},
    {"Runc Binary Overwrite Attempt", "Critical", {{"fs.path.nameraw", "/proc/self/fd/"}}, true},
    {"Setuid to Root in Container", "Warning", {}, true},
    {"Capabilities Raised in Container", "Warning", {{"thread.cap_effective", "CAP_SYS_ADMIN"}}, true},
    // credentials, persistence, evasion
    {"Sensitive Credential File Read", "Warning", {{"fd.name", "/etc/shadow"}}},
    {"SSH Private Key Read", "Warning", {{"fd.name", "/root/.ssh/id_ed25519"}}},
    {"Kubernetes Service Account Token Read", "Notice", {{"fd.name", "{dir}/var/run/secrets/"}}},
    {"Cron Job Written", "Warning", {{"fd.name", "/etc/cron.d/e2e-{tag}"}}},
    {"Systemd Unit Written", "Warning", {{"fd.name", "/etc/systemd/system/e2e-{tag}.service"}}},
    {"Init Script Written", "Warning", {{"fd.name", "/etc/profile.d/e2e-{tag}.sh"}}},
    {"Sudoers Modified", "Critical", {{"fd.name", "/etc/sudoers.d/e2e-{tag}"}}},
    {"Dynamic Linker Preload Configured", "Critical", {{"fd.name", "/etc/ld.so.preload"}}},
    {"SSH Authorized Keys Modified", "Warning", {{"fd.name", "/root/.ssh/authorized_keys"}}},
    {"Log File Cleared", "Warning", {{"fd.name", "/var/log/e2e-{tag}.log"}}},
    {"Shell History Cleared", "Warning", {{"fd.name", "{dir}/.bash_history"}}},
    {"Setuid or Setgid Bit Set", "Warning", {{"fd.name.resolved", "{dir}/suid-{tag}"}, {"evt.arg.mode", "S_ISUID"}}},
    {"File Capabilities Set", "Warning",
     {{"fd.name.resolved", "{dir}/capped-{tag}"}, {"evt.arg.name", "security.capability"}, {"proc.name", "setcap"}}},
    {"Hidden File Created in Temporary Directory", "Notice", {{"fd.name", "/tmp/.e2e-{tag}"}}},
    {"File Timestamp Set Into the Past", "Warning", {{"fd.name.resolved", "{dir}/stomped-{tag}"}, {"proc.name", "touch"}}},
    {"32-bit Executable Run", "Warning", {{"proc.exepath", "{dir}/agent32"}}, false, &g_kernel_refuses_32bit},
    // execution, network
    {"Shell Spawned by Server Process", "Critical", {{"proc.pname", "nginx"}, {"proc.cmdline", "e2e-{tag}"}}},
    {"Execution From Temporary Directory", "Notice", {{"proc.exepath", "{dir}/nginx"}}},
    {"Fileless Execution From Memfd", "Critical", {{"proc.exepath", "memfd:e2e_payload"}}},
    {"Execution From Shared Memory", "Warning", {{"proc.exepath", "/dev/shm/e2e-{tag}"}}},
    {"Cryptocurrency Miner Command Line", "Critical", {{"proc.cmdline", "stratum+tcp://pool.invalid:3333"}}},
    {"Outbound Connection to Miner Pool Port", "Notice", {{"fd.rip", "198.51.100.7"}}},
    {"Packet Socket Created", "Notice", {}},
    // Regression: dup* events carry the old fd's socket, but fd.* read <NA> for them until the engine
    // counted dup/dup2/dup3 as socket events.
    {"Reverse Shell", "Critical", {{"fd.rip", "127.0.0.1"}}},
    {"Cloud Metadata Service Contacted From Container", "Warning", {{"fd.rip", "169.254.169.254"}}, true},
    // issue 17 (tests/e2e/technique_actions.sh): execution
    {"Remote Script Piped to Shell", "Warning", {{"proc.pcmdline", "curl -fsS"}, {"proc.pcmdline", "e2e-{tag}.sh | sh"}}},
    {"Remote Script Piped to Shell", "Warning", {{"proc.pcmdline", "wget -q"}, {"proc.pcmdline", "e2e-{tag}.sh | bash"}}},
    {"Decoded Payload Piped to Shell", "Warning", {{"proc.pcmdline", "e2e-{tag}; echo dHJ1ZQo= | base64 -d | sh"}}},
    // the same typed at a prompt (run from a script file): the siblings' pipe, whichever end execs second
    {"Remote Script Piped to Shell", "Warning", {{"proc.pcmdline", "prompt-dl-{tag}.sh"}}},
    {"Decoded Payload Piped to Shell", "Warning", {{"proc.pcmdline", "prompt-b64-{tag}.sh"}}},
    {"Interactive Shell Spawned by Interpreter", "Warning", {{"proc.pre_exec_name", "python3"}}},
    {"Interactive Shell Spawned by Interpreter", "Warning", {{"proc.pre_exec_name", "perl"}}},
    {"Interactive Shell Spawned by Interpreter", "Warning", {{"proc.aname[2]", "awk"}}},
    {"Shell Spawned Under script", "Notice", {{"proc.pname", "script"}}},
    {"Reverse Shell Command Line", "Critical", {{"proc.cmdline", "/dev/tcp/127.0.0.1/4444 0>&1 # e2e-{tag}"}}},
    {"Reverse Shell Command Line", "Critical", {{"proc.cmdline", "busybox nc 127.0.0.1 4444 -e /bin/sh"}}},
    {"Reverse Shell Command Line", "Critical", {{"proc.cmdline", "os.dup2(s.fileno(),0)"}, {"proc.cmdline", "e2e-{tag}"}}},
    {"Reverse Shell Command Line", "Critical", {{"proc.cmdline", "mkfifo f-{tag}"}}},
    {"Reverse Shell Command Line", "Critical", {{"proc.cmdline", "exec:/bin/sh,pty,stderr # e2e-{tag}"}}},
    {"Reverse Shell", "Critical", {{"proc.cmdline", "busybox nc 127.0.0.1 4444 -e /bin/sh"}}},
    {"Reverse Shell", "Critical", {{"proc.cmdline", "bash -i"}, {"fd.rport", "4444"}}},
    // command and control
    {"Network Connection From Shell", "Notice", {{"fd.rip", "192.0.2.7"}, {"proc.cmdline", "e2e-{tag}"}}},
    {"Interpreter Connection to Non-Standard Port", "Notice", {{"fd.rip", "192.0.2.7"}, {"proc.name", "python3"}}},
    {"Tunneling Tool Run", "Warning", {{"proc.cmdline", "client 192.0.2.7:8000 R:socks e2e-{tag}"}}},
    {"Tunneling Tool Run", "Warning", {{"proc.cmdline", "-R 2222:localhost:22 e2e-{tag}@192.0.2.7"}}},
    // persistence
    {"Crontab Edited", "Notice", {{"proc.cmdline", "{dir}/e2e-{tag}.cron"}}},
    {"Systemd Unit Linked From Outside Unit Directories", "Warning",
     {{"fs.path.target", "/etc/systemd/system/e2e-{tag}.service"}}},
    {"Systemd Unit Linked From Outside Unit Directories", "Warning", {{"proc.cmdline", "link /opt/e2e-{tag}.service"}}},
    {"Shell Configuration File Modified", "Warning", {{"fd.name", "/root/.bashrc"}}},
    {"PAM Configuration or Module Modified", "Warning", {{"fd.name", "/etc/pam.d/e2e-{tag}"}}},
    {"Root Certificate Added to Trust Store", "Warning", {{"fd.name", "/usr/local/share/ca-certificates/e2e-{tag}.crt"}}},
    // evasion
    {"Shell History Cleared", "Warning", {{"fd.name", "/root/.bash_history"}, {"proc.name", "truncate"}}},
    {"Shell History Cleared", "Warning", {{"fs.path.target", "/root/.bash_history"}, {"proc.name", "ln"}}},
    {"Log File Cleared", "Warning", {{"fd.name", "/var/log/e2e-{tag}.log"}, {"proc.name", "truncate"}}},
    {"Log File Cleared", "Warning", {{"fd.name", "/var/mail/e2e-{tag}"}}},
    {"Setuid or Setgid Bit Set", "Warning", {{"fd.name.resolved", "{dir}/sgid-{tag}"}, {"evt.arg.mode", "S_ISGID"}}},
    {"File Shredded", "Warning", {{"proc.cmdline", "shred-{tag}.log"}}},
    {"ASLR Disabled", "Warning", {{"fd.name", "/proc/sys/kernel/randomize_va_space"}}},
    {"ASLR Disabled", "Warning", {{"proc.cmdline", "-R /bin/echo e2e-{tag}"}}},
    {"Security Logging or Firewall Disabled", "Warning", {{"proc.cmdline", "iptables -F"}}},
    {"Security Logging or Firewall Disabled", "Warning", {{"proc.cmdline", "nft flush ruleset"}}},
    {"Security Logging or Firewall Disabled", "Warning", {{"proc.cmdline", "auditctl -D"}}},
    {"Security Logging or Firewall Disabled", "Warning", {{"proc.cmdline", "stop auditd e2e-{tag}"}}},
    {"Kernel Module Load Tool Run", "Warning", {{"proc.cmdline", "{dir}/e2e-{tag}.ko"}}},
    {"Kernel Module File Opened", "Notice", {{"fd.name", "{dir}/e2e-{tag}.ko"}}},
    // credential access
    {"Process Memory Read From Another Process", "Warning", {{"fd.name", "/maps"}, {"proc.cmdline", "e2e-{tag}"}}},
    {"Process Memory Read From Another Process", "Warning", {{"fd.name", "/mem"}, {"proc.cmdline", "e2e-{tag}"}}},
    {"Process Memory Dump Tool Run", "Warning", {{"proc.cmdline", "gcore -o {dir}/core-{tag}"}}, false, &g_no_gcore},
    // issue 17, second part (technique_actions.sh): discovery, exfiltration, hiding, atime
    {"Discovery Burst", "Notice", {{"proc.pcmdline", "discover-{tag}.sh"}}},
    // issue 17: the same through a new `sh -c` per command, one session
    {"Discovery Burst", "Notice", {{"proc.pcmdline", "e2e-{tag}-shc"}, {"proc.sname", "sh"}}},
    {"File Uploaded by Command-Line HTTP Client", "Notice",
     {{"proc.cmdline", "-T {dir}/exfil-{tag}.txt http://192.0.2.10:8080/"}}},
    {"File Uploaded by Command-Line HTTP Client", "Notice",
     {{"proc.cmdline", "--post-file={dir}/exfil-{tag}.txt http://192.0.2.10:8080/"}}},
    // T1048.003: nc < FILE (stdin a regular file), cat FILE | nc (the pipe's two ends)
    {"File Sent by Network Relay Tool", "Notice", {{"proc.stdin.name", "exfil-{tag}.txt"}, {"proc.name", "nc"}}},
    {"File Sent by Network Relay Tool", "Notice", {{"proc.pcmdline", "relay-pipe-{tag}.sh"}}},
    {"Mount Over Process Directory", "Warning", {{"fs.path.target", "/proc/"}, {"proc.cmdline", "{dir}/hide-{tag}"}}},
    {"File Timestamp Set Into the Past", "Warning", {{"fd.name.resolved", "{dir}/atime-{tag}"}, {"fs.mtime.iso8601", "omit"}}},
    // T1574.006: a compiled shared object preloaded into /bin/echo (proc.env, captured at exec)
    {"Dynamic Linker Hijack Variable at Exec", "Warning",
     {{"proc.env[LD_PRELOAD]", "{dir}/libhook-{tag}.so"}, {"proc.cmdline", "echo e2e-{tag}"}}},
};

std::string Describe(const SeenAlert& a) {
  return a.priority + " " + a.rule + " pid=" + std::to_string(a.pid) + " " + a.output_fields.dump();
}

// Alerts about vigil's own process (its start-up loads and probes BPF programs
// and opens its own objects by id): each one is a defect, the README's first
// command showed ~80 of them on start before proc.is_vigil_self. Prints them.
std::size_t OwnAlerts(const std::vector<SeenAlert>& alerts, pid_t vigil_pid) {
  std::size_t n = 0;
  for (const auto& a : alerts) {
    if (a.pid != static_cast<uint32_t>(vigil_pid)) continue;
    ++n;
    std::printf("  alert on vigil itself: %s\n", Describe(a).c_str());
  }
  return n;
}

}  // namespace

TEST_CASE("vigil run alerts on real malicious actions done safely", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  Scratch s;
  REQUIRE(MakeScratch(&s) == "");
  ForkWatch forks;
  REQUIRE(forks.error() == "");
  std::vector<SeenAlert> alerts;
  std::size_t own = 0;
  {
    VigilProcess vigil(s.dir, RulesPaths(s));
    const std::string started = vigil.Start();
    if (!started.empty()) RemoveScratch(s);
    REQUIRE(started == "");
    const pid_t vigil_pid = vigil.pid();  // Stop() forgets it
    for (const auto& step : kSteps) {
      std::string note = step.action(s);
      std::printf("  %-45s %s\n", step.name, note.empty() ? "ok" : note.c_str());
    }
    const std::string sentinel = AwaitSentinel(vigil, s.dir);
    INFO(vigil.LogTail());
    CHECK(sentinel == "");
    CHECK(vigil.Stop() == "");
    alerts = vigil.Alerts();
    own = OwnAlerts(alerts, vigil_pid);
  }
  CHECK(own == 0);
  const std::set<uint32_t> ours = forks.Descendants(static_cast<uint32_t>(getpid()));
  CHECK(forks.overruns() == 0);
  CHECK(RemoveScratch(s) == "");

  std::size_t found = 0, expected = 0;
  for (const auto& want : kExpected) {
    if (want.not_expected_if != nullptr && *want.not_expected_if) {
      std::printf("  not expected on this kernel: %s\n", want.rule);
      continue;
    }
    ++expected;
    bool hit = false;
    for (const auto& a : alerts) {
      if (a.rule != want.rule || !ours.count(a.pid)) continue;
      bool fields_ok = true;
      for (const auto& [field, text] : want.fields)
        if (a.Field(field).find(Subst(text, s)) == std::string::npos) fields_ok = false;
      if (!fields_ok) continue;
      if (want.in_container && a.container != s.container_id) continue;
      if (!want.in_container && !a.container.empty()) continue;
      hit = true;
      CHECK(a.priority == want.priority);
      break;
    }
    if (hit) ++found;
    INFO("expected alert: " << want.rule << " (" << want.priority << ")");
    CHECK(hit);
  }
  // One burst, one alert: technique_actions.sh's discover-TAG.sh runs eleven
  // discovery commands (ten distinct) from one shell within seconds; its
  // harness-TAG.sh runs seven, each through its own `sh -c` (issue 17: seven
  // parents, one session).
  auto bursts = [&](const std::string& mark) {
    return std::count_if(alerts.begin(), alerts.end(), [&](const SeenAlert& a) {
      return a.rule == "Discovery Burst" && ours.count(a.pid) && a.Field("proc.pcmdline").find(mark) != std::string::npos;
    });
  };
  CHECK(bursts("discover-" + s.tag + ".sh") == 1);
  CHECK(bursts("e2e-" + s.tag + "-shc") == 1);
  // One pipeline, one alert: both ends of `a | b` exec, and only the second
  // sees the other (issue 17); the benign pipelines none at all.
  auto by_parent = [&](const char* rule, const std::string& mark) {
    return std::count_if(alerts.begin(), alerts.end(), [&](const SeenAlert& a) {
      return (rule == nullptr || a.rule == rule) && ours.count(a.pid) &&
             a.Field("proc.pcmdline").find(mark) != std::string::npos;
    });
  };
  CHECK(by_parent("Remote Script Piped to Shell", "prompt-dl-" + s.tag + ".sh") == 1);
  CHECK(by_parent("Decoded Payload Piped to Shell", "prompt-b64-" + s.tag + ".sh") == 1);
  CHECK(by_parent("File Sent by Network Relay Tool", "relay-pipe-" + s.tag + ".sh") == 1);
  CHECK(by_parent(nullptr, "prompt-benign-" + s.tag + ".sh") == 0);
  std::printf("e2e: %zu of %zu expected alerts arrived (%zu alerts from this test, %zu in the file)\n", found,
              expected,
              static_cast<std::size_t>(std::count_if(alerts.begin(), alerts.end(),
                                                     [&](const SeenAlert& a) { return ours.count(a.pid) > 0; })),
              alerts.size());
  if (found != expected) {
    for (const auto& a : alerts)
      if (ours.count(a.pid)) std::printf("    seen: %s\n", Describe(a).c_str());
  }
}

TEST_CASE("vigil run stays quiet (nothing at WARNING or above) on a benign workload", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  Scratch s;
  REQUIRE(MakeScratch(&s) == "");
  ForkWatch forks;
  REQUIRE(forks.error() == "");
  // tests/e2e/benign_workload.sh: accounts (in a private mount namespace),
  // a local .deb installed and purged, interactive bash sessions, ping, a
  // compile and run, git, tar, ssh-keygen, logrotate, a web server and client.
  // Time budget: the binary's CTest TIMEOUT (tests/e2e/CMakeLists.txt) is
  // 170 s for both cases, ~25 s when the host is quiet; apt and dpkg may each
  // wait 30 s for the dpkg lock (another engineer's apt, unattended-upgrades).
  std::vector<SeenAlert> alerts;
  std::size_t own = 0;
  pid_t runner = -1;
  int status = -1;
  {
    VigilProcess vigil(s.dir, RulesPaths(s));
    const std::string started = vigil.Start();
    if (!started.empty()) RemoveScratch(s);
    REQUIRE(started == "");
    const pid_t vigil_pid = vigil.pid();  // Stop() forgets it
    runner = RunShell({VIGIL_BENIGN_WORKLOAD, s.dir}, &status);
    CHECK(FinishSteps(vigil, s.dir, &alerts) == "");
    own = OwnAlerts(alerts, vigil_pid);
  }
  CHECK(own == 0);
  const std::set<uint32_t> ours = forks.Descendants(static_cast<uint32_t>(runner));
  CHECK(forks.overruns() == 0);
  CHECK(RemoveScratch(s) == "");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);  // the workload itself worked

  std::size_t from_workload = 0, severe = 0;
  bool control = false;
  for (const auto& a : alerts) {
    if (!ours.count(a.pid)) continue;
    ++from_workload;
    std::printf("  benign workload alert: %s\n", Describe(a).c_str());
    // The compiled program runs from the /tmp scratch dir: a NOTICE by
    // design, and the proof that the workload's alerts are attributed.
    if (a.rule == "Execution From Temporary Directory" && a.Field("proc.exepath") == s.dir + "/hello")
      control = true;
    if (a.WarningOrAbove()) {
      ++severe;
      FAIL_CHECK("false positive at WARNING or above: " << Describe(a));
    }
  }
  std::printf("benign: %zu workload processes, %zu alerts from them, %zu at WARNING or above\n", ours.size(),
              from_workload, severe);
  CHECK(control);
  CHECK(severe == 0);
}

// `vigil events` records an rmdir (issue 18: Falco rules name it) with the
// directory's path, a setxattr with the attribute's name, and keeps the hot
// data calls (`vigil events` sends every type: its mask is all ones).
TEST_CASE("vigil events shows rmdir and setxattr events", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  char tmpl[] = "/tmp/vigil-e2e-events-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl, out = dir + "/events.json", log = dir + "/stderr";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 2);
    execl(VIGIL_BINARY, "vigil", "events", "-w", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (read(log).find("capturing with") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(read(log));
  REQUIRE(read(log).find("capturing with") != std::string::npos);
  const std::string gone = dir + "/gone-" + std::to_string(getpid());
  REQUIRE(mkdir(gone.c_str(), 0700) == 0);
  REQUIRE(rmdir(gone.c_str()) == 0);
  const std::string file = dir + "/attr";
  std::ofstream(file) << "x";
  const long set = setxattr(file.c_str(), "user.vigil_e2e", "1", 1, 0);  // -1 where /tmp has no user.* attributes
  // An exec's environment is recorded (proc.env: `vigil events` never narrows the capture).
  const std::string env_entry = "VIGIL_E2E_ENV=" + std::to_string(getpid());
  REQUIRE(std::system(("env " + env_entry + " /bin/true").c_str()) == 0);
  bool rmdir_seen = false, xattr_seen = false, env_seen = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((!rmdir_seen || !xattr_seen || !env_seen) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"evt.type\":\"rmdir\"") != std::string::npos &&
          line.find("\"fd.name\":\"" + gone + "\"") != std::string::npos && line.find("\"evt.res\":0") != std::string::npos)
        rmdir_seen = true;
      if (line.find("\"evt.type\":\"setxattr\"") != std::string::npos &&
          line.find("\"fd.name\":\"" + file + "\"") != std::string::npos &&
          line.find("\"fs.xattr\":\"user.vigil_e2e\"") != std::string::npos)
        xattr_seen = true;
      if (line.find("\"evt.type\":\"execve\"") != std::string::npos &&
          line.find("\"proc.exepath\":\"/usr/bin/true\"") != std::string::npos &&
          line.find("\"" + env_entry + "\"") != std::string::npos && line.find("\"proc.env\":[") != std::string::npos)
        env_seen = true;
    }
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO("setxattr returned " << set);
  CHECK(rmdir_seen);
  CHECK(xattr_seen);
  CHECK(env_seen);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  std::system(("rm -rf " + dir).c_str());
}

// Falco's two incubating rules that read proc.env fire under `vigil run -r
// <Falco's files>` on the real action: curl run with HTTP_PROXY set (it
// fails at once: nothing listens on 127.0.0.1:9) and a program started with
// GLIBC_TUNABLES (CVE-2023-4911's variable).
TEST_CASE("Falco's proc.env rules fire under vigil run -r falco rules", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  Scratch s;
  REQUIRE(MakeScratch(&s) == "");
  // Built-in path: the corpus next to the source tree; VIGIL_FALCO_RULES_DIR in
  // the environment overrides it (a worktree elsewhere).
  const char* falco_env = std::getenv("VIGIL_FALCO_RULES_DIR");
  const std::string falco = falco_env != nullptr ? falco_env : VIGIL_FALCO_RULES_DIR;
  std::vector<SeenAlert> alerts;
  {
    VigilProcess vigil(s.dir, {falco + "/falco_rules.yaml", falco + "/falco-incubating_rules.yaml",
                               WriteSentinelRule(s.dir)});
    const std::string started = vigil.Start();
    if (!started.empty()) RemoveScratch(s);
    REQUIRE(started == "");
    const std::string proxy = "env HTTP_PROXY=http://127.0.0.1:9 curl -s --max-time 2 http://127.0.0.1:9/e2e-" + s.tag;
    const std::string tunables = "env GLIBC_TUNABLES=glibc.malloc.check=0 /bin/echo e2e-" + s.tag + " >/dev/null";
    std::printf("  curl with HTTP_PROXY: exit %d\n", std::system(proxy.c_str()));
    std::printf("  echo with GLIBC_TUNABLES: exit %d\n", std::system(tunables.c_str()));
    const std::string sentinel = AwaitSentinel(vigil, s.dir);
    INFO(vigil.LogTail());
    CHECK(sentinel == "");
    CHECK(vigil.Stop() == "");
    alerts = vigil.Alerts();
  }
  CHECK(RemoveScratch(s) == "");
  auto fired = [&](const std::string& rule, const std::string& env) {
    for (const auto& a : alerts)
      if (a.rule == rule && a.Field("proc.cmdline").find("e2e-" + s.tag) != std::string::npos &&
          a.Field("proc.env").find(env) != std::string::npos)
        return true;
    return false;
  };
  CHECK(fired("Program run with disallowed http proxy env", "HTTP_PROXY=http://127.0.0.1:9"));
  CHECK(fired("Potential Local Privilege Escalation via Environment Variables Misuse",
              "GLIBC_TUNABLES=glibc.malloc.check=0"));
  for (const auto& a : alerts)
    if (a.Field("proc.cmdline").find("e2e-" + s.tag) != std::string::npos) std::printf("    seen: %s\n", Describe(a).c_str());
}

// Issue 18: Falco's event-generator actions that run on a host
// (falco_actions_table.h), done for real and safely by falco_actions.sh (tmpfs
// over system directories in a private mount namespace, loopback-only network
// namespaces) under `vigil run -r` Falco's three files.

TEST_CASE("Falco's event-generator actions fire their Falco rules under vigil run", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  Scratch s;
  REQUIRE(MakeScratch(&s) == "");
  ForkWatch forks;
  REQUIRE(forks.error() == "");
  const char* falco_env = std::getenv("VIGIL_FALCO_RULES_DIR");
  const std::string falco = falco_env != nullptr ? falco_env : VIGIL_FALCO_RULES_DIR;
  std::vector<SeenAlert> alerts;
  pid_t runner = -1;
  int status = -1;
  {
    VigilProcess vigil(s.dir, {falco + "/falco_rules.yaml", falco + "/falco-incubating_rules.yaml",
                               falco + "/falco-sandbox_rules.yaml", WriteFalcoEnable(s.dir), WriteSentinelRule(s.dir)});
    const std::string started = vigil.Start();
    if (!started.empty()) RemoveScratch(s);
    REQUIRE(started == "");
    runner = RunShell({VIGIL_FALCO_ACTIONS, s.dir, s.tag}, &status);
    CHECK(FinishSteps(vigil, s.dir, &alerts) == "");
  }
  const std::set<uint32_t> ours = forks.Descendants(static_cast<uint32_t>(runner));
  CHECK(forks.overruns() == 0);
  CHECK(RemoveScratch(s) == "");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto fired = [&](const FalcoAction& want) {
    for (const auto& a : alerts) {
      if (a.rule != want.rule || !ours.count(a.pid)) continue;
      bool ok = true;
      for (const auto& [field, text] : want.fields)
        if (a.Field(field).find(Subst(text, s)) == std::string::npos) ok = false;
      if (ok) return true;
    }
    return false;
  };
  std::size_t yes = 0, hit = 0, no = 0, container = 0;
  for (const auto& want : kFalcoActions) {
    if (want.where == Where::kContainer) {  // falco_container_actions_test
      ++container;
      continue;
    }
    INFO("event-generator action " << want.action << ".go -> rule '" << want.rule << "'");
    switch (want.fires) {
      case Fires::kYes:
        ++yes;
        if (fired(want)) ++hit;
        CHECK(fired(want));
        break;
      case Fires::kNo:  // reproduced, documented not to fire: a change that makes it fire updates the table
        ++no;
        CHECK_FALSE(fired(want));
        std::printf("  not expected to fire: %s (%s)\n", want.rule, want.why);
        break;
    }
  }
  std::printf("falco actions: %zu of %zu expected rules fired; %zu reproduced and expected not to fire; %zu in falco_container_actions_test\n",
              hit, yes, no, container);
  if (hit != yes)
    for (const auto& a : alerts)
      if (ours.count(a.pid)) std::printf("    seen: %s\n", Describe(a).c_str());
}
