// SPDX-License-Identifier: Apache-2.0
// Container metadata with a real runtime (label root): podman + runc, an image
// imported from a busybox-static rootfs (nothing is pulled), podman's
// Docker-compatible API service on a private socket, and the real `vigil run`.
// A privileged container and one with host bind mounts each exec a marked
// command; the alerts must carry the container's id, name, image, privileged
// flag and mounts, and Falco's Launch Privileged Container / Launch Sensitive
// Mount Container must fire on each container's `container` event (vigil's
// synthesized start event, with Falco's container_started of the time when it
// used that event type) and on its init's exec; both only have the metadata
// because vigil held them until it arrived. When each container has exited,
// the watcher's listing misses it: its metadata leaves the cache and a
// `container_removed` event with its id, name and image fires a rule, exactly
// once per container and after its start event, both for the two containers
// that live well under a second and for a third that lives six seconds
// (which must not be announced removed while it runs).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/container_support.h"
#include "tests/e2e/vigil_harness.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

namespace {

// Sh, VigilProcess, SeenAlert, FindContainerAlert and the marker rules.
using namespace vigil::e2e;

}  // namespace

TEST_CASE("podman containers: id, name, image, privileged and mounts on alerts; Falco's container rules fire",
          "[root]") {
  if (Sh("command -v podman && command -v runc").second != 0) FAIL("podman and runc are required (scripts/install-deps.sh)");
  PodmanFixture fx("vigil-ctr");
  const std::string tag = std::to_string(getpid());
  const std::string repo = "localhost/vigil-ctr-test";

  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(vigil::e2e::MakeBusyboxRootfs(rootfs) == "");
  REQUIRE(fx.ImportImage(rootfs, repo + ":" + tag) == "");
  REQUIRE(fx.StartService() == "");

  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), vigil::e2e::WriteMarkerRule(fx.dir),
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml",
                              vigil::e2e::WriteEventContainerStarted(fx.dir)});
  // Exited containers are forgotten (and announced) only when every configured
  // runtime answered the listing: the ones this host does not run are off.
  vigil.set_extra_config(PodmanOnlyConfig(fx.sock, "  list_interval_ms: 500\n"));
  const std::string started = vigil.Start();
  INFO(started);
  REQUIRE(started == "");

  const std::string run = kPodmanRun;
  const std::string priv = "vigil-ctr-priv-" + tag, mnt = "vigil-ctr-mnt-" + tag, slow = "vigil-ctr-slow-" + tag;
  fx.names = {priv, mnt, slow};
  // The long-lived one first, detached: it runs while the short ones come and go.
  auto r0 = Sh(run + "-d --name " + slow + " " + fx.image + " /bin/sh -c 'vigilctrmark; /bin/busybox sleep 6' 2>&1");
  INFO(r0.first);
  REQUIRE(r0.second == 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto r1 = Sh(run + "--name " + priv + " --privileged " + fx.image + " /bin/sh -c vigilctrmark 2>&1");
  auto r2 = Sh(run + "--name " + mnt + " -v /etc:/host-etc:ro -v /proc:/host/proc:ro " + fx.image +
               " /bin/sh -c vigilctrmark 2>&1");
  std::printf("two podman runs: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  INFO(r1.first << "\n" << r2.first);
  REQUIRE(r1.second == 127);  // the marked "applet" is not found: the container ran
  REQUIRE(r2.second == 127);
  const std::string priv_id = Sh("podman inspect --format '{{.Id}}' " + priv).first;
  const std::string mnt_id = Sh("podman inspect --format '{{.Id}}' " + mnt).first;
  const std::string slow_id = Sh("podman inspect --format '{{.Id}}' " + slow).first;
  REQUIRE(priv_id.size() == 64);
  REQUIRE(mnt_id.size() == 64);
  REQUIRE(slow_id.size() == 64);
  auto removed_count = [&](const std::string& id) {
    return Sh("grep -c 'container removed (id=" + id.substr(0, 12) + "' " + fx.dir + "/alerts.json 2>/dev/null").first;
  };
  // Still running (several listings went by): not announced removed.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const std::string slow_state = Sh("podman inspect --format '{{.State.Status}}' " + slow).first;
  const std::string slow_removed_early = removed_count(slow_id);
  REQUIRE(Sh("podman wait " + slow + " 2>&1").second == 0);
  // How long each lived, as podman recorded it.
  auto lifetime = [&](const std::string& name) {
    const std::string cmd = "podman inspect --format '{{.State.StartedAt.UnixNano}} {{.State.FinishedAt.UnixNano}}' " + name;
    long long started = 0, finished = 0;
    std::sscanf(Sh(cmd).first.c_str(), "%lld %lld", &started, &finished);
    return (finished - started) / 1e9;
  };
  const double life_priv = lifetime(priv), life_mnt = lifetime(mnt), life_slow = lifetime(slow);
  std::printf("container lifetimes: privileged %.3f s, mounts %.3f s, slow %.3f s\n", life_priv, life_mnt, life_slow);

  // All exited: the next listing (every 500 ms) forgets them and vigil
  // announces it. Wait for the three announcements in the file sink (at most
  // 15 s), then four more listings, in which a second announcement would come.
  const auto t_exit = std::chrono::steady_clock::now();
  for (int i = 0; i < 150; ++i) {
    if (removed_count(priv_id) == "1" && removed_count(mnt_id) == "1" && removed_count(slow_id) == "1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("container_removed events after %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_exit).count());
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  std::vector<SeenAlert> alerts;
  REQUIRE(FinishSteps(vigil, fx.dir, &alerts) == "");
  const std::string log = vigil.LogTail(20000);
  INFO(log);

  INFO("slow container state after the short ones: " << slow_state);
  CHECK(slow_state == "running");
  CHECK(slow_removed_early == "0");
  // The short ones lived well under a second, the slow one several. (podman
  // stamps a container of a few ms with a FinishedAt that can precede its
  // StartedAt by a few ms: only the upper bound is checked.)
  CHECK(life_priv < 1.0);
  CHECK(life_mnt < 1.0);
  CHECK(life_slow >= 5.5);

  struct Case {
    std::string name, id, priv, mounts;
  };
  const Case cases[] = {
      {priv, priv_id, "true", ""},
      {mnt, mnt_id, "false", "/etc:/host-etc::false"},
      {slow, slow_id, "false", ""},
  };
  for (const auto& c : cases)
    CHECK(MarkerMismatches(alerts, {c.name, c.id, fx.image, repo, tag, c.priv, c.mounts}) == "");
  // The container event and the init's exec come with the container's first
  // events: these fire only because they were held until the metadata arrived
  // (containers.hold_ms).
  const std::string p12 = priv_id.substr(0, 12), m12 = mnt_id.substr(0, 12);
  for (const char* type : {"container", "execve"}) {
    INFO("evt.type " << type);
    CHECK(FindContainerAlert(alerts, "Launch Privileged Container", p12, type) != nullptr);
    CHECK(FindContainerAlert(alerts, "Launch Sensitive Mount Container", m12, type) != nullptr);
  }
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", m12) == nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Sensitive Mount Container", p12) == nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", slow_id.substr(0, 12)) == nullptr);
  // Start and stop: each container announced started once with its metadata
  // (a start that went out without it may be followed by one with it) and
  // removed exactly once, after that start, with its metadata (the cache's
  // copy, taken as the entry was evicted); Falco's start rules
  // (evt.type = container) do not fire on the removal. Regression: before
  // this, a short container was announced removed twice (late events
  // re-created its cache entry) and its start went without metadata.
  for (const auto& c : cases) {
    const std::string short_id = c.id.substr(0, 12);
    INFO("start/stop of " << c.name << " " << short_id);
    int started = 0, removed = 0;
    std::ptrdiff_t first_start = -1, first_removed = -1;
    for (std::size_t i = 0; i < alerts.size(); ++i) {
      const auto& a = alerts[i];
      if (a.Field("container.id") != short_id) continue;
      if (a.rule == vigil::e2e::kContainerEventRule && a.Field("container.name") == c.name) {
        ++started;
        if (first_start < 0) first_start = static_cast<std::ptrdiff_t>(i);
      }
      if (a.rule != vigil::e2e::kContainerRemovedRule) continue;
      ++removed;
      if (first_removed < 0) first_removed = static_cast<std::ptrdiff_t>(i);
      CHECK(a.Field("evt.type") == "container_removed");
      CHECK(a.Field("container.name") == c.name);
      CHECK(a.Field("container.image") == fx.image);
      CHECK(a.Field("container.privileged") == c.priv);
    }
    CHECK(started == 1);
    CHECK(removed == 1);
    CHECK(first_start >= 0);
    CHECK(first_removed > first_start);
    CHECK(FindContainerAlert(alerts, "Launch Privileged Container", short_id, "container_removed") == nullptr);
  }
}
