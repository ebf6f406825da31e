// SPDX-License-Identifier: Apache-2.0
// A SIGHUP reload (Reloader) with the real loader (LoadAll) on files in a
// temporary directory: the new ruleset replaces the running one only when all
// of it loads and installs; otherwise an alert says why, located. The policy
// install is a kernel call, so these tests pass its outcome in; the root tests
// agent_run_test and agent_interest_test reload the real agent.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/policy_installer.h"
#include "agent/reloader.h"
#include "agent/ruleset.h"

namespace fs = std::filesystem;
using vigil::agent::LoadAll;
using vigil::agent::Loaded;
using vigil::agent::Reloader;
using vigil::agent::RunOptions;
using vigil::agent::SummariseErrors;

namespace {

constexpr const char* kGoodRule = R"Y(
- rule: Netcat run
  desc: d
  condition: evt.type = execve and proc.name = nc
  output: "nc (proc.pid=%proc.pid)"
  priority: WARNING
)Y";

struct Dir {
  fs::path path;
  Dir() {
    char tmpl[] = "/tmp/vigil-reload-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~Dir() { fs::remove_all(path); }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
  // vigil.yaml naming r.yaml, with the file sink at `alerts`.
  void Config(const std::string& alerts) const {
    Write("vigil.yaml", "rules:\n  paths: [" + (path / "r.yaml").string() +
                            "]\noutputs:\n  stdout: {enabled: false}\n  file: {enabled: true, path: " +
                            (path / alerts).string() + "}\nmetrics:\n  enabled: false\n");
  }
};

struct Harness {
  RunOptions options;
  int installs = 0, rewatches = 0;
  bool install_ok = true;
  Reloader reloader{{[this](std::string* problems) { return LoadAll(options, problems); },
                     [this](const vigil::policy::PolicySpec&) {
                       ++installs;
                       return install_ok;
                     },
                     [this] { ++rewatches; }}};
};

}  // namespace

TEST_CASE("A reload that loads and installs hands over the new ruleset", "[unit]") {
  Dir d;
  d.Config("a.json");
  d.Write("r.yaml", kGoodRule);
  Harness h;
  h.options.config = (d.path / "vigil.yaml").string();
  auto running = LoadAll(h.options);
  REQUIRE(running);

  SECTION("same configuration: nothing waits for a restart") {
    auto r = h.reloader.Reload(running->config);
    REQUIRE(r.next);
    CHECK(r.next->engine->FindRule("Netcat run") != nullptr);
    CHECK(r.restart_only.empty());
    CHECK_FALSE(r.failure);
  }
  SECTION("a changed sink path is named as applied only at restart") {
    d.Config("b.json");
    auto r = h.reloader.Reload(running->config);
    REQUIRE(r.next);
    CHECK(r.restart_only == std::vector<std::string>{"outputs.file.path"});
  }
  CHECK(h.installs == 1);
  CHECK(h.rewatches == 1);
}

TEST_CASE("A reload that fails keeps the running ruleset and alerts with the located reason", "[unit]") {
  Dir d;
  d.Config("a.json");
  d.Write("r.yaml", kGoodRule);
  Harness h;
  h.options.config = (d.path / "vigil.yaml").string();
  auto running = LoadAll(h.options);
  REQUIRE(running);

  struct Case {
    const char* name;
    const char* rules;   // r.yaml's new text
    const char* config;  // vigil.yaml's new text, or nullptr: unchanged
    bool install_ok;
    const char* reason;  // in the alert
    int installs;
  };
  const Case cases[] = {
      {"a rule that does not parse", "- rule: Broken\n  desc: d\n  condition: evt.type = = execve\n  output: o\n"
                                     "  priority: WARNING\n", nullptr, true, "r.yaml:3:", 0},
      {"a configuration error", kGoodRule, "stats_interval_s: soon\n", true, "stats_interval_s", 0},
      {"a policy the kernel refuses", kGoodRule, nullptr, false,
       "the new enforcement policy could not be installed in the kernel", 1},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    d.Write("r.yaml", c.rules);
    if (c.config) d.Write("vigil.yaml", c.config);
    h.install_ok = c.install_ok;
    h.installs = h.rewatches = 0;
    auto r = h.reloader.Reload(running->config);
    CHECK_FALSE(r.next);
    CHECK(h.installs == c.installs);
    CHECK(h.rewatches == 1);  // always: the enforcement object may be new
    REQUIRE(r.failure);
    CHECK(r.failure->rule == "vigil rules reload failed");
    CHECK(r.failure->priority == vigil::Priority::kError);
    CHECK_THAT(r.failure->output, Catch::Contains("vigil kept its previous ruleset") && Catch::Contains(c.reason));
    REQUIRE(r.failure->output_fields.size() == 1);
    CHECK(r.failure->output_fields[0].first == "vigil.reload.errors");
    CHECK_THAT(std::get<std::string>(r.failure->output_fields[0].second), Catch::Contains(c.reason));
    d.Config("a.json");
  }
}

TEST_CASE("The errors an alert carries are bounded; the rest are counted", "[unit]") {
  const std::string long_error(900, 'x');
  struct Case {
    std::vector<std::string> errors;
    std::string summary;
  };
  const Case cases[] = {
      {{}, ""},
      {{"a"}, "a"},
      {{"a", "b", "c"}, "a; b; c"},
      {{"a", "b", "c", "d", "e"}, "a; b; c; and 2 more"},
      {{long_error, "b"}, long_error + "; and 1 more"},
  };
  for (const auto& c : cases) {
    INFO(c.errors.size() << " errors");
    CHECK(SummariseErrors(c.errors) == c.summary);
  }
}

TEST_CASE("No enforcement object is loaded while no rule asks for one and BPF LSM is not used", "[unit]") {
  vigil::agent::PolicyInstaller installer(vigil::enforce::Degrade::kAlert, /*lsm_self_protection=*/false);
  CHECK(installer.Install(vigil::policy::PolicySpec{}));
  CHECK(installer.manager() == nullptr);
}
