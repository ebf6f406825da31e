// SPDX-License-Identifier: Apache-2.0
// Container metadata with a real runtime (label root): podman + runc, an image
// imported from a busybox-static rootfs (nothing is pulled), podman's
// Docker-compatible API service on a private socket, and the real `vigil run`.
// A privileged container and one with host bind mounts each exec a marked
// command; the alerts must carry the container's id, name, image, privileged
// flag and mounts, and Falco's Launch Privileged Container / Launch Sensitive
// Mount Container must fire on each container's first exec (its init), which
// only has the metadata because vigil held it until the metadata arrived.
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

#include "tests/e2e/vigil_harness.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif

namespace {

using vigil::e2e::SeenAlert;
using vigil::e2e::VigilProcess;

// Runs a shell command; returns its stdout (trailing newline cut) and exit code.
std::pair<std::string, int> Sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return {out, WIFEXITED(st) ? WEXITSTATUS(st) : -1};
}

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

const SeenAlert* Find(const std::vector<SeenAlert>& alerts, const std::string& rule, const std::string& short_id) {
  for (const auto& a : alerts)
    if (a.rule == rule && (a.Field("container.id") == short_id || a.container.rfind(short_id, 0) == 0)) return &a;
  return nullptr;
}

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

  // The image: busybox-static and three names for it; vigilctrmark is the
  // marked command (busybox knows no such applet; the exec is what counts).
  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(Sh("mkdir -p " + rootfs + "/bin " + rootfs + "/proc " + rootfs + "/sys " + rootfs + "/dev && cp " +
             "/bin/busybox " + rootfs + "/bin/busybox && ln -s busybox " + rootfs + "/bin/sh && ln -s busybox " +
             rootfs + "/bin/vigilctrmark")
              .second == 0);
  fx.image = repo + ":" + tag;
  auto imported = Sh("tar -C " + rootfs + " -c . | podman import - " + fx.image + " 2>&1");
  INFO(imported.first);
  REQUIRE(imported.second == 0);
  REQUIRE(fx.StartService() == "");

  const std::string marker_rules = fx.dir + "/marker.yaml";
  std::ofstream(marker_rules)
      << "- rule: Container Marker\n"
         "  desc: the container test's marked command\n"
         "  condition: evt.type in (execve, execveat) and proc.name = vigilctrmark\n"
         "  output: marker (id=%container.id name=%container.name image=%container.image "
         "repo=%container.image.repository tag=%container.image.tag priv=%container.privileged "
         "mounts=%container.mounts)\n"
         "  priority: NOTICE\n";
  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), marker_rules,
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml"});
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
    const SeenAlert* m = Find(alerts, "Container Marker", short_id);
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
  // The init's exec is each container's first event: these fire only because
  // it was held until the metadata arrived (containers.hold_ms).
  CHECK(Find(alerts, "Launch Privileged Container", priv_id.substr(0, 12)) != nullptr);
  CHECK(Find(alerts, "Launch Privileged Container", mnt_id.substr(0, 12)) == nullptr);
  CHECK(Find(alerts, "Launch Sensitive Mount Container", mnt_id.substr(0, 12)) != nullptr);
  CHECK(Find(alerts, "Launch Sensitive Mount Container", priv_id.substr(0, 12)) == nullptr);
}
