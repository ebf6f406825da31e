// SPDX-License-Identifier: Apache-2.0
// Issue 21: the engine's optimisations keep its semantics. The recorded host
// stream the engine benchmark reads (bench/data/host-stream.jsonl.gz, made
// with `vigil events -w`, see bench/data/README.md) is run through all of
// Falco's rules plus vigil's default rules, and the alerts (line number and
// rule name, in order) must equal bench/data/host-stream.alerts, which was
// written by this test on the engine before the optimisations.
//
// VIGIL_WRITE_EXPECTED=1 rewrites the expected file instead of comparing (only
// when a ruleset change is meant to change the alerts; say why in the commit).

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/event_json.h"
#include "engine/rule_engine.h"
#include "gz_lines.h"

// Every allocation of this test binary is counted, to check that Match()
// makes none once warm.
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC 12 at -O3 sees std::free() of memory it inlined as coming from the
// standard operator new and warns (-Wmismatched-new-delete); both are these.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Every form that pairs with the ones below is replaced (array and nothrow
// too: Catch allocates with new (std::nothrow)), so nothing the runtime's own
// operator new returned reaches this free(); ASan checks exactly that.
namespace {
void* CountedAlloc(std::size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace
void* operator new(std::size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using vigil::testing::ReadGzLines;

// The recording's lines (bench/data), at least 10,000 of them.
std::vector<std::string> RecordedLines() {
  auto lines = ReadGzLines(std::string(VIGIL_BENCH_DATA_DIR) + "/host-stream.jsonl.gz");
  REQUIRE(lines.size() > 10000);
  return lines;
}

// All of Falco's rules files (stable, incubating, sandbox), and vigil's default rules unless `falco_only`.
std::unique_ptr<vigil::RuleEngine> LoadAllRules(vigil::Diagnostics* diags, bool falco_only = false) {
  const std::string falco = VIGIL_FALCO_RULES_DIR;
  std::vector<std::string> paths = {falco + "/falco_rules.yaml", falco + "/falco-incubating_rules.yaml",
                                    falco + "/falco-sandbox_rules.yaml"};
  if (!falco_only) paths.push_back(VIGIL_RULES_DIR);
  auto eng = vigil::RuleEngine::Load(paths, diags, vigil::HostInfo{});
  REQUIRE(eng != nullptr);
  return eng;
}

// "LINE RULE" per alert, in stream order, then "LINE disabled RULE" for each
// rule loaded disabled whose condition (and not exceptions) holds for the
// line's event: more of the compiled conditions are compared than the few
// that fire on a quiet host. Every line must parse.
std::vector<std::string> Alerts(const vigil::RuleEngine& eng, const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::vector<const vigil::CompiledRule*> fired;
  vigil::Event event;
  vigil::OwnedAncestors ancestors;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto err = vigil::ParseEventJson(lines[i], &event, &ancestors);
    INFO("line " << i + 1 << ": " << err.value_or(""));
    REQUIRE_FALSE(err.has_value());
    eng.Match(event, &fired);
    for (const auto* r : fired) out.push_back(std::to_string(i + 1) + " " + r->name);
    for (const auto& r : eng.rules())
      if (!r->enabled && eng.Matches(*r, event)) out.push_back(std::to_string(i + 1) + " disabled " + r->name);
  }
  return out;
}

}  // namespace

// Match() runs each rule as a program specialised for the event's type with
// shared subtrees evaluated once (engine/compile/program.h); Matches() walks
// the rule's own check tree. They must agree for every rule and event.
TEST_CASE("recorded stream: Match's programs agree with each rule's check tree", "[unit]") {
  const auto lines = RecordedLines();
  vigil::Diagnostics diags;
  auto eng = LoadAllRules(&diags);
  std::vector<const vigil::CompiledRule*> fired;
  vigil::Event event;
  vigil::OwnedAncestors ancestors;
  std::size_t compared = 0, matched = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    REQUIRE_FALSE(vigil::ParseEventJson(lines[i], &event, &ancestors).has_value());
    eng->Match(event, &fired);
    for (const auto& r : eng->rules()) {
      if (!r->enabled || r->correlate) continue;  // a burst rule fires on more than its condition
      const bool in_match = std::find(fired.begin(), fired.end(), r.get()) != fired.end();
      const bool in_tree = eng->Matches(*r, event);
      INFO("line " << i + 1 << ", rule " << r->name);
      REQUIRE(in_match == in_tree);
      ++compared;
      matched += in_tree;
    }
  }
  std::printf("recorded stream: %zu rule/event pairs agree (%zu true)\n", compared, matched);
  CHECK(matched > 0);
}

// Issue 21: Match() skips a rule when the prefilter index says a necessary
// check on a string field (fd.name startswith, proc.name in, fd.directory
// pmatch, a glob's or regex's literal prefix...) cannot hold for the event's
// value, or a check on its ending (endswith, a `*/...` glob's tail, a regex's
// literal endings) or a substring (contains, a glob's literal run) on it
// (engine/compile/program.h). A skipped rule must be one whose tree is
// false. The recording alone rarely reaches the indexed values, so each
// sampled event is also run with fd.name, fd.name.resolved, fs.path.target and proc.name
// replaced by values the rules look for, and every rule's result in Match()
// is compared with its own check tree (which has no index).
TEST_CASE("recorded stream: the prefilter index skips no rule that holds", "[unit]") {
  const auto lines = RecordedLines();
  vigil::Diagnostics diags;
  auto eng = LoadAllRules(&diags);
  REQUIRE(eng->program().guarded_count(vigil::EventType::openat) > 0);
  const char* paths[] = {"/etc/shadow", "/etc/pam.d/sshd", "/etc/sudoers", "/etc/sudoers.d/x", "/root/.ssh/id_rsa",
                         "/home/u/.ssh/authorized_keys", "/root/.bashrc", "/etc/profile.d/x.sh", "/proc/1/mem",
                         "/proc/1/environ", "/proc/self/exe", "/proc/sys/kernel/randomize_va_space", "/dev/mem",
                         "/dev/sda", "/dev/shm/x", "/var/run/docker.sock", "/etc/cron.d/job", "/var/spool/cron/x",
                         "/lib/modules/6.1/x.ko", "/etc/ld.so.preload", "/usr/bin/ls", "/usr/sbin/x", "/bin/sh",
                         "/etc/systemd/system/x.service", "/etc/init.d/x", "/var/log/auth.log", "/tmp/.hidden",
                         "/etc/ssl/certs/x.pem", "/var/lib/rpm/x", "/etc/passwd", "/sys/kernel/uevent_helper",
                         "/host/etc/shadow", "/etc", "/", "", "relative/x",
                         // ends the suffix index looks for (endswith, `*/...` globs, regex endings)
                         "/var/run/secrets/kubernetes.io/serviceaccount/token", "/lib/modules/6.1/x.ko.zst",
                         "/usr/lib/x.ko.gz", "/x.ko", "/sys/fs/cgroup/a/release_agent", "/a/notify_on_release",
                         "/home/u/.zshrc", "/root/.bash_history", "/proc/2/task/3/smaps", "/x/token", "ko",
                         "/home/u/.ssh/authorized_keys2", "/etc/x/.profile",
                         // substrings the needle index looks for (contains, a glob's literal run)
                         "/root/.ssh/authorized_keys.tmp", "/srv/www/../../etc/shadow", "../../../home/u/.ssh/id_rsa",
                         "/tmp/id_rsa.pub", "/var/www/html/../../../root/.ssh/x"};
  const char* names[] = {"bash", "sh", "sshd", "python3", "nc", "tar", "curl", "sudo", "cron", "runc", "docker",
                         "kubectl", "vim", "systemd", "dpkg", "apt", "insmod", "cat", "node"};
  std::vector<const vigil::CompiledRule*> fired;
  vigil::Event event;
  vigil::OwnedAncestors ancestors;
  std::size_t compared = 0, matched = 0;
  auto compare = [&](std::size_t line) {
    eng->Match(event, &fired);
    for (const auto& r : eng->rules()) {
      if (!r->enabled || r->correlate) continue;
      const bool in_match = std::find(fired.begin(), fired.end(), r.get()) != fired.end();
      const bool in_tree = eng->Matches(*r, event);
      if (in_match != in_tree) {
        INFO("line " << line << ", rule " << r->name << ", fd.name " << event.file.abspath << ", proc.name "
                     << event.proc.name);
        REQUIRE(in_match == in_tree);
      }
      ++compared;
      matched += in_tree;
    }
  };
  for (std::size_t i = 0; i < lines.size(); i += 23) {
    REQUIRE_FALSE(vigil::ParseEventJson(lines[i], &event, &ancestors).has_value());
    for (std::size_t k = 0; k < std::size(paths); ++k) {
      event.file.abspath = event.file.path = paths[k];
      event.file.target = event.file.target_abs = paths[(k + i) % std::size(paths)];
      // fd.name.resolved: the kernel's path where there is one, else fd.name's
      event.file.resolved = k % 3 == 0 ? paths[(k + 2 * i) % std::size(paths)] : "";
      event.proc.name = names[(k + i) % std::size(names)];
      compare(i + 1);
    }
  }
  std::printf("prefilter index: %zu rule/event pairs agree (%zu true)\n", compared, matched);
  CHECK(matched > 1000);
}

// Issue 21: the prefilter index files a bound on fd.directory's beginning as
// one on fd.name's and a bound on fd.filename's ending as one on fd.name's
// (engine/compile/program.h). That holds only while fd.directory is a prefix
// of fd.name and fd.filename a suffix of it, for every event where they have a
// value: checked here on the recording and on edge paths, so a change to
// those fields' getters fails this test rather than silently dropping rules.
TEST_CASE("recorded stream: fd.directory begins and fd.filename ends fd.name", "[unit]") {
  const auto lines = RecordedLines();
  const vigil::FieldDef* name = vigil::FindField("fd.name");
  const vigil::FieldDef* dir = vigil::FindField("fd.directory");
  const vigil::FieldDef* file = vigil::FindField("fd.filename");
  REQUIRE((name != nullptr && dir != nullptr && file != nullptr));
  vigil::HostInfo host;
  vigil::Event event;
  vigil::OwnedAncestors ancestors;
  vigil::Scratch s1, s2, s3;
  std::size_t checked = 0;
  auto check = [&](std::size_t line) {
    vigil::FieldContext ctx{&event, &host, 1, nullptr};
    vigil::FieldValueRef n, d, f;
    const bool has_n = name->get(*name, ctx, vigil::FieldArg{}, s1, &n);
    const bool has_d = dir->get(*dir, ctx, vigil::FieldArg{}, s2, &d);
    const bool has_f = file->get(*file, ctx, vigil::FieldArg{}, s3, &f);
    INFO("line " << line << ", fd.name '" << n.str << "', fd.directory '" << d.str << "', fd.filename '" << f.str << "'");
    if (has_d) REQUIRE((has_n && n.str.substr(0, d.str.size()) == d.str));
    if (has_f) REQUIRE((has_n && n.str.size() >= f.str.size() && n.str.substr(n.str.size() - f.str.size()) == f.str));
    checked += has_d || has_f;
  };
  const char* edge[] = {"", "/", "/x", "x", "relative/x", "/etc/", "/etc", "//a//b", "/a/b/", "a/"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    REQUIRE_FALSE(vigil::ParseEventJson(lines[i], &event, &ancestors).has_value());
    check(i + 1);
    if (i % 97 != 0) continue;
    for (const char* p : edge) {
      event.file.abspath = event.file.path = p;
      check(i + 1);
      event.file.abspath = "";  // fd.name from the path as given
      check(i + 1);
    }
  }
  CHECK(checked > lines.size() / 2);
}

// Issue 21: no allocation per event in Match(), including ancestors' command
// lines longer than std::string's 15 inline bytes (proc.acmdline). All of
// Falco's rules, then all Falco + the defaults; the events are
// parsed first, then run twice: the first pass grows the scratch buffers, the
// second must allocate nothing.
TEST_CASE("recorded stream: Match() does not allocate once warm", "[unit]") {
  const auto lines = RecordedLines();
  std::vector<vigil::Event> events(lines.size());
  std::vector<vigil::OwnedAncestors> chains(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    REQUIRE_FALSE(vigil::ParseEventJson(lines[i], &events[i], &chains[i]).has_value());
    if (events[i].ancestors != nullptr) events[i].ancestors = &chains[i];
  }
  vigil::Diagnostics diags;
  std::vector<std::unique_ptr<vigil::RuleEngine>> engines;
  engines.push_back(LoadAllRules(&diags, /*falco_only=*/true));
  // All Falco + the defaults, as the benchmark runs them (its one
  // `correlate:` rule, Discovery Burst, sees on the second pass the keys of
  // the first).
  engines.push_back(LoadAllRules(&diags));
  // Every ancestor's command line (most pass 15 bytes) and the event's argument summary.
  engines.push_back(vigil::RuleEngine::LoadTexts(
      {{"anc.yaml", "- rule: ancestor command lines\n  desc: t\n  condition: evt.type in (openat, execve) and "
                    "(proc.acmdline contains no-such-argument or evt.args contains no-such-argument)\n"
                    "  output: x\n  priority: WARNING\n"}},
      &diags, vigil::HostInfo{}));
  REQUIRE_FALSE(diags.HasErrors());
  for (const auto& eng : engines) {
    REQUIRE(eng != nullptr);
    std::vector<const vigil::CompiledRule*> fired;
    fired.reserve(64);
    for (const auto& e : events) eng->Match(e, &fired);
    const uint64_t before = g_allocations.load();
    std::size_t alerts = 0;
    for (const auto& e : events) {
      eng->Match(e, &fired);
      alerts += fired.size();
    }
    const uint64_t during = g_allocations.load() - before;
    std::printf("recorded stream: %zu rules, second pass of %zu events, %zu alerts, %llu allocations\n",
                eng->rules().size(), events.size(), alerts, static_cast<unsigned long long>(during));
    CHECK(during == 0);
  }
}

TEST_CASE("recorded stream: all Falco + default rules raise the committed alerts", "[unit]") {
  const std::string data = VIGIL_BENCH_DATA_DIR;
  const auto lines = RecordedLines();
  vigil::Diagnostics diags;
  auto eng = LoadAllRules(&diags);
  REQUIRE_FALSE(diags.HasErrors());
  const auto got = Alerts(*eng, lines);
  const std::string expected_path = data + "/host-stream.alerts";
  if (std::getenv("VIGIL_WRITE_EXPECTED") != nullptr) {
    std::ofstream out(expected_path);
    for (const auto& a : got) out << a << "\n";
    WARN("wrote " << got.size() << " alerts to " << expected_path);
    return;
  }
  std::ifstream in(expected_path);
  REQUIRE(in.good());
  std::vector<std::string> want;
  for (std::string l; std::getline(in, l);) want.push_back(l);
  std::printf("recorded stream: %zu events, %zu alerts (expected %zu)\n", lines.size(), got.size(), want.size());
  REQUIRE(want.size() > 3);  // the stream exercises rules, not only their absence
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    INFO("alert " << i);
    REQUIRE(got[i] == want[i]);
  }
  CHECK(got.size() == want.size());
}

// Issue 22: the JSON writer and reader follow the member table
// (engine/event_members.h); the recorded lines, written by the hand-written
// writer before it, must read back and be written again byte for byte.
TEST_CASE("recorded stream: every line is written again byte for byte", "[unit]") {
  auto lines = RecordedLines();
  vigil::Event e;
  vigil::OwnedAncestors chain;
  std::size_t same = 0;
  for (const auto& line : lines) {
    auto err = vigil::ParseEventJson(line, &e, &chain);
    INFO(line);
    REQUIRE_FALSE(err.has_value());
    std::string again;
    vigil::AppendEventJson(e, &again);
    REQUIRE(again == line);
    ++same;
  }
  CHECK(same == lines.size());
}
