// SPDX-License-Identifier: Apache-2.0
// Shared by the capture integration tests: one real Sensor (the BPF object
// loaded and attached on this kernel, as root) per test binary, and a way to
// wait for the event a test caused.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "bpf/sensor.h"
#include "engine/event.h"
#include "engine/rule_engine.h"
#include "tests/support/temp_dir.h"

namespace vigil::capture::testing {

// Options for a sensor under test: the BPF build is VIGIL_TEST_BPF_BUILD
// (auto, typed, compat; CTest runs the capture tests once per build the host
// can load), else auto.
inline SensorOptions TestSensorOptions() {
  SensorOptions o;
  o.ringbuf_bytes = 16u << 20;
  // The 32-bit syscall programs load even where the kernel refuses 32-bit
  // calls (auto would leave them off there), so this kernel's verifier checks
  // them in every build.
  o.ia32_programs = Ia32Programs::kOn;
  if (const char* b = std::getenv("VIGIL_TEST_BPF_BUILD")) {
    if (!ParseBpfBuild(b, &o.build)) FAIL("VIGIL_TEST_BPF_BUILD=" << b << ": expected auto, typed, compat or legacy");
  }
  return o;
}

// The sensor, opened on first use; fails the test (not the binary) when it
// cannot be opened, with the loader's message.
inline Sensor& TheSensor() {
  static std::string error;
  static std::unique_ptr<Sensor> sensor = [] { return Sensor::Open(TestSensorOptions(), &error); }();
  if (!sensor) FAIL("sensor could not be opened: " << error);
  return *sensor;
}

// Each test's scratch directory, /tmp/vigil-cap-XXXXXX unless named.
struct TempDir : vigil::testing::TempDirOf<> {
  explicit TempDir(const std::string& name = "cap") : TempDirOf(name) {}
};

// A copy of an event (the sensor reuses its Event; ancestors are dropped).
struct Seen {
  Event event;
  uint32_t parent_pid = 0;
  std::string parent_name;
};

// Every event polled and not yet claimed by a WaitFor (bounded: the oldest go).
inline std::deque<Seen>& Backlog() {
  static std::deque<Seen> backlog;
  return backlog;
}

// How many entries the cap has dropped from the front of the backlog so far
// (WaitFor shifts its scan position by what a poll popped).
inline std::size_t& BacklogPops() {
  static std::size_t pops = 0;
  return pops;
}

inline constexpr std::size_t kBacklogCap = 50000;

inline void PollInto(int timeout_ms) {
  Sensor::Callback cb = [](const Event& e) {
    auto& b = Backlog();
    if (b.size() >= kBacklogCap) {
      b.pop_front();
      ++BacklogPops();
    }
    Seen& s = b.emplace_back();
    s.event = e;
    s.event.ancestors = nullptr;
    if (e.ancestors) {
      if (const ProcessInfo* p = e.ancestors->Ancestor(1)) {
        s.parent_pid = p->pid;
        s.parent_name = p->name;
      }
    }
  };
  TheSensor().Poll(timeout_ms, cb);
}

// The first polled event `match` accepts (removed from the backlog), waiting
// up to `timeout` for it.
inline std::optional<Seen> WaitFor(const std::function<bool(const Event&)>& match,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t scanned = 0;
  for (;;) {
    auto& b = Backlog();
    for (; scanned < b.size(); ++scanned) {
      if (match(b[scanned].event)) {
        Seen s = std::move(b[scanned]);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(scanned));
        return s;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Once the backlog is at its cap, every new entry pops one from the front:
    // its size stays the same while the entries already scanned move down by
    // the number popped, so the scan position moves with them (an unscanned
    // entry is never skipped and a scanned one is not rescanned).
    std::size_t pops_before = BacklogPops();
    PollInto(50);
    std::size_t popped = BacklogPops() - pops_before;
    scanned = popped >= scanned ? 0 : scanned - popped;
  }
}

// Runs `body` in a forked child, which exits with what body returns; waits
// and returns the child's pid and wait status.
inline std::pair<pid_t, int> InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return {pid, status};
}

// Drains what is queued so earlier tests' events do not match later waits.
inline void Drain() {
  Sensor::Callback cb = [](const Event&) {};
  while (TheSensor().Poll(0, cb) > 0) {
  }
  Backlog().clear();
}

// The fields of a captured event as a rule sees them: a rule with `condition`
// and `output` loaded into a real engine; the rendered output when it matches
// the event, "" when it does not.
inline std::string RuleOutput(const Event& event, const std::string& condition, const std::string& output) {
  Diagnostics diags;
  auto eng = RuleEngine::LoadTexts(
      {{"t.yaml", "- rule: t\n  desc: d\n  condition: " + condition + "\n  output: \"" + output +
                      "\"\n  priority: WARNING\n"}},
      &diags);
  INFO(diags.ToString());
  REQUIRE(eng != nullptr);
  std::vector<const CompiledRule*> fired;
  eng->Match(event, &fired);
  if (fired.empty()) return "";
  return eng->MakeAlert(*fired[0], event).output;
}

}  // namespace vigil::capture::testing
