// SPDX-License-Identifier: Apache-2.0
// Escape and privilege indicators on the real kernel: unshare, setns,
// memfd_create + execveat(AT_EMPTY_PATH), ptrace attach, dup2 of a connected
// socket onto stdout, setuid, init_module with garbage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture_fixture.h"
#include "tests/support/loopback.h"

using namespace vigil;
using namespace vigil::capture::testing;

namespace {

std::optional<Seen> WaitPid(EventType type, pid_t pid) {
  return WaitFor([&](const Event& e) { return e.type == type && e.proc.pid == uint32_t(pid); });
}

}  // namespace

TEST_CASE("unshare flags and setns fd/nstype", "[root]") {
  TheSensor();
  Drain();
  auto [child, status] = InChild([] {
    int fd = open("/proc/self/ns/uts", O_RDONLY);
    if (unshare(CLONE_NEWUTS) != 0) return 2;
    if (setns(fd, CLONE_NEWUTS) != 0) return 3;
    return 0;
  });
  REQUIRE(WEXITSTATUS(status) == 0);
  auto u = WaitPid(EventType::unshare, child);
  REQUIRE(u);
  CHECK(u->event.args.flags == CLONE_NEWUTS);
  CHECK(u->event.res == 0);
  auto s = WaitPid(EventType::setns, child);
  REQUIRE(s);
  CHECK(s->event.args.flags == CLONE_NEWUTS);
  CHECK(s->event.args.fd >= 3);
  CHECK(s->event.res == 0);
}

TEST_CASE("memfd_create + execveat(AT_EMPTY_PATH) runs a file-less binary", "[root]") {
  TheSensor();
  Drain();
  auto [child, status] = InChild([] {
    int mfd = static_cast<int>(syscall(SYS_memfd_create, "vg-memfd", 0));
    int src = open("/bin/true", O_RDONLY);
    struct stat st;
    fstat(src, &st);
    if (sendfile(mfd, src, nullptr, static_cast<size_t>(st.st_size)) != st.st_size) return 2;
    char* argv[] = {const_cast<char*>("fileless"), const_cast<char*>("--flag"), nullptr};
    char* envp[] = {nullptr};
    syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
    return 3;
  });
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto m = WaitPid(EventType::memfd_create, child);
  REQUIRE(m);
  CHECK(m->event.args.name == "vg-memfd");
  CHECK(m->event.res >= 3);
  auto x = WaitPid(EventType::execveat, child);
  REQUIRE(x);
  CHECK(x->event.res == 0);
  INFO("exepath " << x->event.proc.exepath);
  CHECK(x->event.proc.exepath.find("memfd:vg-memfd") != std::string::npos);
  CHECK(x->event.proc.argv == std::vector<std::string>{"fileless", "--flag"});
  CHECK(x->event.file.flags == AT_EMPTY_PATH);
  CHECK(x->event.file.fd == static_cast<int32_t>(m->event.res));
}

TEST_CASE("ptrace attach to a child: request and target pid", "[root]") {
  TheSensor();
  Drain();
  pid_t target = fork();
  if (target == 0) {
    pause();
    _exit(0);
  }
  REQUIRE(ptrace(PTRACE_ATTACH, target, nullptr, nullptr) == 0);
  int st = 0;
  waitpid(target, &st, 0);
  auto p = WaitPid(EventType::ptrace, getpid());
  REQUIRE(p);
  CHECK(p->event.args.request == PTRACE_ATTACH);
  CHECK(p->event.args.target_pid == target);
  CHECK(p->event.res == 0);
  kill(target, SIGKILL);
  waitpid(target, &st, 0);
}

TEST_CASE("dup2 of a connected socket onto fd 1 carries the socket's peer", "[root]") {
  TheSensor();
  Drain();
  const vigil::testing::LoopbackListener srv(1);
  REQUIRE(srv.fd >= 0);
  sockaddr_in a = srv.addr;
  const uint16_t port = srv.port;
  auto [child, status] = InChild([&] {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 2;
    if (dup2(s, 1) != 1) return 3;
    // dup2 onto a high fd is not reported
    if (dup2(s, 50) != 50) return 4;
    return 0;
  });
  REQUIRE(WEXITSTATUS(status) == 0);
  auto d = WaitPid(EventType::dup2, child);
  REQUIRE(d);
  CHECK(d->event.args.newfd == 1);
  CHECK(d->event.args.oldfd >= 3);
  CHECK(d->event.res == 1);
  CHECK(d->event.net.family == AF_INET);
  CHECK(d->event.net.remote_port == port);
  CHECK(d->event.net.remote_addr.bytes[0] == 127);
  auto high = WaitFor(
      [&](const Event& e) { return e.type == EventType::dup2 && e.proc.pid == uint32_t(child) && e.args.newfd == 50; },
      std::chrono::milliseconds(300));
  CHECK_FALSE(high);
}

TEST_CASE("setuid in a child: requested id, result, and the new euid", "[root]") {
  TheSensor();
  Drain();
  auto [child, status] = InChild([] { return setuid(65534) == 0 ? 0 : 2; });
  REQUIRE(WEXITSTATUS(status) == 0);
  auto s = WaitPid(EventType::setuid, child);
  REQUIRE(s);
  CHECK(s->event.args.ids[0] == 65534u);
  CHECK(s->event.res == 0);
  CHECK(s->event.proc.euid == 65534u);  // credentials read at sys_exit
  CHECK(s->event.proc.uid == 65534u);
}

TEST_CASE("init_module with garbage: captured with its error, or reported as unavailable", "[root]") {
  auto& sensor = TheSensor();
  Drain();
  char garbage[64] = "this is not an ELF module";
  long r = syscall(SYS_init_module, garbage, sizeof(garbage), "");
  int err = errno;
  REQUIRE(r == -1);
  const auto& att = sensor.attached();
  if (std::find(att.begin(), att.end(), "vg_exit_init_module") != att.end()) {
    auto ev = WaitPid(EventType::init_module, getpid());
    REQUIRE(ev);
    CHECK(ev->event.res == -err);
  } else {
    // This kernel has no init_module tracepoint (modules compiled out): the
    // loader must say so by program name rather than fail.
    bool reported = false;
    for (const auto& d : sensor.disabled())
      if (d.name == "vg_exit_init_module" && d.reason.find("not in this kernel") != std::string::npos) reported = true;
    CHECK(reported);
    CHECK((err == ENOSYS || err == EPERM || err == EINVAL || err == ENOEXEC));
  }
}

// userfaultfd (issue 18: Falco's rule on unprivileged use names it): flags as
// given, the new fd as result.
TEST_CASE("userfaultfd: flags and the new fd", "[root]") {
  TheSensor();
  Drain();
  const int flags = O_CLOEXEC | O_NONBLOCK;
  long fd = syscall(SYS_userfaultfd, flags);
  const long want = fd >= 0 ? fd : -errno;
  INFO("userfaultfd: " << fd << " " << std::strerror(errno));
  auto u = WaitPid(EventType::userfaultfd, getpid());
  if (fd >= 0) close(static_cast<int>(fd));
  REQUIRE(u);
  CHECK(u->event.res == want);
  CHECK(u->event.args.flags == static_cast<uint64_t>(flags));
  CHECK(RuleOutput(u->event, "evt.type = userfaultfd and user.uid = 0", "%evt.type %evt.arg.flags") ==
        "userfaultfd " + std::to_string(flags));
}

// Falco's sandbox rule "Unprivileged Delegation of Page Faults Handling to a
// Userspace Process" fires on the event of a real unprivileged userfaultfd
// (the event-generator's action; UFFD_USER_MODE_ONLY: allowed to any user
// since 5.11 whatever vm.unprivileged_userfaultfd says). vigil warned that
// this rule could never fire before userfaultfd was captured (issue 18).
TEST_CASE("an unprivileged userfaultfd fires Falco's sandbox rule", "[root]") {
  TheSensor();
  Drain();
  constexpr int kUserModeOnly = 1;  // UFFD_USER_MODE_ONLY
  auto [child, status] = InChild([] {
    if (setgid(65534) != 0 || setuid(65534) != 0) return 2;
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | kUserModeOnly);
    return fd >= 0 ? 0 : 3;
  });
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) {
    WARN("unprivileged userfaultfd refused on this kernel (before 5.11 or no CONFIG_USERFAULTFD): not checked");
    return;
  }
  REQUIRE(WEXITSTATUS(status) == 0);
  auto u = WaitPid(EventType::userfaultfd, child);
  REQUIRE(u);
  CHECK(u->event.res >= 0);
  CHECK(u->event.proc.uid == 65534);
  Diagnostics diags;
  auto eng = RuleEngine::Load({std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml"}, &diags, HostInfo{});
  REQUIRE(eng != nullptr);
  std::vector<const CompiledRule*> fired;
  eng->Match(u->event, &fired);
  bool hit = false;
  for (const CompiledRule* r : fired)
    hit = hit || r->name == "Unprivileged Delegation of Page Faults Handling to a Userspace Process";
  CHECK(hit);
}

// Issue 24 item 2: pidfd_getfd took vigil's ring buffer fd. The record names
// the pidfd's process, read in the kernel from the pidfd (pidfs or anon
// inode), and the fd taken; an fd that is not a pidfd gives target 0.
TEST_CASE("pidfd_getfd: the pidfd's process and the fd taken; process_vm_readv: its target", "[root]") {
  TheSensor();
  Drain();
  pid_t sleeper = fork();
  if (sleeper == 0) {
    pause();
    _exit(0);
  }
  const int pidfd = static_cast<int>(syscall(434 /* pidfd_open */, sleeper, 0));
  REQUIRE(pidfd >= 0);
  const int got = static_cast<int>(syscall(438 /* pidfd_getfd */, pidfd, 1, 0));
  const int got_errno = errno;
  const int devnull = open("/dev/null", O_RDONLY);
  const long not_pidfd = syscall(438, devnull, 1, 0);  // EBADF: not a pidfd
  char buf[8];
  iovec local{buf, sizeof buf}, remote{reinterpret_cast<void*>(0x1000), sizeof buf};
  const long pvr = syscall(SYS_process_vm_readv, sleeper, &local, 1, &remote, 1, 0);
  kill(sleeper, SIGKILL);
  waitpid(sleeper, nullptr, 0);
  INFO("pidfd_getfd " << got << " " << std::strerror(got_errno) << ", process_vm_readv " << pvr);
  REQUIRE(got >= 0);
  CHECK(not_pidfd == -1);
  auto g = WaitFor([&](const Event& e) {
    return e.type == EventType::pidfd_getfd && e.proc.pid == uint32_t(getpid()) && e.args.fd == pidfd;
  });
  REQUIRE(g);
  CHECK(g->event.args.target_pid == sleeper);
  CHECK(g->event.args.oldfd == 1);
  CHECK(g->event.args.newfd == got);
  CHECK(g->event.res == got);
  CHECK(RuleOutput(g->event, "evt.type = pidfd_getfd", "%evt.type %evt.arg.pid %evt.arg.fd") ==
        "pidfd_getfd " + std::to_string(sleeper) + " " + std::to_string(pidfd));
  auto n = WaitFor([&](const Event& e) {
    return e.type == EventType::pidfd_getfd && e.proc.pid == uint32_t(getpid()) && e.args.fd == devnull;
  });
  REQUIRE(n);
  CHECK(n->event.args.target_pid == 0);
  CHECK(n->event.res == -EBADF);
  auto r = WaitPid(EventType::process_vm_readv, getpid());
  REQUIRE(r);
  CHECK(r->event.args.target_pid == sleeper);
  close(got);
  close(devnull);
  close(pidfd);
}
