// SPDX-License-Identifier: Apache-2.0
// Issue 21 (kernel part): the open path filter (engine/interest.h,
// bpf/file.bpf.h vg_open_path_passes) never changes which alerts fire.
//
// OpenPathPasses() is the C++ statement of what the BPF code decides; the
// root test (tests/integration/agent/open_filter_test.cpp) checks that the
// kernel drops and sends as it says. Here every ruleset (vigil's defaults and
// each Falco rules file, then all of them) is run over the recorded host
// stream (bench/data/host-stream.jsonl.gz) twice: whole, and without the opens
// OpenPathPasses() rejects. The alerts (line and rule, in order) must be the
// same. The recording's opens rarely name watched files, so each of its open
// events is also replayed with given paths the rules look for, written plainly
// and in forms the kernel cannot judge (`..`, `.`, `//`, relative), with
// fd.name made from the given path as the decoder makes it, and opened
// through a symlink no rule names (fd.name.resolved the watched path where
// the open succeeded), which only the resolved test lets through.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "bpf/decoder.h"
#include "engine/event_json.h"
#include "engine/interest.h"
#include "engine/rule_engine.h"
#include "gz_lines.h"

namespace {

using vigil::OpenClass;
using vigil::OpenPathFilter;
using vigil::OpenPathFilters;

TEST_CASE("open path filter: which given paths the kernel may judge", "[unit]") {
  const struct {
    const char* path;
    bool checkable;
  } cases[] = {
      {"/etc/shadow", true},      {"/", true},                 {"/etc/", true},
      {"/a/.hidden", false},      {"/a/..b", false},           {"/a/b..", true},
      {"/a/.../b", false},        {"/a/b.c/d", true},         {"", false},                 {"etc/shadow", false},
      {"./x", false},             {"/etc//shadow", false},     {"//etc", false},
      {"/etc/./shadow", false},   {"/etc/.", false},           {"/etc/..", false},
      {"/tmp/../etc/x", false},   {"/.", false},               {"/..", false},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    CHECK(vigil::OpenPathKernelCheckable(c.path) == c.checkable);
  }
  const std::string longest = "/" + std::string(vigil::kOpenPathWindow - 1, 'a');
  CHECK(vigil::OpenPathKernelCheckable(longest));
  CHECK_FALSE(vigil::OpenPathKernelCheckable(longest + "a"));

  OpenPathFilter f;
  f.active = true;
  f.prefixes = {"/etc/", "/root/.ssh"};
  const struct {
    const char* path;
    bool passes;
  } decide[] = {
      {"/etc/shadow", true},        {"/etc", false},       {"/root/.ssh/id_rsa", true}, {"/root/.sshx", true},
      {"/tmp/x", false},            {"/tmp/../etc/x", true}, {"tmp/x", true},            {"/tmp//x", true},
  };
  for (const auto& c : decide) {
    INFO(c.path);
    CHECK(vigil::OpenPathPasses(f, c.path) == c.passes);
  }
  f.active = false;
  CHECK(vigil::OpenPathPasses(f, "/tmp/x"));
}

std::unique_ptr<vigil::RuleEngine> Load(const std::string& yaml) {
  vigil::Diagnostics diags;
  auto eng = vigil::RuleEngine::LoadTexts({{"test.yaml", yaml}}, &diags, vigil::HostInfo{});
  INFO(diags.ToString());
  REQUIRE(eng != nullptr);
  return eng;
}

TEST_CASE("open path filter: derived from the rules' fd.name bounds", "[unit]") {
  SECTION("prefixes of every open rule, the shortest of a chain, plus extras") {
    auto eng = Load(R"(
- rule: a
  desc: d
  condition: evt.type in (open, openat) and fd.name startswith /etc/ and proc.name = cat
  output: o
  priority: WARNING
- rule: b
  desc: d
  condition: evt.type = openat and (fd.name in (/etc/shadow, /root/.ssh/id_rsa) or fd.directory = /var/spool/cron)
  output: o
  priority: WARNING
- rule: c
  desc: d
  condition: evt.type = execve and proc.name = nc
  output: o
  priority: WARNING
)");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng, {"/proc/"});
    for (const OpenPathFilter& f : fs.cls) {
      CHECK(f.active);
      CHECK(f.bounded_rules == 2);
      CHECK(f.prefixes == std::vector<std::string>{"/etc/", "/proc/", "/root/.ssh/id_rsa", "/var/spool/cron"});
    }
  }
  SECTION("a rule on an open type with no fd.name bound turns the filter off") {
    auto eng = Load(R"(
- rule: a
  desc: d
  condition: evt.type = openat and fd.name startswith /etc/
  output: o
  priority: WARNING
- rule: needs everything
  desc: d
  condition: evt.type = openat and fd.name contains shadow
  output: o
  priority: WARNING
)");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
    for (const OpenPathFilter& f : fs.cls) {
      CHECK_FALSE(f.active);
      CHECK(f.unbounded_rule == "needs everything");
    }
  }
  SECTION("a transformer or a field the kernel does not know is no bound") {
    for (const char* cond : {"evt.type = openat and tolower(fd.name) startswith /etc/",
                             "evt.type = openat and tolower(fd.name.resolved) startswith /etc/",
                             "evt.type = openat and proc.name = cat", "fd.name startswith /etc/ or proc.name = cat"}) {
      INFO(cond);
      auto eng = Load(std::string("- rule: r\n  desc: d\n  condition: ") + cond + "\n  output: o\n  priority: WARNING\n");
      CHECK_FALSE(vigil::DeriveOpenPathFilters(*eng).active());
    }
  }
  SECTION("a rule on an fd-based call whose check reads fd.name turns the filter off: its fd.name comes from the open") {
    // fchmod's fd.name is the name the descriptor table learned from the
    // open (docs/state.md "Descriptors"); dropping opens would change it.
    auto eng = Load(R"(
- rule: a
  desc: d
  condition: evt.type = openat and fd.name startswith /etc/
  output: o
  priority: WARNING
- rule: on fchmod
  desc: d
  condition: evt.type = fchmod and fd.name startswith /tmp/
  output: o
  priority: WARNING
)");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
    for (const OpenPathFilter& f : fs.cls) {
      CHECK_FALSE(f.active);
      CHECK(f.unbounded_rule == "on fchmod (on fchmod, whose fd.name comes from the open)");
      CHECK(vigil::OpenPathPasses(f, "/tmp/x"));
    }
  }
  SECTION("an fd-based call whose rule tests and prints only fd.name.resolved keeps the filter") {
    // fd.name.resolved stays the kernel's path whether the open was seen or not.
    auto eng = Load(R"(
- rule: setuid
  desc: d
  condition: evt.type in (chmod, fchmod) and evt.rawres = 0 and evt.arg.mode contains S_ISUID
  output: file=%fd.name.resolved
  priority: WARNING
- rule: resolved
  desc: d
  condition: evt.type = fchown and fd.name.resolved startswith /etc/
  output: file=%fd.name.resolved
  priority: WARNING
)");
    CHECK(vigil::DeriveOpenPathFilters(*eng).of(OpenClass::kRead).active);
    CHECK(vigil::DeriveOpenPathFilters(*eng).of(OpenClass::kWrite).active);
  }
  SECTION("an fd-based call whose rule prints fd.name turns the filter off: the alert names the opened path") {
    for (const char* field : {"%fd.name", "%fd.directory", "%fd.filename"}) {
      INFO(field);
      auto eng = Load(std::string("- rule: setuid\n  desc: d\n  condition: evt.type = fchmod and evt.rawres = 0\n"
                                  "  output: file=") +
                      field + "\n  priority: WARNING\n");
      for (const OpenPathFilter& f : vigil::DeriveOpenPathFilters(*eng).cls) CHECK_FALSE(f.active);
    }
  }
  SECTION("ftruncate on a read-only descriptor fails: a rule requiring success leaves read opens alone") {
    for (const char* ok : {"evt.rawres = 0", "evt.rawres >= 0", "evt.res = SUCCESS"}) {
      INFO(ok);
      auto eng = Load(std::string("- rule: trunc\n  desc: d\n  condition: evt.type = ftruncate and ") + ok +
                      " and fd.name startswith /var/log/\n  output: o\n  priority: WARNING\n");
      const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
      CHECK(fs.of(OpenClass::kRead).active);
      CHECK_FALSE(fs.of(OpenClass::kWrite).active);
    }
    auto any = Load("- rule: trunc\n  desc: d\n  condition: evt.type = ftruncate and fd.name startswith /var/log/\n"
                    "  output: o\n  priority: WARNING\n");
    CHECK_FALSE(vigil::DeriveOpenPathFilters(*any).of(OpenClass::kRead).active);
  }
  SECTION("a rule that needs an open for writing bounds only the write class") {
    const struct {
      const char* cond;
      bool read_free;  // the rule cannot hold for a read open
    } rows[] = {
        {"evt.is_open_write = true and proc.name = sh", true},
        {"evt.is_open_write = true and fd.name.resolved contains /proc/sys/", true},
        {"evt.arg.flags contains O_TRUNC and not evt.arg.flags contains O_F_CREATED", true},
        {"(evt.arg.flags contains O_CREAT or evt.arg.flags contains O_APPEND) and proc.name = x", true},
        {"evt.is_open_read = false", true},
        {"evt.is_open_create = true", true},
        {"not evt.is_open_write = false and proc.name = sh", true},
        {"evt.is_open_write = false and proc.name = sh", false},
        {"evt.is_open_write = true or proc.name = sh", false},
        {"evt.arg.flags contains O_CLOEXEC and proc.name = sh", false},
        {"evt.arg.flags contains RDONLY and proc.name = sh", false},
        {"evt.arg.flags contains \"O_RDONLY|O_CREAT\" and proc.name = sh", false},
        {"evt.is_open_read = true and proc.name = sh", false},
    };
    // A 32-bit call's open is always sent: a rule only on those bounds neither class.
    for (const char* cond : {"evt.is_compat_from_64bit = true", "evt.is_compat = true and proc.name = sh"}) {
      INFO(cond);
      auto eng = Load(std::string("- rule: c\n  desc: d\n  condition: evt.type in (open, openat) and ") + cond +
                      "\n  output: o\n  priority: WARNING\n");
      CHECK(vigil::DeriveOpenPathFilters(*eng).of(OpenClass::kRead).active);
      CHECK(vigil::DeriveOpenPathFilters(*eng).of(OpenClass::kWrite).active);
    }
    for (const auto& r : rows) {
      INFO(r.cond);
      auto eng = Load(std::string("- rule: w\n  desc: d\n  condition: evt.type in (openat, creat) and ") + r.cond +
                      "\n  output: o\n  priority: WARNING\n");
      const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng, {"/proc/"});
      CHECK_FALSE(fs.of(OpenClass::kWrite).active);
      CHECK(fs.of(OpenClass::kRead).active == r.read_free);
      if (r.read_free) {
        CHECK(fs.of(OpenClass::kRead).prefixes == std::vector<std::string>{"/proc/"});
        CHECK_FALSE(vigil::OpenPathPasses(fs, vigil::EventType::openat, O_RDONLY | O_CLOEXEC, "/tmp/x"));
        CHECK(vigil::OpenPathPasses(fs, vigil::EventType::openat, O_RDONLY | O_TRUNC, "/tmp/x"));
        CHECK(vigil::OpenPathPasses(fs, vigil::EventType::openat, O_WRONLY, "/tmp/x"));
        CHECK(vigil::OpenPathPasses(fs, vigil::EventType::creat, 0, "/tmp/x"));
      }
    }
  }
  SECTION("access classes follow the flags the kernel sees") {
    using vigil::EventType;
    CHECK(vigil::OpenClassOf(EventType::openat, O_RDONLY) == OpenClass::kRead);
    CHECK(vigil::OpenClassOf(EventType::openat, O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW | O_EXCL) ==
          OpenClass::kRead);
    for (uint32_t f : {uint32_t{O_WRONLY}, uint32_t{O_RDWR}, 3u, uint32_t{O_CREAT}, uint32_t{O_TRUNC},
                       uint32_t{O_APPEND}, uint32_t{O_TMPFILE}})
      CHECK(vigil::OpenClassOf(EventType::openat, f) == OpenClass::kWrite);
    CHECK(vigil::OpenClassOf(EventType::creat, 0) == OpenClass::kWrite);
  }
  SECTION("no rule on the open family: every checkable open may stay in the kernel") {
    auto eng = Load("- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: WARNING\n");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
    for (const OpenPathFilter& f : fs.cls) {
      CHECK(f.active);
      CHECK(f.prefixes.empty());
      CHECK_FALSE(vigil::OpenPathPasses(f, "/etc/shadow"));
    }
  }
}

using vigil::testing::ReadGzLines;

// The recorded events, and for each open among them copies with other given
// paths (fd.name as the decoder derives it from an absolute given path;
// relative ones against the event's cwd).
struct Stream {
  std::deque<vigil::OwnedAncestors> ancestors;  // the events point into these
  std::vector<vigil::Event> events;
};

Stream BuildStream() {
  const auto lines = ReadGzLines(std::string(VIGIL_BENCH_DATA_DIR) + "/host-stream.jsonl.gz");
  REQUIRE(lines.size() > 10000);
  const char* paths[] = {
      "/etc/shadow", "/etc/pam.d/sshd", "/etc/sudoers", "/etc/sudoers.d/x", "/root/.ssh/id_rsa",
      "/home/u/.ssh/authorized_keys", "/root/.bashrc", "/etc/profile.d/x.sh", "/proc/1/mem", "/proc/1/environ",
      "/dev/mem", "/var/run/docker.sock", "/etc/cron.d/job", "/var/spool/cron/crontabs/root", "/etc/ld.so.preload",
      "/usr/bin/ls", "/bin/sh", "/etc/systemd/system/x.service", "/etc/init.d/x", "/var/log/auth.log",
      "/tmp/.hidden", "/etc/passwd", "/sys/kernel/uevent_helper", "/etc", "/etc/", "/boot/vmlinuz",
      "/lib/modules/6.1/x.ko", "/var/lib/nowatch/x", "/srv/data/file", "/usr/share/doc/x",
      // Forms the kernel leaves to user space: they must still fire.
      "/tmp/../etc/shadow", "/etc//shadow", "/etc/./sudoers", "/var/../root/.ssh/id_rsa", "shadow",
      "../etc/passwd", "/etc/cron.d/..", "//etc/shadow"};
  const char* cwds[] = {"/etc", "/tmp", "/root/.ssh"};
  Stream stream;
  std::vector<vigil::Event>& out = stream.events;
  out.reserve(lines.size() * 2);
  std::size_t opens = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    vigil::Event e;
    const auto err = vigil::ParseEventJson(lines[i], &e, &stream.ancestors.emplace_back());
    INFO("line " << i + 1 << ": " << err.value_or(""));
    REQUIRE_FALSE(err.has_value());
    out.push_back(e);
    if (!vigil::IsOpenFamily(e.type)) continue;
    if (opens++ % 7 != 0) continue;  // a sample keeps the run short
    for (std::size_t k = 0; k < std::size(paths); ++k) {
      vigil::Event x = e;
      x.file.path = paths[k];
      const std::string cwd = cwds[(k + i) % std::size(cwds)];
      vigil::capture::ResolvePath(x.file.path[0] == '/' ? std::string() : cwd, x.file.path, &x.file.abspath);
      x.file.resolved = x.file.abspath;
      x.proc.cwd = cwd;
      // Read, write-create-truncate and read-write opens in turn (rules on
      // writes below /etc need the second).
      const uint32_t flags[] = {O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, O_RDWR};
      x.file.flags = flags[(k + opens) % 3];
      // Now and then a 64-bit program's 32-bit call (the kernel sends those).
      x.compat = x.compat_from_64bit = (k + opens) % 11 == 0;
      // The same file opened through a symlink no rule names: fd.name is the
      // link, fd.name.resolved the file where the open succeeded (the
      // kernel's walk), the given path where it failed (the decoder).
      vigil::Event y = x;
      y.file.path = y.file.abspath = (k % 2 == 0) ? "/tmp/vigil-link" : "/var/lib/nowatch/link";
      y.res = (k + opens) % 4 == 0 ? -2 : 3;
      if (y.res < 0) y.file.resolved = y.file.abspath;
      out.push_back(std::move(x));
      out.push_back(std::move(y));
    }
  }
  REQUIRE(opens > 100);
  return stream;
}

using Alerts = std::vector<std::pair<std::size_t, std::string>>;

// Alerts of `eng` over `stream`; with `filter`, the opens it rejects are left out
// (as the kernel would leave them) and counted in *dropped.
Alerts Run(const vigil::RuleEngine& eng, const std::vector<vigil::Event>& stream, const OpenPathFilters* filter,
           std::size_t* dropped) {
  eng.ResetCorrelation();
  std::vector<const vigil::CompiledRule*> fired;
  Alerts alerts;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    const vigil::Event& ev = stream[i];
    if (filter != nullptr && vigil::IsOpenFamily(ev.type) && !vigil::OpenPathPasses(*filter, ev)) {
      ++*dropped;
      continue;
    }
    eng.Match(ev, &fired);
    for (const auto* r : fired) alerts.emplace_back(i, r->name);
  }
  return alerts;
}

// `text` as a YAML double-quoted scalar.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// What one class's filter is, for the report.
std::string Describe(const OpenPathFilter& f) {
  if (f.active && f.resolved)
    return "active, " + std::to_string(f.prefixes.size()) + " prefixes, resolved test with " +
           std::to_string(vigil::OpenResolvedKeys(f).size()) + " keys for " + std::to_string(f.resolved_rules.size()) +
           " rule(s)";
  if (f.active) return "active, " + std::to_string(f.prefixes.size()) + " prefixes";
  return "off, " + std::to_string(f.unbounded_rules.size()) + " rule(s) without a bound, first '" + f.unbounded_rule +
         "'";
}

void Replay(const vigil::RuleEngine& eng, const std::vector<vigil::Event>& stream, const std::string& name,
            bool expect_active) {
  const OpenPathFilters f = vigil::DeriveOpenPathFilters(eng, {"/proc/"});
  std::size_t none = 0, dropped = 0;
  const Alerts full = Run(eng, stream, nullptr, &none);
  const Alerts filtered = Run(eng, stream, &f, &dropped);
  std::printf("open path filter replay: %s: read opens: %s; write opens: %s; %zu of %zu events dropped, %zu alerts\n",
              name.c_str(), Describe(f.of(OpenClass::kRead)).c_str(), Describe(f.of(OpenClass::kWrite)).c_str(),
              dropped, stream.size(), full.size());
  for (std::size_t c = 0; c < vigil::kOpenClassCount; ++c)
    for (const std::string& r : f.cls[c].unbounded_rules)
      std::printf("  %s opens unbounded for: %s\n", vigil::OpenClassName(static_cast<OpenClass>(c)), r.c_str());
  CHECK(full == filtered);
  if (expect_active) {
    CHECK(f.cls[0].active);
    CHECK(f.cls[1].active);
    // Falco's sandbox file has a rule bounded only by "/" (every plain path).
    if (f.cls[0].prefixes != std::vector<std::string>{"/"}) CHECK(dropped > 1000);
    CHECK_FALSE(full.empty());
  }
}

// Each ruleset as loaded (the filter is off when a rule on the open family
// has no fd.name bound: the default rules read fd.name.resolved), then with
// every such rule disabled, which leaves the filter on for the rest.
TEST_CASE("open path filter: the recorded stream fires the same alerts with opens dropped", "[unit]") {
  const Stream built = BuildStream();
  const std::vector<vigil::Event>& stream = built.events;
  const std::string falco = VIGIL_FALCO_RULES_DIR;
  const std::vector<std::vector<std::string>> sets = {
      {VIGIL_RULES_DIR},
      {falco + "/falco_rules.yaml"},
      {falco + "/falco-incubating_rules.yaml"},
      {falco + "/falco-sandbox_rules.yaml"},
      {falco + "/falco_rules.yaml", falco + "/falco-incubating_rules.yaml", falco + "/falco-sandbox_rules.yaml",
       VIGIL_RULES_DIR},
  };
  char tmpl[] = "/tmp/vigil-open-filter-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string off_file = std::string(tmpl) + "/disable.yaml";
  for (const auto& paths : sets) {
    const std::string name = paths.size() > 1 ? "all rules" : paths.front();
    INFO(name);
    vigil::Diagnostics diags;
    auto eng = vigil::RuleEngine::Load(paths, &diags, vigil::HostInfo{});
    REQUIRE(eng != nullptr);
    Replay(*eng, stream, name, false);
    const OpenPathFilters f = vigil::DeriveOpenPathFilters(*eng, {"/proc/"});
    if (f.cls[0].active && f.cls[1].active) continue;
    std::vector<std::string> off = f.cls[0].unbounded_rules;
    for (const std::string& r : f.cls[1].unbounded_rules)
      if (std::find(off.begin(), off.end(), r) == off.end()) off.push_back(r);
    std::string text;
    for (const std::string& r : off) text += "- rule: " + Quoted(r) + "\n  enabled: false\n";
    std::ofstream(off_file) << text;
    std::vector<std::string> with_off = paths;
    with_off.push_back(off_file);
    vigil::Diagnostics diags2;
    auto bounded = vigil::RuleEngine::Load(with_off, &diags2, vigil::HostInfo{});
    INFO(diags2.ToString());
    REQUIRE(bounded != nullptr);
    Replay(*bounded, stream, name + " without the rules that have no bound", true);
    // The default rules' read-class rules on fd.name.resolved keep the read
    // class on, through the resolved test.
    if (paths.front() == VIGIL_RULES_DIR) CHECK(vigil::DeriveOpenPathFilters(*bounded, {"/proc/"}).cls[0].resolved);
  }
  std::remove(off_file.c_str());
  rmdir(tmpl);
}

}  // namespace

namespace {

// Issue 21 (resolved test): rules that test opens only through
// fd.name.resolved (the opened file's real path) bound the filter by the
// path's first and last components instead of turning it off.
TEST_CASE("open path filter: the resolved test, derived from fd.name.resolved bounds", "[unit]") {
  using V = std::vector<std::string>;
  const struct {
    const char* cond;
    bool active;
    V prefixes, tops, top_prefixes, leaves, suffixes;
  } cases[] = {
      {"fd.name.resolved in (/dev/mem, /dev/kmem)", true, {}, {}, {}, {"kmem", "mem"}, {}},
      {"fd.name.resolved = /proc/sys/kernel/modprobe", true, {}, {}, {}, {"modprobe"}, {}},
      {"fd.name.resolved startswith /dev/sd", true, {}, {"dev"}, {}, {}, {}},
      {"fd.name.resolved startswith /de", true, {}, {}, {"de"}, {}, {}},
      {"fd.name.resolved endswith .pub", true, {}, {}, {}, {}, {".pub"}},
      {"fd.name.resolved endswith /release_agent", true, {}, {}, {}, {"release_agent"}, {}},
      {"fd.name.resolved glob \"*/secrets/kubernetes.io/serviceaccount/token\"", true, {}, {}, {}, {"token"}, {}},
      {"fd.name.resolved glob \"/etc/ssh/ssh_host_*_key\"", true, {}, {}, {}, {}, {"_key"}},
      {"fd.name.resolved glob \"/root/.ssh/id_*\"", true, {}, {"root"}, {}, {}, {}},
      {"fd.name.resolved glob \"/proc/*/mem\"", true, {}, {}, {}, {"mem"}, {}},
      {"fd.name.resolved pmatch (/etc/cron.d, /var/spool/cron)", true, {}, {"etc", "var"}, {}, {}, {}},
      {"(fd.name startswith /etc/ or fd.name.resolved endswith .ko)", true, {"/etc/"}, {}, {}, {}, {".ko"}},
      {"fd.name.resolved startswith /dev/ and fd.name.resolved endswith .img", true, {}, {}, {}, {}, {".img"}},
      // The read class only: the first branch cannot hold on a read open.
      {"(evt.is_open_write = true or fd.name.resolved = /etc/x)", true, {}, {}, {}, {"x"}, {}},
      {"(evt.is_open_read = true or fd.name.resolved = /etc/x)", false, {}, {}, {}, {}, {}},
      {"fd.name.resolved contains shadow", false, {}, {}, {}, {}, {}},
      {"fd.name.resolved endswith /", false, {}, {}, {}, {}, {}},
      {"fd.name.resolved startswith /", false, {}, {}, {}, {}, {}},
      {"not fd.name.resolved endswith .ko", false, {}, {}, {}, {}, {}},
      {"fd.name.resolved in (/etc/shadow) or proc.name = cat", false, {}, {}, {}, {}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.cond);
    auto eng = Load(std::string("- rule: r\n  desc: d\n  condition: evt.type = openat and ") + c.cond +
                    "\n  output: o\n  priority: WARNING\n");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
    const OpenPathFilter& f = fs.of(OpenClass::kRead);
    CHECK(f.active == c.active);
    if (!c.active) {
      CHECK(f.unbounded_rule == "r");
      continue;
    }
    CHECK(f.prefixes == c.prefixes);
    CHECK(f.resolved == (c.tops.size() + c.top_prefixes.size() + c.leaves.size() + c.suffixes.size() > 0));
    CHECK(f.top_names == c.tops);
    CHECK(f.top_prefixes == c.top_prefixes);
    CHECK(f.leaf_names == c.leaves);
    CHECK(f.leaf_suffixes == c.suffixes);
  }
  SECTION("a write-only rule leaves the read class's test alone") {
    auto eng = Load("- rule: w\n  desc: d\n  condition: evt.type = openat and evt.is_open_write = true and "
                    "fd.name.resolved endswith /release_agent\n  output: o\n  priority: WARNING\n");
    const OpenPathFilters fs = vigil::DeriveOpenPathFilters(*eng);
    CHECK(fs.of(OpenClass::kRead).active);
    CHECK_FALSE(fs.of(OpenClass::kRead).resolved);
    CHECK(fs.of(OpenClass::kWrite).resolved);
    CHECK(fs.of(OpenClass::kWrite).leaf_names == V{"release_agent"});
  }
}

TEST_CASE("open path filter: the resolved test's keys and decisions", "[unit]") {
  OpenPathFilter f;
  f.active = f.resolved = true;
  f.prefixes = {"/proc/"};
  f.top_names = {"dev", std::string(70, 'x')};
  f.top_prefixes = {"ho"};
  f.leaf_names = {"shadow", std::string(63, 'y')};
  f.leaf_suffixes = {".ko"};
  using vigil::ResolvedKind;
  const std::vector<vigil::ResolvedKey> keys = vigil::OpenResolvedKeys(f);
  const std::vector<vigil::ResolvedKey> want = {
      {ResolvedKind::kTop, std::string("dev\0", 4)}, {ResolvedKind::kTop, "ho"},
      {ResolvedKind::kTop, std::string(63, 'x')},    {ResolvedKind::kLeaf, "ok."},
      {ResolvedKind::kLeaf, std::string("wodahs\0", 7)}};
  CHECK(keys == want);
  const struct {
    const char* resolved;
    bool passes;
  } decide[] = {
      {"/dev/mem", true},          {"/devx/mem", false},       {"/etc/shadow", true},   {"/etc/shadowx", false},
      {"/home/u/x", true},         {"/hx/u/x", false},         {"/lib/m/x.ko", true},   {"/lib/m/x.kox", false},
      {"/tmp/x", false},           {"/", true},                {"", true},              {"...//a/b", true},
      {"/tmp/", true},             {"/shadow", true},          {"/dev", true},
  };
  for (const auto& c : decide) {
    INFO(c.resolved);
    CHECK(vigil::ResolvedPathPasses(f, c.resolved) == c.passes);
  }
  // Names past the window: a long top is cut (its first 63 bytes decide), a
  // long leaf is always sent.
  CHECK(vigil::ResolvedPathPasses(f, "/" + std::string(80, 'x') + "/a"));
  CHECK_FALSE(vigil::ResolvedPathPasses(f, "/" + std::string(62, 'x') + "/a"));
  CHECK(vigil::ResolvedPathPasses(f, "/tmp/" + std::string(63, 'z')));
  CHECK_FALSE(vigil::ResolvedPathPasses(f, "/tmp/" + std::string(62, 'z')));

  // The whole decision for an open: the given path first, then a failed
  // open is sent, then the resolved path decides.
  OpenPathFilters fs;
  fs.cls[0] = f;
  vigil::Event e;
  e.type = vigil::EventType::openat;
  e.file.flags = O_RDONLY;
  e.file.path = e.file.abspath = "/tmp/link";
  e.res = 3;
  e.file.resolved = "/etc/shadow";
  CHECK(vigil::OpenPathPasses(fs, e));
  e.file.resolved = "/tmp/target";
  CHECK_FALSE(vigil::OpenPathPasses(fs, e));
  e.res = -2;
  e.file.resolved = e.file.abspath;
  CHECK(vigil::OpenPathPasses(fs, e));
  e.res = 3;
  e.file.path = "/proc/1/mem";
  CHECK(vigil::OpenPathPasses(fs, e));
  fs.cls[0].resolved = false;
  e.file.path = "/tmp/link";
  e.file.resolved = "/etc/shadow";
  CHECK_FALSE(vigil::OpenPathPasses(fs, e));
}

}  // namespace
