// SPDX-License-Identifier: Apache-2.0
// Issue 18: Falco's event-generator actions that skip outside a container
// (falco_actions_table.h, Where::kContainer), done for real inside one
// privileged podman + runc container (label root): an image imported from a
// busybox-static rootfs with the tool names the actions run and
// event_generator_calls as /usr/local/bin/event-generator, podman's API
// service for the container's metadata (container.privileged), the container's
// own loopback-only network namespace (--network none), and the real
// `vigil run -r` Falco's three rule files with the disabled rules the actions
// target enabled. Each action's rule must fire with the container's id and the
// action's fields, or, where the table says it cannot, must not.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/e2e/container_support.h"
#include "tests/e2e/falco_actions_table.h"
#include "tests/e2e/vigil_harness.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

namespace {

using vigil::e2e::FalcoAction;
using vigil::e2e::Fires;
using vigil::e2e::PodmanFixture;
using vigil::e2e::SeenAlert;
using vigil::e2e::Sh;
using vigil::e2e::VigilProcess;
using vigil::e2e::Where;

std::string Subst(std::string text, const std::string& tag) {
  for (std::size_t at; (at = text.find("{tag}")) != std::string::npos;) text.replace(at, 5, tag);
  return text;
}

// The image: MakeBusyboxRootfs, every busybox applet as a symlink in /bin
// (busybox's shell runs an applet named without a path as /proc/self/exe:
// the script names each program by path, as exec.LookPath gives it to the
// generator), the tools busybox lacks as symlinks to it in /usr/bin, the
// generator's own calls and the script. "" or why not.
std::string MakeImage(const std::string& rootfs) {
  if (std::string e = vigil::e2e::MakeBusyboxRootfs(rootfs); !e.empty()) return e;
  const std::string r = rootfs;
  auto out =
      Sh("set -e; mkdir -p " + r + "/usr/bin " + r + "/usr/local/bin " + r + "/tmp; chmod 1777 " + r +
         "/tmp; for a in $(" + r + "/bin/busybox --list); do [ -e " + r + "/bin/$a ] || ln -s busybox " + r +
         "/bin/$a; done; for a in nmap scp debugfs apt-get; do ln -s ../../bin/busybox " + r +
         "/usr/bin/$a; done; cp " VIGIL_EVENT_GENERATOR_CALLS " " + r +
         "/usr/local/bin/event-generator; cp " VIGIL_FALCO_CONTAINER_ACTIONS " " + r +
         "/falco_container_actions.sh 2>&1");
  return out.second == 0 ? "" : "image rootfs: " + out.first;
}

}  // namespace

TEST_CASE("Falco's event-generator container actions fire their Falco rules in a podman container",
          "[root]") {
  if (Sh("command -v podman && command -v runc").second != 0)
    FAIL("podman and runc are required (scripts/install-deps.sh)");
  const std::string driver = Sh("podman info --format '{{.Store.GraphDriverName}}'").first;
  INFO("podman storage driver: " << driver);
  REQUIRE(driver == "overlay");  // drop_and_execute: proc.is_exe_upper_layer needs overlay layers
  const auto t0 = std::chrono::steady_clock::now();

  PodmanFixture fx("vigil-falco-ctr");
  const std::string tag = std::to_string(getpid());
  const std::string rootfs = fx.dir + "/rootfs";
  const std::string made = MakeImage(rootfs);
  INFO(made);
  REQUIRE(made == "");
  REQUIRE(fx.ImportImage(rootfs, "localhost/vigil-falco-ctr:" + tag) == "");
  REQUIRE(fx.StartService() == "");

  const char* falco_env = std::getenv("VIGIL_FALCO_RULES_DIR");
  const std::string falco = falco_env != nullptr ? falco_env : VIGIL_FALCO_RULES_DIR;
  VigilProcess vigil(fx.dir, {falco + "/falco_rules.yaml", falco + "/falco-incubating_rules.yaml",
                              falco + "/falco-sandbox_rules.yaml", vigil::e2e::WriteFalcoEnable(fx.dir),
                              vigil::e2e::WriteSentinelRule(fx.dir)});
  vigil.set_extra_config(vigil::e2e::PodmanOnlyConfig(fx.sock));
  const std::string started = vigil.Start(180);  // loading and verifying took 100 s on a loaded 2-core host
  INFO(started);
  REQUIRE(started == "");

  // One container for all eighteen: privileged (debugfs, mount, release_agent
  // want CAP_SYS_ADMIN and container.privileged; the EC2 address goes on lo).
  const std::string name = "vigil-falco-ctr-" + tag;
  fx.names = {name};
  const auto t_run = std::chrono::steady_clock::now();
  auto r =
      Sh(vigil::e2e::kPodmanRun + std::string("--privileged --name ") + name + " " + fx.image +
         " /bin/sh /falco_container_actions.sh " + tag + " 2>&1");
  std::printf("falco container actions: podman run %.1f s, exit %d\n%s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count(), r.second,
              r.first.c_str());
  REQUIRE(r.second == 0);
  const std::string id = Sh("podman inspect --format '{{.Id}}' " + name).first;
  REQUIRE(id.size() == 64);
  const std::string short_id = id.substr(0, 12);

  const std::string sentinel = vigil::e2e::AwaitSentinel(vigil, fx.dir);
  INFO(sentinel << "\n" << vigil.LogTail());
  REQUIRE(sentinel == "");
  REQUIRE(vigil.Stop() == "");
  const auto alerts = vigil.Alerts();

  auto ours = [&](const SeenAlert& a) {
    return a.Field("container.id") == short_id || a.container.rfind(short_id, 0) == 0;
  };
  auto fired = [&](const FalcoAction& want) {
    for (const auto& a : alerts) {
      if (a.rule != want.rule || !ours(a)) continue;
      bool ok = true;
      for (const auto& [field, text] : want.fields)
        if (a.Field(field).find(Subst(text, tag)) == std::string::npos) ok = false;
      if (ok) return true;
    }
    return false;
  };
  std::size_t yes = 0, hit = 0, no = 0;
  for (const auto& want : vigil::e2e::kFalcoActions) {
    if (want.where != Where::kContainer) continue;
    INFO("event-generator action " << want.action << ".go -> rule '" << want.rule << "'");
    const bool f = fired(want);
    if (want.fires == Fires::kYes) {
      ++yes;
      hit += f ? 1 : 0;
      CHECK(f);
    } else {  // reproduced, documented not to fire: a change that makes it fire updates the table
      ++no;
      CHECK_FALSE(f);
      std::printf("  not expected to fire: %s (%s)\n", want.rule, want.why);
    }
    if (want.fires == Fires::kYes && !f) std::printf("  did not fire: %s (%s.go)\n", want.rule, want.action);
  }
  std::printf(
      "falco container actions: %zu of %zu expected rules fired; %zu reproduced and expected not to fire; "
      "%.1f s in all\n",
      hit, yes, no, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (hit != yes)
    for (const auto& a : alerts)
      if (ours(a)) std::printf("    seen: %s %s\n", a.rule.c_str(), a.output_fields.dump().c_str());
}
