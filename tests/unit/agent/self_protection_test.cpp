// SPDX-License-Identifier: Apache-2.0
// SelfProtection's alert on another process's access to vigil's BPF objects by
// id: its text, action and enforcement, and the per-(process, command) limit
// that keeps `bpftool prog show` (one GET_FD_BY_ID per program) to one alert.
// ForeignAccess() and the integrity check need vigil's loaded objects: the
// root test agent_self_protect_test covers them.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

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
