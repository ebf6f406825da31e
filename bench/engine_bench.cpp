// SPDX-License-Identifier: Apache-2.0
// Engine alone: events/s on one core with Falco's stable rules plus vigil's
// default rules, over a mix of exec/open/connect events, against an empty
// ruleset measured in the same run. Prints figures; asserts nothing.
//
// Usage: engine_bench [SECONDS_PER_RUN] [EVENTS_FILE]
//   EVENTS_FILE: JSON lines from `vigil events -w` (default: a built-in mix).
#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "engine/event_json.h"
#include "engine/rule_engine.h"

namespace {

struct Recorded {
  std::vector<vigil::Event> events;
  std::vector<std::unique_ptr<vigil::OwnedAncestors>> chains;
};

vigil::ProcessInfo Proc(uint32_t pid, const char* name, const char* exe, std::vector<std::string> argv) {
  vigil::ProcessInfo p;
  p.pid = p.tid = pid;
  p.ppid = pid > 1 ? pid - 1 : 0;
  p.name = name;
  p.exepath = exe;
  p.argv = std::move(argv);
  p.cwd = "/home/user";
  p.uid = pid % 3 == 0 ? 0 : 1000;
  p.loginuid = 1000;
  p.container_id = pid % 4 == 0 ? "0123456789ab" : "";
  return p;
}

// A mix like a busy host: 20% exec, 60% opens, 20% connects, varied names.
Recorded BuiltinMix() {
  Recorded r;
  const char* procs[][2] = {{"bash", "/usr/bin/bash"}, {"python3", "/usr/bin/python3.11"}, {"nginx", "/usr/sbin/nginx"},
                            {"sshd", "/usr/sbin/sshd"}, {"curl", "/usr/bin/curl"}, {"node", "/usr/bin/node"},
                            {"java", "/usr/lib/jvm/bin/java"}, {"cron", "/usr/sbin/cron"}};
  const char* files[] = {"/etc/passwd", "/etc/shadow", "/var/log/nginx/access.log", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                         "/proc/self/status", "/tmp/build/obj.o", "/home/user/.bashrc", "/etc/ld.so.cache",
                         "/dev/null", "/root/.ssh/authorized_keys"};
  for (int i = 0; i < 4096; ++i) {
    auto chain = std::make_unique<vigil::OwnedAncestors>();
    auto [pname, pexe] = std::pair{procs[(i + 3) % 8][0], procs[(i + 3) % 8][1]};
    chain->chain = {Proc(1000 + i, pname, pexe, {pname}), Proc(999, "systemd", "/usr/lib/systemd/systemd", {"systemd"})};
    vigil::Event e;
    auto [name, exe] = std::pair{procs[i % 8][0], procs[i % 8][1]};
    e.proc = Proc(2000 + i, name, exe, {name, "-c", "run --flag value"});
    e.wall_ns = 1795000000000000000ull + static_cast<uint64_t>(i) * 1000;
    e.ts_ns = 1000000000ull + static_cast<uint64_t>(i) * 1000;
    int kind = i % 10;
    if (kind < 2) {
      e.type = vigil::EventType::execve;
    } else if (kind < 8) {
      e.type = vigil::EventType::openat;
      e.file.abspath = files[i % 10];
      e.file.path = e.file.abspath;
      e.file.flags = i % 3 == 0 ? 01101 : 0;  // O_WRONLY|O_CREAT|O_TRUNC or O_RDONLY
      e.file.fd = 3;
      e.res = 3;
    } else {
      e.type = vigil::EventType::connect;
      e.net.family = 2;
      e.net.type = 1;
      e.net.protocol = 6;
      e.net.remote_addr.bytes = {static_cast<uint8_t>(i % 2 ? 10 : 93), 1, 2, static_cast<uint8_t>(i)};
      e.net.remote_port = static_cast<uint16_t>(i % 3 ? 443 : 3333);
      e.net.local_port = 40000;
      e.net.fd = 5;
    }
    e.ancestors = chain.get();
    r.events.push_back(std::move(e));
    r.chains.push_back(std::move(chain));
  }
  return r;
}

Recorded FromFile(const char* path) {
  Recorded r;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto chain = std::make_unique<vigil::OwnedAncestors>();
    vigil::Event e;
    if (vigil::ParseEventJson(line, &e, chain.get())) continue;
    if (e.ancestors) e.ancestors = chain.get();
    r.events.push_back(std::move(e));
    r.chains.push_back(std::move(chain));
  }
  return r;
}

struct Result {
  double events_per_s;
  uint64_t fired;
};

Result Run(const vigil::RuleEngine& eng, const Recorded& rec, double seconds) {
  std::vector<const vigil::CompiledRule*> fired;
  fired.reserve(64);
  uint64_t n = 0, alerts = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (const auto& e : rec.events) {
      eng.Match(e, &fired);
      alerts += fired.size();
    }
    n += rec.events.size();
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return {static_cast<double>(n) / elapsed, alerts};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  Recorded rec = argc > 2 ? FromFile(argv[2]) : BuiltinMix();
  if (rec.events.empty()) {
    std::fprintf(stderr, "no events\n");
    return 1;
  }
  vigil::HostInfo host = vigil::HostInfo::FromSystem();
  vigil::Diagnostics d0, d1, d2;
  auto empty = vigil::RuleEngine::LoadTexts({}, &d0, host);
  auto falco = vigil::RuleEngine::Load({VIGIL_FALCO_STABLE_RULES}, &d1, host);
  auto both = vigil::RuleEngine::Load({VIGIL_FALCO_STABLE_RULES, VIGIL_DEFAULT_RULES_DIR}, &d2, host);
  std::printf("engine_bench: %zu recorded events (%s), %.1f s per run, 1 thread\n", rec.events.size(),
              argc > 2 ? argv[2] : "built-in 20% exec / 60% openat / 20% connect", seconds);
  std::printf("rulesets: falco stable %zu rules (%zu errors); + vigil defaults %zu rules (%zu errors)\n",
              falco->stats().rules_enabled, d1.ErrorCount(), both->stats().rules_enabled, d2.ErrorCount());
  // ENGINE_BENCH_SIGMA: + Sigma rule directories (':'-separated), a fourth ruleset.
  std::unique_ptr<vigil::RuleEngine> with_sigma;
  if (const char* sigma = std::getenv("ENGINE_BENCH_SIGMA")) {
    std::vector<std::string> paths = {VIGIL_FALCO_STABLE_RULES, VIGIL_DEFAULT_RULES_DIR};
    std::string list = sigma;
    for (std::size_t at = 0; at <= list.size();) {
      std::size_t colon = std::min(list.find(':', at), list.size());
      if (colon > at) paths.push_back(list.substr(at, colon - at));
      at = colon + 1;
    }
    vigil::Diagnostics d3;
    with_sigma = vigil::RuleEngine::Load(paths, &d3, host);
    std::printf("+ sigma: %zu rules enabled in all (%zu errors)\n", with_sigma->stats().rules_enabled,
                d3.ErrorCount());
  }
  const vigil::RuleEngine& largest = with_sigma ? *with_sigma : *both;
  if (std::getenv("ENGINE_BENCH_PER_RULE")) {  // ns per event for each rule, to find the costly ones
    for (const auto& r : largest.rules()) {
      auto t0 = std::chrono::steady_clock::now();
      uint64_t hits = 0;
      for (int k = 0; k < 20; ++k)
        for (const auto& e : rec.events) hits += largest.Matches(*r, e);
      double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                  (20.0 * static_cast<double>(rec.events.size()));
      std::printf("%8.1f ns/event  %s\n", ns, r->name.c_str());
    }
    return 0;
  }
  if (const char* only = std::getenv("ENGINE_BENCH_PROFILE")) {  // one ruleset only, for perf record
    auto r = Run(std::string(only) == "falco" ? *falco : *both, rec, seconds);
    std::printf("%s: %.0f events/s\n", only, r.events_per_s);
    return 0;
  }
  Run(*both, rec, 0.2);  // warm the scratch buffers and caches
  Result base = Run(*empty, rec, seconds);
  Result f = Run(*falco, rec, seconds);
  Result b = Run(*both, rec, seconds);
  std::printf("%-32s %14s %10s %14s\n", "ruleset", "events/s", "vs empty", "alerts/event");
  auto line = [&](const char* name, const Result& r, double events) {
    std::printf("%-32s %14.0f %9.3fx %14.4f\n", name, r.events_per_s, r.events_per_s / base.events_per_s,
                static_cast<double>(r.fired) / events);
  };
  line("empty (baseline)", base, base.events_per_s * seconds);
  line("falco stable", f, f.events_per_s * seconds);
  line("falco stable + vigil defaults", b, b.events_per_s * seconds);
  if (with_sigma) {
    Run(*with_sigma, rec, 0.2);
    Result sg = Run(*with_sigma, rec, seconds);
    line("falco stable + defaults + sigma", sg, sg.events_per_s * seconds);
  }
  return 0;
}
