// SPDX-License-Identifier: Apache-2.0
// Issue 21: leaving out the events the interest filter drops never changes
// which alerts fire. A stream is built from every inline test case of the
// default rules (each case's process with its ancestors exec'd, forked, a
// burst of events of other types from it, the case's event, its exit); it is
// run through a process table and each ruleset (default, Falco stable,
// incubating, sandbox) once whole and once without the event types
// DeriveInterest leaves in the kernel. The alerts, by stream position and
// rule, must be the same.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/interest.h"
#include "engine/rule_tests.h"
#include "engine/state/process_table.h"
#include "engine_test_util.h"

namespace {

using vigil::Event;
using vigil::EventType;

Event Exec(const vigil::ProcessInfo& p, uint64_t ts) {
  Event e;
  e.type = EventType::execve;
  e.proc = p;
  e.ts_ns = ts;
  return e;
}

std::vector<Event> BuildStream(const vigil::RuleEngine& eng) {
  // Other types from the same process; setuid changes its uid (a state type).
  const EventType noise[] = {EventType::openat, EventType::open,  EventType::connect,      EventType::chmod,
                             EventType::setuid, EventType::bind,  EventType::memfd_create, EventType::mkdir,
                             EventType::accept, EventType::dup2,  EventType::chown,        EventType::unlinkat,
                             EventType::ptrace, EventType::socket, EventType::setsockopt, EventType::umount2};
  std::vector<Event> out;
  uint32_t base = 10000;
  uint64_t ts = 1'000'000'000;
  for (const auto& r : eng.rules()) {
    for (const auto& tc : r->tests) {
      Event e;
      vigil::OwnedAncestors anc;
      if (!vigil::BuildTestEvent(*r, tc, eng.host(), &e, &anc).empty()) continue;
      e.ancestors = nullptr;
      // Ancestors from the top down: each exec'd with its parent above it.
      const std::size_t n = anc.chain.size();
      for (std::size_t k = n; k-- > 0;) {
        vigil::ProcessInfo p = anc.chain[k];
        p.pid = p.tid = base + static_cast<uint32_t>(k) + 1;
        p.ppid = k + 1 == n ? 1 : base + static_cast<uint32_t>(k) + 2;
        out.push_back(Exec(p, ts += 1000));
      }
      const uint32_t parent = n > 0 ? base + 1 : 1;
      Event fork;
      fork.type = EventType::clone;
      fork.proc = n > 0 ? anc.chain[0] : e.proc;
      fork.proc.pid = fork.proc.tid = parent;
      fork.proc.ppid = n > 1 ? base + 2 : 1;
      fork.res = base;
      fork.args.target_pid = static_cast<int32_t>(base);
      fork.ts_ns = ts += 1000;
      out.push_back(fork);
      e.proc.pid = e.proc.tid = base;
      e.proc.ppid = parent;
      for (EventType t : noise) {
        Event x = e;
        x.type = t;
        x.ts_ns = ts += 1000;
        if (t == EventType::setuid) x.proc.uid = x.proc.euid = 4242;
        out.push_back(x);
      }
      e.ts_ns = ts += 1000;
      out.push_back(e);
      Event exit;
      exit.type = EventType::procexit;
      exit.proc = e.proc;
      exit.ts_ns = ts += 1000;
      out.push_back(exit);
      base += 100;
    }
  }
  return out;
}

using Alerts = std::vector<std::pair<std::size_t, std::string>>;

Alerts Run(const vigil::RuleEngine& eng, const std::vector<Event>& stream, const vigil::compile::EventTypeSet* keep,
           std::size_t* delivered, std::size_t* tree_mismatches) {
  vigil::ProcessTable table(4096);
  eng.ResetCorrelation();  // each run starts with no burst counted (rules with correlate:)
  std::vector<const vigil::CompiledRule*> fired;
  Alerts alerts;
  *delivered = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (keep != nullptr && !keep->test(static_cast<std::size_t>(stream[i].type))) continue;
    ++*delivered;
    Event ev = stream[i];
    table.Apply(ev);
    eng.Match(ev, &fired);
    for (const auto* r : fired) alerts.emplace_back(i, r->name);
    // Match runs per-type programs (engine/compile/program.h); each rule's
    // own check tree must say the same (rules with correlate: fire on bursts).
    for (const auto& r : eng.rules()) {
      if (!r->enabled || r->correlate) continue;
      const bool in_match = std::find(fired.begin(), fired.end(), r.get()) != fired.end();
      *tree_mismatches += in_match != eng.Matches(*r, ev);
    }
  }
  return alerts;
}

}  // namespace

TEST_CASE("interest: filtered and unfiltered streams fire the same alerts", "[unit]") {
  vigil::Diagnostics ddiags;
  auto defaults = vigil::RuleEngine::Load({VIGIL_RULES_DIR}, &ddiags, vigil::HostInfo{});
  REQUIRE(defaults != nullptr);
  const std::vector<Event> stream = BuildStream(*defaults);
  REQUIRE(stream.size() > 1000);
  const std::vector<std::string> sets = vigil::testing::DefaultAndFalcoRuleSets();
  for (const auto& path : sets) {
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load({path}, &diags, vigil::HostInfo{});
    INFO(path);
    REQUIRE(eng != nullptr);
    const vigil::Interest in = vigil::DeriveInterest(*eng);
    std::size_t all = 0, kept = 0, mismatches = 0;
    const Alerts full = Run(*eng, stream, nullptr, &all, &mismatches);
    const Alerts filtered = Run(*eng, stream, &in.types, &kept, &mismatches);
    CHECK(mismatches == 0);
    std::printf("interest replay: %s: %zu of %zu events kept, %zu alerts unfiltered, %zu filtered\n", path.c_str(),
                kept, all, full.size(), filtered.size());
    CHECK(kept < all);  // the filter leaves something out of this stream
    CHECK_FALSE(full.empty());
    CHECK(full == filtered);
  }
}
