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
// because vigil held them until it arrived.
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

using vigil::e2e::FindContainerAlert;
using vigil::e2e::SeenAlert;
using vigil::e2e::Sh;
using vigil::e2e::VigilProcess;

// Everything the test creates outside its directory goes away here, also when
// a REQUIRE fails: the containers, the image, the API service.
struct PodmanFixture {
  std::string dir, image, sock;
  std::vector<std::string> names;
  pid_t service = -1;

  ~PodmanFixture() {
    for (const auto& n : names) Sh("podman rm -f -t 0 " + n + " >/dev/null 2>&1");
    if (!image.empty()) Sh("podman rmi -f " + image + " >/dev/null 2>&1");
    if (service > 0) {
      kill(service, SIGTERM);
      waitpid(service, nullptr, 0);
    }
    if (!dir.empty()) Sh("rm -rf " + dir);
  }

  std::string StartService() {
    service = fork();
    if (service < 0) return "fork failed";
    if (service == 0) {
      const std::string uri = "unix://" + sock;
      execlp("podman", "podman", "system", "service", "--time=0", uri.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      struct stat st{};
      if (stat(sock.c_str(), &st) == 0) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "podman system service did not create " + sock + " within 10 s";
  }
};

}  // namespace

TEST_CASE("podman containers: id, name, image, privileged and mounts on alerts; Falco's container rules fire",
          "[root]") {
  if (Sh("command -v podman && command -v runc").second != 0) FAIL("podman and runc are required (scripts/install-deps.sh)");
  PodmanFixture fx;
  char tmpl[] = "/tmp/vigil-ctr-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  fx.dir = tmpl;
  fx.sock = fx.dir + "/podman.sock";
  const std::string tag = std::to_string(getpid());
  const std::string repo = "localhost/vigil-ctr-test";

  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(vigil::e2e::MakeBusyboxRootfs(rootfs) == "");
  fx.image = repo + ":" + tag;
  auto imported = Sh("tar -C " + rootfs + " -c . | podman import - " + fx.image + " 2>&1");
  INFO(imported.first);
  REQUIRE(imported.second == 0);
  REQUIRE(fx.StartService() == "");

  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), vigil::e2e::WriteMarkerRule(fx.dir),
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml",
                              vigil::e2e::WriteEventContainerStarted(fx.dir)});
  vigil.set_extra_config("containers:\n  docker_socket: \"\"\n  podman_socket: " + fx.sock + "\n");
  const std::string started = vigil.Start();
  INFO(started);
  REQUIRE(started == "");

  // crun refuses this host's cgroup v1 hybrid layout; podman's default
  // RLIMIT_NOFILE/NPROC exceed what runc may set here.
  const std::string run = "podman run --runtime runc --network none --ulimit nofile=1024:1024 "
                          "--ulimit nproc=1024:1024 ";
  const std::string priv = "vigil-ctr-priv-" + tag, mnt = "vigil-ctr-mnt-" + tag;
  fx.names = {priv, mnt};
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
  REQUIRE(priv_id.size() == 64);
  REQUIRE(mnt_id.size() == 64);

  const std::string sentinel = vigil::e2e::AwaitSentinel(vigil, fx.dir);
  INFO(sentinel << "\n" << vigil.LogTail());
  REQUIRE(sentinel == "");
  REQUIRE(vigil.Stop() == "");
  const auto alerts = vigil.Alerts();
  const std::string log = vigil.LogTail(20000);
  INFO(log);

  struct Case {
    std::string name, id, priv, mounts;
  };
  const Case cases[] = {
      {priv, priv_id, "true", ""},
      {mnt, mnt_id, "false", "/etc:/host-etc::false"},
  };
  for (const auto& c : cases) {
    const std::string short_id = c.id.substr(0, 12);
    INFO(c.name << " " << short_id);
    const SeenAlert* m = FindContainerAlert(alerts, vigil::e2e::kMarkerRule, short_id);
    REQUIRE(m != nullptr);
    CHECK(m->Field("container.id") == short_id);
    CHECK(m->Field("container.name") == c.name);
    CHECK(m->Field("container.image") == fx.image);
    CHECK(m->Field("container.image.repository") == repo);
    CHECK(m->Field("container.image.tag") == tag);
    CHECK(m->Field("container.privileged") == c.priv);
    INFO("container.mounts=" << m->Field("container.mounts"));
    if (!c.mounts.empty()) CHECK(m->Field("container.mounts").find(c.mounts) != std::string::npos);
  }
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
}
