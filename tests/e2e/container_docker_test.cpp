// SPDX-License-Identifier: Apache-2.0
// Container metadata with real Docker (label root): Debian's docker.io
// (dockerd, its own containerd, runc), started by the test on a private
// socket, data-root and exec-root, without iptables, bridge or overlayfs, so
// the host's configuration is untouched; an image imported from a
// busybox-static rootfs (nothing is pulled) and the real `vigil run` reading
// the Docker Engine API. A privileged container and one with a host bind mount
// each exec a marked command: the alerts must carry the container's id, name,
// image, repository, tag, privileged flag and mounts; vigil's `container`
// event must make Falco's Launch Privileged Container and Launch Sensitive
// Mount Container fire (Falco's container_started of the time it had that
// event type). Then containerd's own CLI (ctr, on dockerd's containerd, in
// its `default` namespace) runs a container: its id comes from its cgroup
// path (/default/<id>) and it gets a container event; no runtime vigil asks
// knows it, so its metadata is <NA>.
//
// When dockerd itself cannot start here the test says why and exits 77, which
// CTest reports as skipped (SKIP_RETURN_CODE); any later failure fails it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
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

// The docker.io client (/usr/bin/docker); another `docker` earlier in PATH
// may be a different build.
std::string DockerCli() { return access("/usr/bin/docker", X_OK) == 0 ? "/usr/bin/docker" : "docker"; }

// Capabilities the kernel has (up to cap_last_cap) that this process's
// bounding set lacks. docker 20.10's --privileged asks runc for every
// capability the kernel knows, which fails ("unable to apply caps: operation
// not permitted") where the bounding set is narrower, as in this host's
// sandbox (no CAP_SYS_RESOURCE); podman takes the bounding set.
std::vector<std::string> MissingBoundingCaps() {
  static const char* const kNames[] = {
      "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
      "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
      "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
      "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
      "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
      "CHECKPOINT_RESTORE"};
  const auto bnd = Sh("awk '/^CapBnd:/ {print $2}' /proc/self/status");
  const auto last = Sh("cat /proc/sys/kernel/cap_last_cap");
  std::vector<std::string> missing;
  if (bnd.second != 0 || last.second != 0 || bnd.first.empty()) return missing;
  const unsigned long long set = std::stoull(bnd.first, nullptr, 16);
  const int top = std::min(std::stoi(last.first), static_cast<int>(std::size(kNames)) - 1);
  for (int c = 0; c <= top; ++c)
    if (((set >> c) & 1ull) == 0) missing.push_back(std::string("CAP_") + kNames[c]);
  return missing;
}

// A private dockerd and everything the test makes with it; Cleanup() (also
// from the destructor, when a REQUIRE fails) removes the containers, stops the
// daemon (which stops its containerd) and deletes the directory.
struct DockerFixture {
  std::string dir, sock, cli;
  std::vector<std::string> names;
  pid_t daemon = -1;

  ~DockerFixture() { Cleanup(); }

  std::string Docker() const { return cli + " -H unix://" + sock + " "; }

  // Where the bounding set lacks capabilities, a runc wrapper takes them out
  // of the container's config before runc sees it (what podman does itself);
  // the container is still --privileged to docker and its API. Returns the
  // dockerd flags that install it as the default runtime ("" when not needed).
  std::string RuncWrapper(const std::vector<std::string>& drop) {
    if (drop.empty()) return "";
    const std::string path = dir + "/runc-wrapper";
    std::string list;
    for (const auto& c : drop) list += (list.empty() ? "" : " ") + c;
    std::ofstream(path) << "#!/bin/sh\n"
                           "prev=; bundle=\n"
                           "for a; do [ \"$prev\" = --bundle ] && bundle=$a; prev=$a; done\n"
                           "if [ -n \"$bundle\" ] && [ -f \"$bundle/config.json\" ]; then\n"
                           "  python3 -c 'import json,sys\n"
                           "p=sys.argv[1]; drop=set(sys.argv[2:]); c=json.load(open(p))\n"
                           "caps=c.get(\"process\",{}).get(\"capabilities\",{})\n"
                           "for k in caps: caps[k]=[x for x in caps[k] if x not in drop]\n"
                           "json.dump(c,open(p,\"w\"))' \"$bundle/config.json\" "
                        << list << " || exit 1\n"
                        << "fi\nexec runc \"$@\"\n";
    chmod(path.c_str(), 0755);
    return "--add-runtime=vigil-runc=" + path + " --default-runtime=vigil-runc";
  }

  // "" when the daemon answers; else what went wrong, with its log's tail.
  std::string Start(const std::string& runtime_flags) {
    sock = dir + "/docker.sock";
    const std::string host = "unix://" + sock;
    // No iptables rules, no docker0 bridge (containers run --network none),
    // vfs storage (no overlay mounts to leave behind), its own paths.
    std::vector<std::string> args = {"dockerd", "--config-file", dir + "/daemon.json", "--host", host,
                                     "--data-root", dir + "/data", "--exec-root", dir + "/exec",
                                     "--pidfile", dir + "/dockerd.pid", "--iptables=false", "--ip6tables=false",
                                     "--bridge=none", "--storage-driver=vfs"};
    for (std::size_t at = 0; at < runtime_flags.size();) {
      std::size_t sp = runtime_flags.find(' ', at);
      if (sp == std::string::npos) sp = runtime_flags.size();
      if (sp > at) args.push_back(runtime_flags.substr(at, sp - at));
      at = sp + 1;
    }
    daemon = vigil::e2e::SpawnDaemon(args, dir + "/dockerd.log");
    if (daemon < 0) return "fork failed";
    return vigil::e2e::WaitDaemon(&daemon, "dockerd on " + sock, dir + "/dockerd.log", 300, [&] {
      struct stat sst{};
      return stat(sock.c_str(), &sst) == 0 && Sh(Docker() + "version >/dev/null 2>&1").second == 0;
    });
  }

  void Cleanup() {
    if (daemon > 0)
      for (const auto& n : names) Sh(Docker() + "rm -f " + n + " >/dev/null 2>&1");
    vigil::e2e::StopDaemon(&daemon, 200);
    if (!dir.empty()) {
      Sh("rm -rf " + dir);
      dir.clear();
    }
  }
};

}  // namespace

TEST_CASE("docker containers: id, name, image, privileged and mounts on alerts; Falco's container rules fire",
          "[root]") {
  if (Sh("command -v dockerd && command -v runc").second != 0)
    FAIL("dockerd and runc are required (docker.io, scripts/install-deps.sh)");
  DockerFixture fx;
  fx.cli = DockerCli();
  fx.dir = vigil::e2e::MakeTestDir("vigil-dkr");
  REQUIRE(Sh("echo '{}' > " + fx.dir + "/daemon.json").second == 0);
  const auto drop = MissingBoundingCaps();
  for (const auto& c : drop)
    std::printf("this host's bounding set lacks %s: privileged containers run through a runc wrapper without it\n",
                c.c_str());
  vigil::e2e::StartDaemonOrSkip("dockerd", [&] { return fx.Start(fx.RuncWrapper(drop)); }, [&] { fx.Cleanup(); });

  const std::string tag = std::to_string(getpid());
  const std::string repo = "vigil-ctr-test";
  const std::string image = repo + ":" + tag;
  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(vigil::e2e::MakeBusyboxRootfs(rootfs) == "");
  auto imported = Sh("tar -C " + rootfs + " -c . | " + fx.Docker() + "import - " + image + " 2>&1");
  INFO(imported.first);
  REQUIRE(imported.second == 0);

  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), vigil::e2e::WriteMarkerRule(fx.dir),
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-sandbox_rules.yaml",
                              vigil::e2e::WriteEventContainerStarted(fx.dir)});
  vigil.set_extra_config("containers:\n  docker_socket: " + fx.sock + "\n  podman_socket: \"\"\n");
  const std::string started = vigil.Start();
  INFO(started);
  REQUIRE(started == "");
  // A second agent that never holds (hold_ms: 0) watches the same runs: its
  // container events go to the rules before the metadata and must come again
  // with it, and Falco's rule must fire on that second one.
  const std::string dir0 = fx.dir + "/hold0";
  REQUIRE(Sh("mkdir -p " + dir0).second == 0);
  VigilProcess vigil0(dir0, {vigil::e2e::WriteSentinelRule(dir0), vigil::e2e::WriteMarkerRule(dir0),
                             std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                             vigil::e2e::WriteEventContainerStarted(dir0)});
  vigil0.set_extra_config("containers:\n  docker_socket: " + fx.sock + "\n  podman_socket: \"\"\n  hold_ms: 0\n");
  const std::string started0 = vigil0.Start();
  INFO(started0);
  REQUIRE(started0 == "");

  const std::string run = fx.Docker() + "run --network none ";
  const std::string priv = "vigil-dkr-priv-" + tag, mnt = "vigil-dkr-mnt-" + tag;
  fx.names = {priv, mnt};
  const auto t1 = std::chrono::steady_clock::now();
  auto r1 = Sh(run + "--name " + priv + " --privileged " + image + " /bin/sh -c vigilctrmark 2>&1");
  auto r2 = Sh(run + "--name " + mnt + " -v /etc:/host-etc:ro " + image + " /bin/sh -c vigilctrmark 2>&1");
  std::printf("two docker runs: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
  INFO(r1.first << "\n" << r2.first);
  REQUIRE(r1.second == 127);  // the marked "applet" is not found: the container ran
  REQUIRE(r2.second == 127);
  // ctr: the image saved from dockerd, imported into containerd's default
  // namespace (native snapshotter: no overlay mounts), a 64-hex id as CRI uses.
  const std::string cs = fx.dir + "/exec/containerd/containerd.sock";
  const std::string ctr = "ctr -a " + cs + " -n default ";
  const std::string ctr_id = Sh("head -c 32 /dev/urandom | sha256sum | cut -c1-64").first;
  REQUIRE(ctr_id.size() == 64);
  const auto t2 = std::chrono::steady_clock::now();
  auto saved = Sh(fx.Docker() + "save " + image + " | " + ctr + "images import --snapshotter native - 2>&1");
  INFO(saved.first);
  REQUIRE(saved.second == 0);
  auto r3 = Sh(ctr + "run --rm --snapshotter native docker.io/library/" + image + " " + ctr_id +
               " /bin/sh -c vigilctrmark 2>&1");
  std::printf("ctr import and run: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count());
  INFO(r3.first);
  REQUIRE(r3.second == 127);
  const std::string priv_id = Sh(fx.Docker() + "inspect --format '{{.Id}}' " + priv).first;
  const std::string mnt_id = Sh(fx.Docker() + "inspect --format '{{.Id}}' " + mnt).first;
  REQUIRE(priv_id.size() == 64);
  REQUIRE(mnt_id.size() == 64);

  const std::string sentinel = vigil::e2e::AwaitSentinel(vigil, fx.dir);
  INFO(sentinel << "\n" << vigil.LogTail());
  REQUIRE(sentinel == "");
  const std::string sentinel0 = vigil::e2e::AwaitSentinel(vigil0, dir0);
  INFO(sentinel0 << "\n" << vigil0.LogTail());
  REQUIRE(sentinel0 == "");
  REQUIRE(vigil.Stop() == "");
  REQUIRE(vigil0.Stop() == "");
  const auto alerts = vigil.Alerts();
  const auto alerts0 = vigil0.Alerts();
  INFO(vigil.LogTail(20000));

  struct Case {
    std::string name, id, priv, mount;
  };
  const Case cases[] = {
      {priv, priv_id, "true", ""},
      {mnt, mnt_id, "false", "/etc:/host-etc:ro:false"},
  };
  for (const auto& c : cases)
    CHECK(vigil::e2e::MarkerMismatches(alerts, {c.name, c.id, image, repo, tag, c.priv, c.mount}) == "");
  // vigil's container event (evt.type = container) fires Falco's rules with
  // the metadata, each on the right container only.
  const std::string p12 = priv_id.substr(0, 12), m12 = mnt_id.substr(0, 12);
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", p12, "container") != nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Sensitive Mount Container", m12, "container") != nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", m12) == nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Sensitive Mount Container", p12) == nullptr);
  // One container event per container with its metadata (a second one
  // without it only if the hold let the first go before it came).
  for (const auto& id : {p12, m12}) {
    int with_meta = 0;
    for (const auto& a : alerts)
      if (a.rule == vigil::e2e::kContainerEventRule && a.Field("container.id") == id &&
          a.Field("container.image.repository") == repo)
        ++with_meta;
    CHECK(with_meta == 1);
  }

  // hold_ms: 0: the privileged container's event first without metadata
  // (Falco's container_started is false: the image is <NA>), then again with it.
  {
    INFO("hold_ms: 0 agent\n" << vigil0.LogTail(20000));
    int without = 0, with = 0;
    for (const auto& a : alerts0) {
      if (a.rule != vigil::e2e::kContainerEventRule || a.Field("container.id") != p12) continue;
      const std::string r = a.Field("container.image.repository");
      if (r == "<NA>") ++without;
      if (r == repo) ++with;
    }
    CHECK(without == 1);
    CHECK(with == 1);
    // Its condition needs container.privileged=true: only the second can fire it.
    CHECK(FindContainerAlert(alerts0, "Launch Privileged Container", p12, "container") != nullptr);
  }

  // The ctr container: recognised from /default/<id>, announced, no metadata.
  const std::string c12 = ctr_id.substr(0, 12);
  const SeenAlert* cm = FindContainerAlert(alerts, vigil::e2e::kMarkerRule, c12);
  REQUIRE(cm != nullptr);
  CHECK(cm->Field("container.id") == c12);
  CHECK(cm->Field("container.image.repository") == "<NA>");
  CHECK(FindContainerAlert(alerts, vigil::e2e::kContainerEventRule, c12) != nullptr);
}
