// SPDX-License-Identifier: Apache-2.0
// Engine alone: events/s on one core for each ruleset (Falco stable; all of
// Falco's rules: stable, incubating, sandbox; vigil's default rules; all
// Falco + defaults), over recorded or built-in events, against an empty
// ruleset measured in the same run. Prints figures; asserts nothing. Rates
// are per second of the benchmark thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
// so other processes on a loaded host slow the run but do not lower them.
//
// Usage: engine_bench [SECONDS_PER_RUN] [EVENTS_FILE]   (seconds of CPU time)
//   EVENTS_FILE: JSON lines from `vigil events -w`, plain or gzip-compressed
//   (bench/data/host-stream.jsonl.gz is a committed recording); default: a
//   built-in mix.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <zlib.h>

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

// gzread reads a plain file as it is, so one reader serves both.
bool ReadLine(gzFile f, std::string* line) {
  line->clear();
  char buf[8192];
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    line->append(buf);
    if (!line->empty() && line->back() == '\n') {
      line->pop_back();
      return true;
    }
  }
  return !line->empty();
}

Recorded FromFile(const char* path) {
  Recorded r;
  gzFile in = gzopen(path, "rb");
  if (in == nullptr) return r;
  std::string line;
  std::size_t lineno = 0, bad = 0;
  while (ReadLine(in, &line)) {
    ++lineno;
    if (line.empty()) continue;
    auto chain = std::make_unique<vigil::OwnedAncestors>();
    vigil::Event e;
    if (auto err = vigil::ParseEventJson(line, &e, chain.get())) {
      if (bad++ < 5) std::fprintf(stderr, "%s:%zu: %s\n", path, lineno, err->c_str());
      continue;
    }
    if (e.ancestors) e.ancestors = chain.get();
    r.events.push_back(std::move(e));
    r.chains.push_back(std::move(chain));
  }
  gzclose(in);
  if (bad) std::fprintf(stderr, "%s: %zu lines not parsed (skipped)\n", path, bad);
  return r;
}

struct Result {
  double events_per_s;
  uint64_t fired;
};

// This thread's CPU time: on a shared host another process's time slices
// would count against the engine in wall-clock time.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Result Run(const vigil::RuleEngine& eng, const Recorded& rec, double seconds) {
  std::vector<const vigil::CompiledRule*> fired;
  fired.reserve(64);
  uint64_t n = 0, alerts = 0;
  const double start = ThreadCpuSeconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (const auto& e : rec.events) {
      eng.Match(e, &fired);
      alerts += fired.size();
    }
    n += rec.events.size();
    elapsed = ThreadCpuSeconds() - start;
  }
  return {static_cast<double>(n) / elapsed, alerts};
}

struct Set {
  const char* name;
  std::vector<std::string> paths;
  std::unique_ptr<vigil::RuleEngine> engine;
};

// The rulesets, smallest first; ENGINE_BENCH_SIGMA adds Sigma rule
// directories (':'-separated) as a fifth.
std::vector<Set> Rulesets() {
  const std::string stable = VIGIL_FALCO_RULES_DIR "/falco_rules.yaml";
  const std::vector<std::string> all_falco = {stable, VIGIL_FALCO_RULES_DIR "/falco-incubating_rules.yaml",
                                              VIGIL_FALCO_RULES_DIR "/falco-sandbox_rules.yaml"};
  std::vector<std::string> everything = all_falco;
  everything.push_back(VIGIL_DEFAULT_RULES_DIR);
  std::vector<Set> sets;
  sets.push_back({"falco stable", {stable}, nullptr});
  sets.push_back({"falco all (stable+incub.+sandbox)", all_falco, nullptr});
  sets.push_back({"vigil defaults", {VIGIL_DEFAULT_RULES_DIR}, nullptr});
  sets.push_back({"falco all + vigil defaults", everything, nullptr});
  if (const char* sigma = std::getenv("ENGINE_BENCH_SIGMA")) {
    Set s{"falco all + defaults + sigma", everything, nullptr};
    std::string list = sigma;
    for (std::size_t at = 0; at <= list.size();) {
      std::size_t colon = std::min(list.find(':', at), list.size());
      if (colon > at) s.paths.push_back(list.substr(at, colon - at));
      at = colon + 1;
    }
    sets.push_back(std::move(s));
  }
  return sets;
}

void LoadSets(std::vector<Set>& sets, const vigil::HostInfo& host) {
  for (auto& s : sets) {
    vigil::Diagnostics d;
    s.engine = vigil::RuleEngine::Load(s.paths, &d, host);
    const auto& prog = s.engine->program();
    std::printf("ruleset %-36s %4zu rules enabled (%zu load errors); program: %zu nodes, %zu shared; "
                "rules run per openat %zu (%zu indexed), per execve %zu (%zu indexed)\n",
                s.name, s.engine->stats().rules_enabled, d.ErrorCount(), prog.node_count(), prog.shared_count(),
                prog.entries(vigil::EventType::openat).size(), prog.guarded_count(vigil::EventType::openat),
                prog.entries(vigil::EventType::execve).size(), prog.guarded_count(vigil::EventType::execve));
  }
}

// ENGINE_BENCH_UNINDEXED: the openat/execve rules the prefilter index cannot
// skip, and how often each rule is run (a candidate after the index).
void PrintUnindexed(const vigil::RuleEngine& largest, const Recorded& rec, const vigil::HostInfo& host) {
  for (auto type : {vigil::EventType::openat, vigil::EventType::execve})
    for (const auto& e : largest.program().entries(type))
      if (e.slot == vigil::compile::Program::kUnguarded)
        std::printf("unindexed %s: %s\n", type == vigil::EventType::openat ? "openat" : "execve",
                    static_cast<const vigil::CompiledRule*>(e.rule)->name.c_str());
  for (const auto& line : largest.program().DescribeIndex(vigil::EventType::openat))
    std::printf("openat index: %s\n", line.c_str());
  std::map<std::string, uint64_t> runs;
  uint64_t total = 0, num = 0;
  for (const auto& e : rec.events) {
    vigil::FieldContext ctx{&e, &host, ++num, nullptr};
    largest.program().ForEachCandidate(e.type, ctx, [&](const vigil::compile::Program::Entry& en) {
      ++runs[static_cast<const vigil::CompiledRule*>(en.rule)->name];
      ++total;
    });
  }
  const double events = static_cast<double>(rec.events.size());
  std::printf("rules run per event after the index: %.2f\n", static_cast<double>(total) / events);
  for (const auto& [name, n] : runs)
    if (n * 20 >= rec.events.size())
      std::printf("  %5.1f%% of events run %s\n", 100.0 * static_cast<double>(n) / events, name.c_str());
}

// ENGINE_BENCH_PER_RULE: ns per event for each rule, to find the costly ones.
void PrintPerRule(const vigil::RuleEngine& largest, const Recorded& rec) {
  for (const auto& r : largest.rules()) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t hits = 0;
    for (int k = 0; k < 20; ++k)
      for (const auto& e : rec.events) hits += largest.Matches(*r, e);
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                (20.0 * static_cast<double>(rec.events.size()));
    std::printf("%8.1f ns/event  %s\n", ns, r->name.c_str());
  }
}

// Each ruleset's rate beside an empty ruleset's, measured in the same run.
void PrintRates(const std::vector<Set>& sets, const Recorded& rec, const vigil::HostInfo& host, double seconds) {
  vigil::Diagnostics d0;
  auto empty = vigil::RuleEngine::LoadTexts({}, &d0, host);
  Result base = Run(*empty, rec, seconds);
  std::printf("%-36s %14s %10s %14s\n", "ruleset", "events/s", "vs empty", "alerts/event");
  auto line = [&](const char* name, const Result& r) {
    std::printf("%-36s %14.0f %9.3fx %14.4f\n", name, r.events_per_s, r.events_per_s / base.events_per_s,
                static_cast<double>(r.fired) / (r.events_per_s * seconds));
  };
  line("empty (baseline)", base);
  for (const auto& s : sets) {
    Run(*s.engine, rec, 0.2);  // warm the scratch buffers and caches
    line(s.name, Run(*s.engine, rec, seconds));
  }
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
  std::vector<Set> sets = Rulesets();
  std::printf("engine_bench: %zu recorded events (%s), %.1f s per run, 1 thread\n", rec.events.size(),
              argc > 2 ? argv[2] : "built-in 20% exec / 60% openat / 20% connect", seconds);
  const char* profile = std::getenv("ENGINE_BENCH_PROFILE");  // one ruleset only (index into sets), for perf
  if (profile) {  // load that ruleset only (faster under valgrind)
    Set s = std::move(sets[std::min<std::size_t>(std::strtoul(profile, nullptr, 10), sets.size() - 1)]);
    sets.clear();
    sets.push_back(std::move(s));
  }
  LoadSets(sets, host);
  const vigil::RuleEngine& largest = *sets.back().engine;
  if (std::getenv("ENGINE_BENCH_UNINDEXED")) PrintUnindexed(largest, rec, host);
  if (std::getenv("ENGINE_BENCH_PER_RULE")) {
    PrintPerRule(largest, rec);
    return 0;
  }
  if (profile) {
    auto r = Run(*sets.front().engine, rec, seconds);
    std::printf("%s: %.0f events/s\n", sets.front().name, r.events_per_s);
    return 0;
  }
  PrintRates(sets, rec, host, seconds);
  return 0;
}
