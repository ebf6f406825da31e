// SPDX-License-Identifier: Apache-2.0
// Container metadata from containerd's CRI plugin (label root): Debian's
// containerd, started by the test with its own configuration, root, state and
// socket under a temporary directory (CRI plugin on, native snapshotter,
// runc, cgroupfs driver, no CNI: the pod uses the host's network namespace);
// an OCI image built here from a busybox-static rootfs and imported with
// `ctr -n k8s.io images import` (nothing is pulled), also the pod's sandbox
// image. cri_test_client (the same generated CRI stubs as vigil's) runs a pod
// with a name, namespace, uid and a label, and in it a container that execs
// a marked command; the real `vigil run`, asking that containerd over CRI,
// must put the pod's name, namespace, uid and label and the container's name
// and image on the marked exec's alert and on the container's `container`
// event; the pod's sandbox gets a `container` event of its own, with the
// pod's name (its id is asked again until containerd knows it). A second,
// privileged pod's container must report container.privileged true (from
// CRI's verbose status) and fire Falco's Launch Privileged Container; the
// first reports false.
//
// When containerd itself cannot start here the test says why and exits 77
// (CTest: skipped); any later failure fails it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/container_support.h"
#include "tests/e2e/vigil_harness.h"

#ifndef VIGIL_FALCO_RULES_DIR
#error "VIGIL_FALCO_RULES_DIR must point at shared/corpus/falco-rules"
#endif
#ifndef VIGIL_CRI_TEST_CLIENT
#error "VIGIL_CRI_TEST_CLIENT must name the cri_test_client binary"
#endif

namespace {

constexpr const char* kImage = "docker.io/vigil/busybox:test";
constexpr const char* kCriMarker = "CRI Marker";
constexpr const char* kCriEvent = "CRI Container Event";

// Sh, VigilProcess, SeenAlert, FindContainerAlert and the marker rules.
using namespace vigil::e2e;

// containerd 1.6's configuration (version 2) with every path under `dir`.
std::string ContainerdConfig(const std::string& dir) {
  std::ostringstream c;
  c << "version = 2\n"
    << "root = \"" << dir << "/root\"\n"
    << "state = \"" << dir << "/state\"\n"
    << "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
       "\"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\"]\n"
    << "[grpc]\n  address = \"" << dir << "/containerd.sock\"\n"
    << "[ttrpc]\n  address = \"" << dir << "/containerd.sock.ttrpc\"\n"
    << "[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n"
    << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << dir << "/opt\"\n"
    << "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
    << "  sandbox_image = \"" << kImage << "\"\n"
    << "  stream_server_address = \"127.0.0.1\"\n  stream_server_port = \"0\"\n"
    // CRI gives a sandbox oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE,
    // which this host's root lacks (runc init then dies): keep the caller's floor.
    << "  restrict_oom_score_adj = true\n"
    << "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
    << "    snapshotter = \"native\"\n    default_runtime_name = \"runc\"\n"
    << "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    << "      runtime_type = \"io.containerd.runc.v2\"\n"
    << "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
    << "        SystemdCgroup = false\n"
    << "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
    << "    bin_dir = \"" << dir << "/cni-bin\"\n    conf_dir = \"" << dir << "/cni-conf\"\n";
  return c.str();
}

// An OCI image layout tarball (one uncompressed layer: the rootfs) at `out`,
// named kImage for containerd's importer; "" or why not.
std::string MakeOciArchive(const std::string& rootfs, const std::string& work, const std::string& out) {
  const std::string script =
      "set -e; cd " + work + "; mkdir -p img/blobs/sha256; tar -C " + rootfs + " -cf layer.tar .\n" +
      "blob() { d=$(sha256sum \"$1\" | cut -c1-64); s=$(stat -c %s \"$1\"); mv \"$1\" img/blobs/sha256/$d; "
      "echo \"$d $s\"; }\n"
      "set -- $(blob layer.tar); L=$1; LS=$2\n"
      "printf '{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"sleep "
      "3600\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}' $L > config.json\n"
      "set -- $(blob config.json); C=$1; CS=$2\n"
      "printf '{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
      "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%s},"
      "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\","
      "\"size\":%s}]}' $C $CS $L $LS > manifest.json\n"
      "set -- $(blob manifest.json); M=$1; MS=$2\n"
      "printf '{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"digest\":\"sha256:%s\",\"size\":%s,\"annotations\":{\"io.containerd.image.name\":\"" +
      std::string(kImage) +
      "\"}}]}' $M $MS > img/index.json\n"
      "echo '{\"imageLayoutVersion\":\"1.0.0\"}' > img/oci-layout\n"
      "tar -C img -cf " +
      out + " .\n";
  const std::string path = work + "/make-oci.sh";
  std::ofstream(path) << script;
  auto r = Sh("sh " + path + " 2>&1");
  return r.second == 0 ? "" : "OCI archive: " + r.first;
}

// The test's rules: the marked exec and every container event, with the
// container and Kubernetes fields in their output. Returns the file's path.
std::string WriteCriRules(const std::string& dir) {
  const std::string fields =
      "(id=%container.id name=%container.name image=%container.image type=%container.type "
      "pod=%k8s.pod.name ns=%k8s.ns.name uid=%k8s.pod.uid app=%k8s.pod.label[app] "
      "repo=%container.image.repository priv=%container.privileged)";
  const std::string path = dir + "/cri.yaml";
  std::ofstream(path) << RuleYaml(kCriMarker, "the CRI test's marked command",
                                  "evt.type in (execve, execveat) and proc.name = vigilctrmark", "cri marker " + fields,
                                  "NOTICE")
                      << RuleYaml(kCriEvent, "vigil's container start event", "evt.type = container",
                                  "cri container " + fields, "INFO");
  return path;
}

// The private containerd; Cleanup() (also from the destructor, when a
// REQUIRE fails) stops it and the shims it started (found by our socket path
// on their command line, killed by pid), unmounts what they left under the
// directory and deletes it.
struct ContainerdFixture {
  std::string dir, sock;
  pid_t daemon = -1;

  ~ContainerdFixture() { Cleanup(); }

  std::string Ctr() const { return "ctr -a " + sock + " -n k8s.io "; }

  // "" when containerd answers; else what went wrong, with its log's tail.
  std::string Start() {
    sock = dir + "/containerd.sock";
    std::ofstream(dir + "/config.toml") << ContainerdConfig(dir);
    Sh("mkdir -p " + dir + "/cni-bin " + dir + "/cni-conf " + dir + "/logs");
    daemon = vigil::e2e::SpawnDaemon({"containerd", "--config", dir + "/config.toml"}, dir + "/containerd.log");
    if (daemon < 0) return "fork failed";
    return vigil::e2e::WaitDaemon(&daemon, "containerd on " + sock, dir + "/containerd.log", 200, [&] {
      struct stat sst{};
      return stat(sock.c_str(), &sst) == 0 && Sh(Ctr() + "version >/dev/null 2>&1").second == 0;
    });
  }

  void Cleanup() {
    vigil::e2e::StopDaemon(&daemon, 100);
    if (!dir.empty()) {
      // Shims of this containerd outlive it; they carry its address.
      Sh("for p in $(grep -l -F -- '" + sock + "' /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do "
         "kill -9 $p 2>/dev/null; done");
      Sh("grep -F ' " + dir + "/' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null");
      Sh("rm -rf " + dir);
      dir.clear();
    }
  }
};

}  // namespace

TEST_CASE("containerd CRI containers: pod name, namespace, uid, labels, container name and image on alerts",
          "[root]") {
  if (Sh("command -v containerd && command -v ctr && command -v runc && command -v containerd-shim-runc-v2").second != 0)
    FAIL("containerd, ctr, containerd-shim-runc-v2 and runc are required (containerd, runc: scripts/install-deps.sh)");
  ContainerdFixture fx;
  fx.dir = vigil::e2e::MakeTestDir("vigil-cri");
  vigil::e2e::StartDaemonOrSkip("containerd", [&] { return fx.Start(); }, [&] { fx.Cleanup(); });

  const std::string rootfs = fx.dir + "/rootfs";
  REQUIRE(vigil::e2e::MakeBusyboxRootfs(rootfs) == "");
  REQUIRE(Sh("ln -s busybox " + rootfs + "/bin/sleep").second == 0);
  const std::string archive = fx.dir + "/image.tar";
  REQUIRE(MakeOciArchive(rootfs, fx.dir, archive) == "");
  auto imported = Sh(fx.Ctr() + "images import --snapshotter native " + archive + " 2>&1");
  INFO(imported.first);
  REQUIRE(imported.second == 0);

  VigilProcess vigil(fx.dir, {vigil::e2e::WriteSentinelRule(fx.dir), WriteCriRules(fx.dir),
                              std::string(VIGIL_FALCO_RULES_DIR) + "/falco-incubating_rules.yaml",
                              vigil::e2e::WriteEventContainerStarted(fx.dir)});
  vigil.set_extra_config("containers:\n  docker_socket: \"\"\n  podman_socket: \"\"\n  containerd_socket: " +
                         fx.sock + "\n  crio_socket: \"\"\n");
  const std::string started = vigil.Start();
  INFO(started);
  REQUIRE(started == "");

  const std::string tag = std::to_string(getpid());
  const std::string pod = "vigil-pod-" + tag, ns = "vigil-ns", uid = "4c1d7f0e-0000-4000-8000-" + std::string(12 - tag.size(), '0') + tag;
  const std::string cname = "vigil-ctr";
  const auto t1 = std::chrono::steady_clock::now();
  // The marked exec comes a second after the container's first process, when
  // its metadata has long been fetched (the hold is container_docker_test's).
  auto client = Sh(std::string(VIGIL_CRI_TEST_CLIENT) + " " + fx.sock + " " + kImage + " " + pod + " " + ns + " " +
                   uid + " app=vigil-web " + cname + " " + fx.dir + "/logs /bin/sh -c 'sleep 1; exec /bin/vigilctrmark' 2>&1");
  std::printf("cri_test_client: %.1f s\n%s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count(), client.first.c_str());
  INFO(client.first << "\n" << Sh("tail -20 " + fx.dir + "/containerd.log").first);
  REQUIRE(client.second == 0);
  REQUIRE(client.first.find("exit 127") != std::string::npos);  // busybox has no such applet: the exec happened
  std::string sandbox_id, container_id;
  {
    std::istringstream lines(client.first);
    std::string key, value;
    while (lines >> key >> value) {
      if (key == "sandbox") sandbox_id = value;
      if (key == "container") container_id = value;
    }
  }
  REQUIRE(sandbox_id.size() == 64);
  REQUIRE(container_id.size() == 64);

  // A privileged pod: CRI's status has no privileged flag, its verbose info does.
  const std::string ppod = "vigil-priv-pod-" + tag, puid = "4c1d7f0e-0000-4000-8001-" + std::string(12 - tag.size(), '0') + tag;
  auto pclient = Sh(std::string(VIGIL_CRI_TEST_CLIENT) + " --privileged " + fx.sock + " " + kImage + " " + ppod + " " +
                    ns + " " + puid + " app=vigil-priv " + cname + " " + fx.dir +
                    "/logs /bin/sh -c 'sleep 1; exec /bin/vigilctrmark' 2>&1");
  std::printf("cri_test_client --privileged:\n%s\n", pclient.first.c_str());
  INFO(pclient.first << "\n" << Sh("tail -20 " + fx.dir + "/containerd.log").first);
  REQUIRE(pclient.second == 0);
  REQUIRE(pclient.first.find("exit 127") != std::string::npos);
  std::string priv_container_id;
  {
    std::istringstream lines(pclient.first);
    std::string key, value;
    while (lines >> key >> value)
      if (key == "container") priv_container_id = value;
  }
  REQUIRE(priv_container_id.size() == 64);

  std::vector<SeenAlert> alerts;
  REQUIRE(FinishSteps(vigil, fx.dir, &alerts) == "");
  INFO(vigil.LogTail(20000));

  const std::string c12 = container_id.substr(0, 12), s12 = sandbox_id.substr(0, 12);
  const SeenAlert* m = FindContainerAlert(alerts, kCriMarker, c12);
  REQUIRE(m != nullptr);
  CHECK(m->Field("container.id") == c12);
  CHECK(m->Field("container.name") == cname);
  CHECK(m->Field("container.image") == kImage);
  CHECK(m->Field("container.image.repository") == "docker.io/vigil/busybox");
  CHECK(m->Field("container.type") == "containerd");
  CHECK(m->Field("k8s.pod.name") == pod);
  CHECK(m->Field("k8s.ns.name") == ns);
  CHECK(m->Field("k8s.pod.uid") == uid);
  CHECK(m->Field("k8s.pod.label[app]") == "vigil-web");
  CHECK(m->Field("container.privileged") == "false");
  // The privileged pod's container: privileged from the verbose status, and Falco's rule fires on its start.
  const std::string p12 = priv_container_id.substr(0, 12);
  const SeenAlert* pm = FindContainerAlert(alerts, kCriMarker, p12);
  REQUIRE(pm != nullptr);
  CHECK(pm->Field("k8s.pod.name") == ppod);
  CHECK(pm->Field("container.privileged") == "true");
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", p12) != nullptr);
  CHECK(FindContainerAlert(alerts, "Launch Privileged Container", c12) == nullptr);
  // The container's start event carries the same metadata.
  const SeenAlert* ce = nullptr;
  for (const auto& a : alerts)
    if (a.rule == kCriEvent && a.Field("container.id") == c12 && a.Field("k8s.pod.name") == pod) ce = &a;
  REQUIRE(ce != nullptr);
  CHECK(ce->Field("container.name") == cname);
  // The pod's sandbox (its pause process, here the image's sleep) is a
  // container of its own: recognised from /k8s.io/<id> and announced.
  // containerd 1.6 registers a sandbox only once its process runs, so the
  // first lookup of its id often finds nothing; the watcher asks again (for
  // about a second) and the container event, evaluated without metadata when
  // the hold's deadline passed, is emitted again with it: one of the
  // sandbox's container events names the pod.
  const SeenAlert* se = FindContainerAlert(alerts, kCriEvent, s12);
  REQUIRE(se != nullptr);
  int named = 0;
  for (const auto& a : alerts) {
    if (a.rule != kCriEvent || a.Field("container.id") != s12) continue;
    std::printf("sandbox container event: pod=%s ns=%s\n", a.Field("k8s.pod.name").c_str(),
                a.Field("k8s.ns.name").c_str());
    if (a.Field("k8s.pod.name") == "<NA>") continue;
    ++named;
    CHECK(a.Field("k8s.pod.name") == pod);
    CHECK(a.Field("k8s.ns.name") == ns);
    CHECK(a.Field("k8s.pod.label[app]") == "vigil-web");
  }
  CHECK(named == 1);
}
