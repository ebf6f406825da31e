// SPDX-License-Identifier: Apache-2.0
// The /proc scanner and cgroup resolver on this host: a child with known argv
// and cwd must be found with the right fields.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "bpf/procfs/cgroup_resolver.h"
#include "bpf/procfs/proc_scan.h"
#include "bpf/vigil_abi.h"
#include "engine/state/container.h"
#include "engine/state/process_table.h"

namespace vigil {
namespace {

// A `sleep` child started in a fresh temporary directory; killed on scope exit.
struct Child {
  Child() {
    char tmpl[] = "/tmp/vigil-procscan-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    before_ns = BootTimeNowNs();
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::chdir(dir.c_str()) != 0) _exit(126);
      execl("/bin/sleep", "sleep", "30.4242", static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait until the exec finished. comm changes early in execve, before the
    // new image's argument area is set up (cmdline reads empty in between),
    // so wait for the command line itself.
    // A loaded shared host can take a while to schedule the child: a 10 s
    // deadline, and a test that says so rather than going on with a child
    // that has not exec'd yet.
    const std::string want("sleep\0" "30.4242\0", 14);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool execd = false;
    std::string cmdline;
    while (!execd && std::chrono::steady_clock::now() < deadline) {
      std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
      cmdline.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      execd = cmdline == want;
      if (!execd) ::usleep(2000);
    }
    if (!execd) {
      // the destructor does not run when the constructor fails: clean up here
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::rmdir(dir.c_str());
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      FAIL("child " << pid << " did not show the command line 'sleep 30.4242' within 10 s of fork (exec of "
                    "/bin/sleep failed or not yet done); /proc/" << pid << "/cmdline reads \"" << cmdline << "\"");
    }
  }
  ~Child() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::rmdir(dir.c_str());
  }
  pid_t pid = -1;
  std::string dir;
  uint64_t before_ns = 0;
};

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

TEST_CASE("ReadProcess finds a child with its argv, cwd, exe and parent", "[unit][procfs]") {
  Child child;
  bool incomplete = true;
  std::optional<ProcessInfo> p = ReadProcess(static_cast<uint32_t>(child.pid), {}, &incomplete);
  REQUIRE(p);
  CHECK_FALSE(incomplete);
  CHECK(p->pid == static_cast<uint32_t>(child.pid));
  CHECK(p->ppid == static_cast<uint32_t>(::getpid()));
  CHECK(p->name == "sleep");
  CHECK(p->argv == std::vector<std::string>{"sleep", "30.4242"});
  CHECK_FALSE(p->argv_truncated);
  CHECK(p->cwd == RealPath(child.dir));
  CHECK(p->exepath == RealPath("/bin/sleep"));
  CHECK(p->uid == ::getuid());
  CHECK(p->euid == ::geteuid());
  CHECK(p->gid == ::getgid());
  // Start time: boot clock, tick granularity, between fork and now.
  CHECK(p->start_ns + NsPerClockTick() >= child.before_ns);
  CHECK(p->start_ns <= BootTimeNowNs());
  CHECK(p->ns.mnt != 0);
  CHECK(p->ns.pid != 0);
  CHECK(p->ns.net != 0);
  CHECK_FALSE(p->cgroup.empty());
  CHECK(p->cgroup.front() == '/');
  CHECK(p->container_id == ContainerIdFromCgroup(p->cgroup));
  // Same cgroup as ours; its id is the inode of the cgroup directory.
  std::optional<ProcessInfo> self = ReadProcess(static_cast<uint32_t>(::getpid()));
  REQUIRE(self);
  CHECK(p->cgroup == self->cgroup);
  struct stat st {};
  REQUIRE(::stat((FindCgroup2Mount() + p->cgroup).c_str(), &st) == 0);
  CHECK(p->cgroup_id == st.st_ino);
}

TEST_CASE("argv is bounded and flagged truncated", "[unit][procfs]") {
  Child child;
  ProcScanOptions small;
  small.max_argv_bytes = 8;  // "sleep\0" + 2 bytes
  std::optional<ProcessInfo> p = ReadProcess(static_cast<uint32_t>(child.pid), small);
  REQUIRE(p);
  CHECK(p->argv_truncated);
  CHECK(p->argv == std::vector<std::string>{"sleep", "30"});
  ProcScanOptions few;
  few.max_args = 1;
  p = ReadProcess(static_cast<uint32_t>(child.pid), few);
  REQUIRE(p);
  CHECK(p->argv_truncated);
  CHECK(p->argv.size() == 1);
}

TEST_CASE("ScanProcesses lists the child and this process; vanished pids are skipped", "[unit][procfs]") {
  Child child;
  ProcScanStats stats;
  std::vector<ProcessInfo> all = ScanProcesses({}, &stats);
  CHECK(stats.found >= stats.read);
  CHECK(stats.read == all.size());
  CHECK(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.pid < b.pid; }));
  auto it = std::find_if(all.begin(), all.end(), [&](auto& p) { return p.pid == static_cast<uint32_t>(child.pid); });
  REQUIRE(it != all.end());
  CHECK(it->argv == std::vector<std::string>{"sleep", "30.4242"});
  CHECK(std::any_of(all.begin(), all.end(), [](auto& p) { return p.pid == static_cast<uint32_t>(::getpid()); }));

  // A pid that is gone reads as nothing.
  pid_t gone = ::fork();
  REQUIRE(gone >= 0);
  if (gone == 0) _exit(0);
  ::waitpid(gone, nullptr, 0);
  CHECK_FALSE(ReadProcess(static_cast<uint32_t>(gone)));
}

TEST_CASE("a fake /proc tree: odd comm, missing files, non-numeric entries", "[unit][procfs]") {
  char tmpl[] = "/tmp/vigil-fakeproc-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string root = tmpl;
  auto write = [&](const std::string& rel, const std::string& text) {
    std::ofstream(root + "/" + rel, std::ios::binary) << text;
  };
  ::mkdir((root + "/4242").c_str(), 0755);
  ::mkdir((root + "/self").c_str(), 0755);
  ::mkdir((root + "/4243").c_str(), 0755);  // empty: vanished
  // comm with a space and ')' inside; starttime 1234 ticks.
  write("4242/stat", "4242 (we) ird) S 77 4240 4200 34816 4242 4194560 1 0 0 0 0 0 0 0 20 0 1 0 1234 1000 100 "
                     "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  write("4242/status", "Name:\twe) ird\nUid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\n"
                       "CapPrm:\t00000000000000ff\nCapEff:\t0000000000000003\nNSpid:\t4242\t7\n"
                       "NSpgid:\t4240\t5\nNSsid:\t4200\t0\n");
  write("4242/cmdline", std::string("prog\0--flag\0value\0", 18));
  write("4242/loginuid", "1000");
  write("4242/cgroup", "0::/system.slice/docker-" + std::string(64, 'c') + ".scope\n");
  ProcScanOptions options;
  options.proc_root = root;
  options.cgroup_root = "";
  ProcScanStats stats;
  std::vector<ProcessInfo> all = ScanProcesses(options, &stats);
  CHECK(stats.found == 2);
  CHECK(stats.vanished == 1);
  REQUIRE(all.size() == 1);
  const ProcessInfo& p = all[0];
  CHECK(p.name == "we) ird");
  CHECK(p.ppid == 77);
  CHECK(p.tty == 34816);
  CHECK(p.start_ns == 1234 * NsPerClockTick());
  CHECK(p.uid == 1000);
  CHECK(p.euid == 1001);
  CHECK(p.gid == 100);
  CHECK(p.egid == 101);
  CHECK(p.cap_permitted == 0xff);
  CHECK(p.cap_effective == 3);
  CHECK(p.vpid == 7);
  CHECK(p.pidns_level == 1);
  // issue 18: group and session, host view from stat, own view from status
  // (the session leader outside the namespace: 0)
  CHECK(p.session_known);
  CHECK(p.pgid == 4240);
  CHECK(p.sid == 4200);
  CHECK(p.vpgid == 5);
  CHECK(p.vsid == 0);
  CHECK(p.loginuid == 1000);
  CHECK(p.argv == std::vector<std::string>{"prog", "--flag", "value"});
  CHECK(p.container_id == "cccccccccccc");
  CHECK(p.exepath.empty());  // no exe link in the fake tree
  CHECK(stats.incomplete == 1);
  std::system(("rm -rf " + root).c_str());
}

// issue 18: proc.env of a process that predates the sensor comes from
// /proc/<pid>/environ, bounded and marked as an exec record's environment.
TEST_CASE("a fake /proc tree: environ is read, bounded at VG_ENV_LEN and marked truncated", "[unit][procfs]") {
  char tmpl[] = "/tmp/vigil-fakeenv-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  auto make = [&](const std::string& pid, const std::optional<std::string>& environ) {
    ::mkdir((root + "/" + pid).c_str(), 0755);
    auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream(root + "/" + pid + "/" + name, std::ios::binary) << text;
    };
    write("stat", pid + " (p) S 1 1 1 0 1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 1000 100 0 0 0 0 0\n");
    write("status", "Name:\tp\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
    if (environ) write("environ", *environ);
  };
  make("10", std::string("HOME=/root\0VIGIL_SEED=one two\0", 30));
  make("11", std::nullopt);  // unreadable environ: not captured
  make("12", std::string());  // an empty environment: captured, empty
  // 4096 bytes exactly: whole. 4097: cut, and the entry crossing the bound is dropped.
  const std::string first = "A=" + std::string(4000, 'a') + '\0';  // 4003 bytes
  const std::string exact = first + "B=" + std::string(4096 - first.size() - 3, 'b') + '\0';
  REQUIRE(exact.size() == 4096);
  make("13", exact);
  make("14", exact + "C=c" + '\0');
  make("15", first + "B=" + std::string(200, 'b') + '\0');
  ProcScanOptions options;
  options.proc_root = root;
  auto env_of = [&](uint32_t pid, const ProcScanOptions& o) {
    std::optional<ProcessInfo> p = ReadProcess(pid, o);
    REQUIRE(p);
    return *p;
  };
  ProcessInfo p10 = env_of(10, options);
  REQUIRE(p10.env);
  CHECK(*p10.env == std::string("HOME=/root\0VIGIL_SEED=one two\0", 30));
  CHECK_FALSE(p10.env_truncated);
  std::string_view value;
  REQUIRE(FindEnv(*p10.env, "VIGIL_SEED", &value));
  CHECK(value == "one two");
  CHECK_FALSE(env_of(11, options).env);
  ProcessInfo p12 = env_of(12, options);
  REQUIRE(p12.env);
  CHECK(p12.env->empty());
  ProcessInfo p13 = env_of(13, options);
  REQUIRE(p13.env);
  CHECK(*p13.env == exact);
  CHECK_FALSE(p13.env_truncated);
  ProcessInfo p14 = env_of(14, options);
  REQUIRE(p14.env);
  CHECK(*p14.env == exact);  // the bytes past 4096 are gone and marked
  CHECK(p14.env_truncated);
  ProcessInfo p15 = env_of(15, options);
  REQUIRE(p15.env);
  CHECK(*p15.env == first);  // B=... crossed the bound: dropped, not passed on cut
  CHECK(p15.env_truncated);
  // The same bytes through the exec record's path give the same value.
  CHECK(*MakeEnv(std::string_view(first + "B=" + std::string(200, 'b') + '\0').substr(0, VG_ENV_LEN), true) ==
        *p15.env);
  ProcScanOptions off = options;
  off.read_env = false;
  CHECK_FALSE(env_of(10, off).env);
  std::system(("rm -rf " + root).c_str());
}

TEST_CASE("IsElf32: the ELF class of a file, false for anything that is not a 32-bit ELF", "[unit][procfs]") {
  char tmpl[] = "/tmp/vigil-elfclass-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  CHECK(IsElf32(write("i386", std::string("\x7f" "ELF\x01\x01\x01", 7))));
  CHECK(IsElf32(write("class-only", std::string("\x7f" "ELF\x01", 5))));
  CHECK_FALSE(IsElf32(write("x86_64", std::string("\x7f" "ELF\x02\x01\x01", 7))));
  CHECK_FALSE(IsElf32(write("short", std::string("\x7f" "EL", 3))));
  CHECK_FALSE(IsElf32(write("script", "#!/bin/sh\nexit 0\n")));
  CHECK_FALSE(IsElf32(write("empty", "")));
  CHECK_FALSE(IsElf32(dir + "/missing"));
  CHECK_FALSE(IsElf32(dir));  // a directory
  CHECK_FALSE(IsElf32("/proc/self/exe"));  // this test, a 64-bit program
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("seeding a process table from the scan gives ancestry for running processes", "[unit][procfs]") {
  Child child;
  ProcessTable table;
  for (const ProcessInfo& p : ScanProcesses()) table.Upsert(p);
  Event e;
  e.type = EventType::openat;
  e.proc.pid = e.proc.tid = static_cast<uint32_t>(child.pid);
  table.Apply(e);
  CHECK(e.proc.argv == std::vector<std::string>{"sleep", "30.4242"});
  REQUIRE(e.ancestors->Ancestor(1) != nullptr);
  CHECK(e.ancestors->Ancestor(1)->pid == static_cast<uint32_t>(::getpid()));
  CHECK(table.Stats().misses == 0);
}

TEST_CASE("cgroup resolver maps a cgroup id (directory inode) to its path", "[unit][procfs]") {
  std::optional<ProcessInfo> self = ReadProcess(static_cast<uint32_t>(::getpid()));
  REQUIRE(self);
  const std::string mount = FindCgroup2Mount();
  struct stat st {};
  REQUIRE(::stat((mount + self->cgroup).c_str(), &st) == 0);
  for (auto method : {CgroupResolver::Method::kScanOnly, CgroupResolver::Method::kAuto}) {
    CgroupResolver resolver("", 64, method);
    const CgroupInfo* info = resolver.Lookup(st.st_ino);
    REQUIRE(info != nullptr);
    CHECK(info->path == self->cgroup);
    CHECK(info->container_id == ContainerIdFromCgroup(self->cgroup));
    CHECK(resolver.Lookup(st.st_ino) == info);  // cached
    auto s = resolver.Stats();
    CHECK(s.hits == 1);
    CHECK(s.misses == 1);
    CHECK(s.size <= 64);
    // As root (CAP_DAC_READ_SEARCH) the file-handle path resolves without a walk.
    if (method == CgroupResolver::Method::kAuto && ::geteuid() == 0) {
      CHECK(s.handle_opens == 1);
      CHECK(s.rescans == 0);
    } else {
      CHECK(s.rescans == 1);
    }
    // The root cgroup and an id that does not exist.
    struct stat root {};
    REQUIRE(::stat(mount.c_str(), &root) == 0);
    const CgroupInfo* r = resolver.Lookup(root.st_ino);
    REQUIRE(r != nullptr);
    CHECK(r->path == "/");
    CHECK(resolver.Lookup(0xfffffffffff0ull) == nullptr);
    CHECK(resolver.Lookup(0xfffffffffff0ull) == nullptr);  // negative-cached: no second walk
    CHECK(resolver.Stats().unresolved == 2);
    CHECK(resolver.Lookup(0) == nullptr);
  }
}

TEST_CASE("the cgroup2 mount is found in mountinfo, unified or hybrid", "[unit][procfs]") {
  char tmpl[] = "/tmp/vigil-mountinfo-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::close(fd);
  struct Case {
    std::string text, want;
  };
  const Case cases[] = {
      {"25 30 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup"},
      {"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
       "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
       "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
       "/sys/fs/cgroup/unified"},
      {"50 1 0:40 /sub /mnt/sub rw - cgroup2 cgroup2 rw\n51 1 0:40 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n",
       "/mnt/my cg"},
      {"22 1 0:5 / /proc rw - proc proc rw\n", "/sys/fs/cgroup"},
  };
  for (const Case& c : cases) {
    std::ofstream(tmpl, std::ios::trunc) << c.text;
    CHECK(FindCgroup2Mount(tmpl) == c.want);
  }
  ::unlink(tmpl);
}

TEST_CASE("cgroup resolver stays within its capacity", "[unit][procfs]") {
  CgroupResolver resolver("", 2, CgroupResolver::Method::kScanOnly);
  for (uint64_t id = 1ull << 40; id < (1ull << 40) + 10; ++id) resolver.Lookup(id);
  CHECK(resolver.Stats().size <= 2);
}

// Issue 17: fds 0-2 from /proc/PID/fd (stat() follows the link to the pipe's
// or file's inode; the device in the kernel's encoding, as the exec record).
TEST_CASE("stdio of a live process: pipe, regular file, closed", "[unit]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  char path[] = "/tmp/vigil-stdin-XXXXXX";
  int file = ::mkstemp(path);
  REQUIRE(file >= 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(fds[0], 0);  // stdin: the pipe
    ::dup2(file, 1);    // stdout: the file
    ::close(2);         // stderr: closed
    ::pause();
    ::_exit(0);
  }
  struct stat pst {}, fst {};
  REQUIRE(::fstat(fds[0], &pst) == 0);
  REQUIRE(::fstat(file, &fst) == 0);
  // wait for the child's dup2s
  ProcessInfo p;
  std::string dir = "/proc/" + std::to_string(child) + "/";
  for (int i = 0; i < 200; ++i) {
    ReadStdio(dir, &p);
    if (p.stdio[2].type == StdioType::kNone) break;
    ::usleep(10'000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::unlink(path);
  ::close(fds[0]);
  ::close(fds[1]);
  ::close(file);
  CHECK(p.stdio[0].type == StdioType::kPipe);
  CHECK(p.stdio[0].ino == pst.st_ino);
  CHECK(p.stdio[0].dev == ((major(pst.st_dev) << 20) | minor(pst.st_dev)));
  CHECK(p.stdio[1].type == StdioType::kFile);
  CHECK(p.stdio[1].ino == fst.st_ino);
  CHECK(p.stdio[2].type == StdioType::kNone);
  CHECK(p.stdin_name.empty());  // only a regular file on fd 0 has a name
}

}  // namespace
}  // namespace vigil
