// SPDX-License-Identifier: Apache-2.0
// SelfProtection's alert on another process's access to vigil's BPF objects by
// id: its text, action and enforcement, and the per-(process, command) limit
// that keeps `bpftool prog show` (one GET_FD_BY_ID per program) to one alert.
// ForeignAccess() and the integrity check need vigil's loaded objects: the
// root test agent_self_protect_test covers them.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "agent/self_protection.h"

using namespace std::chrono_literals;
using vigil::Alert;
using vigil::Event;
using vigil::EventType;
using vigil::agent::SelfProtection;

namespace {

Event BpfEvent(uint32_t pid, int32_t cmd, uint32_t id, int64_t res) {
  Event ev;
  ev.type = EventType::bpf;
  ev.proc.pid = pid;
  ev.proc.tid = pid;
  ev.proc.name = "bpftool";
  ev.proc.exepath = "/usr/sbin/bpftool";
  ev.bpf.cmd = cmd;
  ev.bpf.id = id;
  ev.res = res;
  return ev;
}

template <typename T>
T Field(const Alert& a, const std::string& name) {
  for (const auto& [k, v] : a.output_fields)
    if (k == name) return std::get<T>(v);
  FAIL("no field " << name);
  return T{};
}

}  // namespace

TEST_CASE("An access by id is one Critical alert naming the call, the process and what the kernel did", "[unit]") {
  struct Case {
    const char* enforced;
    bool lsm;
    const char* action;
    const char* suffix;
  };
  const Case cases[] = {
      {"", false, "alert", ""},                                 // no BPF LSM: alert only
      {"", true, "deny", ""},                                   // LSM asked, the call was not refused
      {"deny", true, "deny", "; refused by the kernel"},       // LSM refused it
  };
  for (const auto& c : cases) {
    INFO(c.enforced << " lsm=" << c.lsm);
    SelfProtection self(1);
    auto a = self.AccessAlert(BpfEvent(77, vigil::enforce::kBpfProgGetFdById, 12, -1), c.enforced, c.lsm,
                              SelfProtection::Clock::now());
    REQUIRE(a);
    CHECK(a->rule == "vigil self-protection");
    CHECK(a->priority == vigil::Priority::kCritical);
    CHECK(a->output == std::string("bpf(BPF_PROG_GET_FD_BY_ID) on vigil's own id 12 by pid 77 (bpftool, "
                                   "/usr/sbin/bpftool)") + c.suffix);
    CHECK(a->action == c.action);
    CHECK(a->enforcement == c.enforced);
    CHECK(a->source == "syscall");
    CHECK(a->process.pid == 77);
    CHECK(Field<int64_t>(*a, "bpf.cmd") == vigil::enforce::kBpfProgGetFdById);
    CHECK(Field<uint64_t>(*a, "bpf.id") == 12);
    CHECK(Field<int64_t>(*a, "evt.res") == -1);
  }
}

TEST_CASE("Repeats by one process and command within 5 s are counted into the next alert", "[unit]") {
  SelfProtection self(1);
  const auto t0 = SelfProtection::Clock::now();
  const int32_t prog = vigil::enforce::kBpfProgGetFdById, map = vigil::enforce::kBpfMapGetFdById;
  struct Step {
    std::chrono::milliseconds at;
    uint32_t pid;
    int32_t cmd;
    const char* alert;  // nullptr: held back; else the end of its text
  };
  const Step steps[] = {
      {0ms, 77, prog, "(bpftool, /usr/sbin/bpftool)"},
      {100ms, 77, prog, nullptr},
      {200ms, 77, prog, nullptr},
      {300ms, 77, map, "(bpftool, /usr/sbin/bpftool)"},  // another command
      {400ms, 78, prog, "(bpftool, /usr/sbin/bpftool)"},  // another process
      {4900ms, 77, prog, nullptr},
      {5000ms, 77, prog, "; 3 more such calls by this process before"},
      {5100ms, 77, prog, nullptr},
  };
  for (const auto& s : steps) {
    INFO("at " << s.at.count() << " ms, pid " << s.pid << ", cmd " << s.cmd);
    auto a = self.AccessAlert(BpfEvent(s.pid, s.cmd, 5, 3), "", false, t0 + s.at);
    if (!s.alert) {
      CHECK_FALSE(a);
      continue;
    }
    REQUIRE(a);
    const std::string end(s.alert);
    CHECK(a->output.size() >= end.size());
    CHECK(a->output.compare(a->output.size() - end.size(), end.size(), end) == 0);
  }
}

TEST_CASE("With nothing watched and no enforcement object the integrity check finds nothing", "[unit]") {
  SelfProtection self(1);
  CHECK(self.CheckIntegrity(nullptr).empty());
  CHECK_FALSE(self.ForeignAccess(BpfEvent(77, vigil::enforce::kBpfProgGetFdById, 12, 3)));
}

// Issue 24 item 2: access to the vigil process itself. "vigil" here is this
// test process (its pid and, for the thread case, one of its threads).
TEST_CASE("TargetsSelf: attaches, fd copies, memory access and /proc memory files aimed at vigil", "[unit]") {
  const uint32_t me = static_cast<uint32_t>(getpid());
  SelfProtection self(me);
  // A second thread of "vigil": pidfds, ptrace and /proc/<tid> name threads too.
  std::promise<uint32_t> tid_promise;
  std::promise<void> done;
  std::thread t([&] {
    tid_promise.set_value(static_cast<uint32_t>(gettid()));
    done.get_future().wait();
  });
  const uint32_t thread = tid_promise.get_future().get();
  const std::string mp = std::to_string(me);
  auto ev = [](EventType type, int32_t target, int64_t request = 0, std::string path = "") {
    Event e;
    e.type = type;
    e.proc.pid = e.proc.tid = 4242;
    e.proc.name = "gdb";
    e.proc.exepath = "/usr/bin/gdb";
    e.args.target_pid = target;
    e.args.request = request;
    e.file.path = std::move(path);
    return e;
  };
  const int32_t other = 1;  // init: not vigil
  struct Row {
    const char* what;
    Event e;
    bool targets;
  };
  const Row rows[] = {
      {"ptrace attach", ev(EventType::ptrace, me, vigil::agent::kPtraceAttach), true},
      {"ptrace seize of a thread", ev(EventType::ptrace, thread, vigil::agent::kPtraceSeize), true},
      {"ptrace peek (after an attach, not one)", ev(EventType::ptrace, me, 2 /* PTRACE_PEEKDATA */), false},
      {"ptrace attach of another process", ev(EventType::ptrace, other, vigil::agent::kPtraceAttach), false},
      {"pidfd_getfd", ev(EventType::pidfd_getfd, me), true},
      {"pidfd_getfd, fd not a pidfd (target 0)", ev(EventType::pidfd_getfd, 0), false},
      {"pidfd_getfd of another process", ev(EventType::pidfd_getfd, other), false},
      {"process_vm_readv", ev(EventType::process_vm_readv, me), true},
      {"process_vm_writev", ev(EventType::process_vm_writev, me), true},
      {"open mem", ev(EventType::openat, 0, 0, "/proc/" + mp + "/mem"), true},
      {"open a thread's mem", ev(EventType::openat2, 0, 0, "/proc/" + mp + "/task/" + std::to_string(thread) + "/mem"), true},
      // ps aux opens environ of every process (procps-ng 4); maps is PTRACE_MODE_READ too
      {"open environ (ps aux)", ev(EventType::open, 0, 0, "/proc/" + mp + "/environ"), false},
      {"open maps", ev(EventType::openat, 0, 0, "/proc/" + mp + "/maps"), false},
      {"open status", ev(EventType::openat, 0, 0, "/proc/" + mp + "/status"), false},
      {"open stat", ev(EventType::openat, 0, 0, "/proc/" + mp + "/stat"), false},
      {"open memx", ev(EventType::openat, 0, 0, "/proc/" + mp + "/memx"), false},
      {"open another process's mem", ev(EventType::openat, 0, 0, "/proc/1/mem"), false},
      {"open /proc/self/mem (the caller's own)", ev(EventType::openat, 0, 0, "/proc/self/mem"), false},
      {"a bpf event", ev(EventType::bpf, me), false},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(self.TargetsSelf(r.e) == r.targets);
  }
  // vigil's own calls are never alerted.
  Event own = ev(EventType::ptrace, me, vigil::agent::kPtraceAttach);
  own.proc.pid = me;
  CHECK_FALSE(self.TargetsSelf(own));
  done.set_value();
  t.join();
}

TEST_CASE("TargetAlert: the call, vigil's pid and the caller; one per process and event type in 5 s", "[unit]") {
  SelfProtection self(812);
  Event e;
  e.type = EventType::pidfd_getfd;
  e.proc.pid = e.proc.tid = 4242;
  e.proc.name = "drain";
  e.proc.exepath = "/tmp/drain";
  e.args.target_pid = 812;
  e.args.fd = 3;
  e.args.oldfd = 9;
  e.res = -1;  // EPERM
  const auto t0 = SelfProtection::Clock::now();
  auto a = self.TargetAlert(e, "deny", true, t0);
  REQUIRE(a);
  CHECK(a->rule == "vigil self-protection");
  CHECK(a->priority == vigil::Priority::kCritical);
  CHECK(a->output == "pidfd_getfd of vigil's fd 9 (pid 812) by pid 4242 (drain, /tmp/drain); refused by the kernel");
  CHECK(a->action == "deny");
  CHECK(a->enforcement == "deny");
  CHECK(Field<int64_t>(*a, "evt.arg.pid") == 812);
  CHECK(Field<int64_t>(*a, "evt.arg.targetfd") == 9);
  CHECK(Field<std::string>(*a, "evt.type") == "pidfd_getfd");
  // the same call again within 5 s: held back, then counted into the next
  CHECK_FALSE(self.TargetAlert(e, "", false, t0 + 1s));
  // another event type by the same process is its own alert
  Event p = e;
  p.type = EventType::ptrace;
  p.args.request = vigil::agent::kPtraceSeize;
  auto b = self.TargetAlert(p, "", false, t0 + 1s);
  REQUIRE(b);
  CHECK(b->output == "ptrace(PTRACE_SEIZE) of vigil (pid 812) by pid 4242 (drain, /tmp/drain)");
  CHECK(b->action == "alert");
  CHECK(Field<std::string>(*b, "evt.arg.request") == "PTRACE_SEIZE");
  auto c = self.TargetAlert(e, "", false, t0 + 6s);
  REQUIRE(c);
  CHECK(c->output.find("; 1 more such calls by this process before") != std::string::npos);
  Event o;
  o.type = EventType::openat;
  o.proc.pid = o.proc.tid = 5;
  o.file.path = "mem";
  o.file.abspath = "/proc/812/mem";
  auto d = self.TargetAlert(o, "", false, t0);
  REQUIRE(d);
  CHECK(d->output.rfind("open of /proc/812/mem by pid 5 (", 0) == 0);
  CHECK(Field<std::string>(*d, "fd.name") == "/proc/812/mem");
}
