// SPDX-License-Identifier: Apache-2.0
// End to end, as root: the real `vigil run` loading Sigma rules (nothing
// else but the harness's sentinel), real actions, alerts read back from its
// sinks and attributed to this test by pid (vigil_harness.h).
//
// In CI the rules are ours (tests/e2e/sigma/*.yml: process_creation and
// file_event, each modifier the actions can reach) and every one must fire
// on its action, with the right priority and fields, and the filtered case
// must not. Locally, the same harness runs any Sigma directory against any
// action script:
//   VIGIL_SIGMA_E2E_RULES=DIR[:DIR]  Sigma files ({tag} and {dir} are substituted)
//   VIGIL_SIGMA_E2E_ACTIONS=FILE     a sh script run as the actions (same substitution)
//   VIGIL_SIGMA_E2E_MIN_FIRED=N      how many distinct rules must fire (default 1)
// and prints which rules fired.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actions.h"
#include "vigil_harness.h"

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

std::string Subst(std::string text, const Scratch& s) {
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{tag}", s.tag}, {"{dir}", s.dir}}) {
    for (std::size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  }
  return text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Copies the Sigma files of each ':'-separated directory in `srcs` into
// <dir>/sigma with {tag}/{dir} filled in; returns how many.
std::size_t StageRules(const std::string& srcs, const Scratch& s) {
  fs::create_directories(s.dir + "/sigma");
  std::size_t n = 0;
  std::stringstream list(srcs);
  for (std::string src; std::getline(list, src, ':');) {
    for (const auto& e : fs::directory_iterator(src)) {
      const auto ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
      std::ofstream(s.dir + "/sigma/" + std::to_string(n) + "-" + e.path().filename().string())
          << Subst(ReadFile(e.path().string()), s);
      ++n;
    }
  }
  return n;
}

// `vigil rules validate` on the staged rules: its summary line and exit status.
std::pair<std::string, int> Validate(const std::string& dir) {
  std::string cmd = std::string(VIGIL_BINARY) + " rules validate -q " + dir + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  int status = p ? pclose(p) : -1;
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// The actions for tests/e2e/sigma/*.yml, one per rule, in a scratch directory.
const char* kActions = R"SH(set -e
cd '{dir}'
sh -c ': e2e-{tag}-shell'
/bin/echo e2e-{tag}-re 12345 >/dev/null
/bin/echo "$(printf 'GET http://e2e-{tag}.invalid/payload' | base64 -w0)" >/dev/null
sh -c '/bin/true; : e2e-{tag}-parent'
mkdir -p cwd-{tag} && (cd cwd-{tag} && ls >/dev/null)
/bin/echo e2e-{tag}-keyword >/dev/null
sh -c 'id -u >/dev/null; : e2e-{tag}-idrun-kept'
sh -c 'id -u >/dev/null; : e2e-{tag}-idrun-filtered'
echo x > tail-{tag}.txt && tail -n0 '{dir}/tail-{tag}.txt'
/bin/echo /n e2e-{tag}-dash >/dev/null
mkdir -p etc && echo x > etc/e2e-{tag}.conf
touch .hidden-{tag}
cp /etc/hostname cron-{tag}
)SH";

struct Expect {
  const char* rule;
  const char* priority;
  const char* field;
  const char* text;  // the field contains it ({tag}, {dir})
};

const std::vector<Expect> kExpected = {
    {"E2E Sigma Shell Command With Marker", "Warning", "proc.argv", "-c : e2e-{tag}-shell"},
    {"E2E Sigma Echo Matched By Regex", "Notice", "proc.argv", "e2e-{tag}-re 12345"},
    {"E2E Sigma Base64 Encoded URL On Command Line", "Error", "proc.exepath", "/echo"},
    {"E2E Sigma True Run By Marked Shell", "Warning", "proc.pargv", "e2e-{tag}-parent"},
    {"E2E Sigma Listing In Marked Directory", "Informational", "proc.exepath", "/ls"},
    {"E2E Sigma Keyword On Command Line", "Notice", "proc.argv", "e2e-{tag}-keyword"},
    {"E2E Sigma Id Run Unless Filtered", "Warning", "proc.pargv", "e2e-{tag}-idrun-kept"},
    {"E2E Sigma Tail Of Marked File", "Notice", "proc.argv", "tail-{tag}.txt"},
    {"E2E Sigma Flag In Either Dash Form", "Notice", "proc.argv", "/n e2e-{tag}-dash"},
    {"E2E Sigma Config File Written", "Warning", "fd.name", "{dir}/etc/e2e-{tag}.conf"},
    {"E2E Sigma Hidden File Created By Touch", "Warning", "fd.name", "{dir}/.hidden-{tag}"},
    {"E2E Sigma Copied Into Marked Cron Name", "Error", "fd.name", "{dir}/cron-{tag}"},
};

std::string Describe(const SeenAlert& a) {
  return a.priority + " " + a.rule + " pid=" + std::to_string(a.pid) + " " + a.output_fields.dump();
}

}  // namespace

TEST_CASE("vigil run with Sigma rules alerts on their real actions", "[root][e2e]") {
  REQUIRE(geteuid() == 0);
  const auto t0 = std::chrono::steady_clock::now();
  const char* env_rules = std::getenv("VIGIL_SIGMA_E2E_RULES");
  const char* env_actions = std::getenv("VIGIL_SIGMA_E2E_ACTIONS");
  const bool ours_only = env_rules == nullptr;
  const std::string rules_src = ours_only ? VIGIL_SIGMA_E2E_RULES : env_rules;
  std::string actions = kActions;
  if (env_actions != nullptr) {
    actions = ReadFile(env_actions);
    REQUIRE(!actions.empty());
  }
  Scratch s;
  REQUIRE(MakeScratch(&s) == "");
  const std::size_t staged = StageRules(rules_src, s);
  REQUIRE(staged > 0);
  const auto [summary, rc] = Validate(s.dir + "/sigma");
  std::printf("%s", summary.c_str());
  if (ours_only) {  // our rules must all translate
    CHECK(rc == 0);
    CHECK(summary.find("sigma: " + std::to_string(kExpected.size()) + " rule(s) read, " +
                       std::to_string(kExpected.size()) + " translated, 0 unsupported") != std::string::npos);
  }
  ForkWatch forks;
  REQUIRE(forks.error() == "");
  std::vector<SeenAlert> alerts;
  pid_t runner = -1;
  int status = -1;
  {
    VigilProcess vigil(s.dir, {s.dir + "/sigma", WriteSentinelRule(s.dir)});
    const std::string started = vigil.Start();
    if (!started.empty()) RemoveScratch(s);
    REQUIRE(started == "");
    // From a file, so the runner's own argv does not carry the markers the rules look for.
    const std::string script = s.dir + "/actions.sh";
    std::ofstream(script) << Subst(actions, s);
    runner = RunShell({script}, &status);
    CHECK(FinishSteps(vigil, s.dir, &alerts) == "");
  }
  const std::set<uint32_t> ours = forks.Descendants(static_cast<uint32_t>(runner));
  CHECK(forks.overruns() == 0);
  CHECK(RemoveScratch(s) == "");
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // every action ran

  std::map<std::string, std::size_t> fired;  // rule -> alerts from the actions
  for (const auto& a : alerts)
    if (ours.count(a.pid) && a.rule != kSentinelRule) ++fired[a.rule];
  std::printf("sigma e2e: %zu rule file(s) from %s; %zu distinct rule(s) fired on the actions:\n", staged,
              rules_src.c_str(), fired.size());
  for (const auto& [rule, n] : fired) std::printf("  fired %3zu x  %s\n", n, rule.c_str());

  if (ours_only) {
    for (const auto& want : kExpected) {
      bool hit = false;
      for (const auto& a : alerts) {
        if (a.rule != want.rule || !ours.count(a.pid)) continue;
        if (a.Field(want.field).find(Subst(want.text, s)) == std::string::npos) continue;
        hit = true;
        CHECK(a.priority == want.priority);
        CHECK(std::find(a.output_fields.begin(), a.output_fields.end(), nullptr) == a.output_fields.end());
      }
      INFO("expected alert: " << want.rule << " with " << want.field << " containing " << Subst(want.text, s));
      CHECK(hit);
    }
    // The filter held: no alert for the id run by the shell marked filtered.
    for (const auto& a : alerts) {
      INFO(Describe(a));
      if (a.rule == "E2E Sigma Id Run Unless Filtered" && ours.count(a.pid))
        CHECK(a.Field("proc.pargv").find("idrun-filtered") == std::string::npos);
    }
    CHECK(fired.size() == kExpected.size());  // and nothing else of ours fired
  } else {
    const char* min_env = std::getenv("VIGIL_SIGMA_E2E_MIN_FIRED");
    const std::size_t min_fired = min_env ? std::strtoul(min_env, nullptr, 10) : 1;
    CHECK(fired.size() >= min_fired);
  }
  std::printf("sigma e2e: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}
