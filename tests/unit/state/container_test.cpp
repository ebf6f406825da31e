// SPDX-License-Identifier: Apache-2.0
// Container id from cgroup v2 paths: every runtime pattern, and near misses.
#include <catch2/catch.hpp>

#include <string>

#include "engine/state/container.h"

namespace vigil {
namespace {

const std::string kId = "3f5a9c1be2d47e8a0b6c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a";
const std::string kShort = kId.substr(0, 12);
const std::string kOther = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// Paths read from /proc/<pid>/cgroup of real containers on the development
// host (Debian 12, cgroup v1 hybrid: every v1 hierarchy and the unified one
// show the same path), with the id the runtime printed for the container.
TEST_CASE("container id from cgroup paths captured from real runtimes", "[unit][container]") {
  struct Case {
    const char* runtime;
    std::string path;
    std::string full_id;  // what `podman run -d` / `docker run -d` printed
  };
  const Case cases[] = {
      // podman 4.3.1 + runc, cgroupfs manager (issue 19: this was "host").
      {"podman", "/libpod_parent/libpod-43855d4630758f7bf71b7251f02c39bd28d99e0a771a72feaa4f395b888c0674",
       "43855d4630758f7bf71b7251f02c39bd28d99e0a771a72feaa4f395b888c0674"},
      {"podman", "/libpod_parent/libpod-7380791d1acba99183d0de891ddb47cf443913329667bec1bd07aa9141a7a1f1",
       "7380791d1acba99183d0de891ddb47cf443913329667bec1bd07aa9141a7a1f1"},
      // docker.io 20.10.24 (dockerd started by hand, cgroupfs driver).
      {"docker", "/docker/01662cea920033f73f2a8497642d98f411d27853171dd8b21c678ddfbb849950",
       "01662cea920033f73f2a8497642d98f411d27853171dd8b21c678ddfbb849950"},
      // containerd 1.6.20 through ctr, cgroupfs: `ctr -n <namespace> run <image> <id>` (ids chosen by the caller).
      {"containerd", "/default/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"containerd", "/k8s.io/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
       "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"},
  };
  for (const Case& c : cases) {
    INFO(c.runtime << ": " << c.path);
    CHECK(ContainerIdFromCgroup(c.path) == c.full_id.substr(0, 12));
  }
}

TEST_CASE("container id from cgroup path", "[unit][container]") {
  struct Case {
    std::string path;
    std::string want;
  };
  const Case cases[] = {
      // Docker, cgroupfs driver.
      {"/docker/" + kId, kShort},
      // Docker, systemd driver.
      {"/system.slice/docker-" + kId + ".scope", kShort},
      // containerd under kubelet, systemd driver.
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
       "cri-containerd-" + kId + ".scope",
       kShort},
      // containerd, the ':cri-containerd:' path form.
      {"/kubepods-burstable-pod1b2c3d4e_5f60.slice:cri-containerd:" + kId, kShort},
      {"/system.slice/containerd.service/kubepods-besteffort-pod9d1e.slice:cri-containerd:" + kId, kShort},
      // containerd/k8s, cgroupfs driver: bare id under kubepods.
      {"/kubepods/besteffort/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/" + kId, kShort},
      // CRI-O.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice/crio-" + kId + ".scope", kShort},
      {"/machine.slice/crio-" + kId, kShort},
      // Podman, cgroupfs manager (v1 and v2), also in a pod, and --cgroups=split.
      {"/libpod_parent/libpod-" + kId, kShort},
      {"/libpod_parent/" + kOther + "/libpod-" + kId, kShort},
      {"/system.slice/podman.service/libpod-payload-" + kId, kShort},
      // containerd namespaces with the cgroupfs driver (ctr, nerdctl, CRI without kubelet).
      {"/default/" + kId, kShort},
      {"/k8s.io/" + kId, kShort},
      {"/nerdctl/" + kId, kShort},
      // containerd's CRI namespace: any containerd id, kept whole when not 64 hex
      // (`ctr -n k8s.io run <image> web-1`).
      {"/k8s.io/web-1", "web-1"},
      {"/k8s.io/nginx.v2_a", "nginx.v2_a"},
      {"/k8s.io/" + kId.substr(0, 12), kShort},
      {"/k8s.io/" + kId.substr(0, 63), kId.substr(0, 63)},
      {"/k8s.io/web-1/sub", "web-1"},  // a cgroup the container made inside its own
      // Podman, systemd manager: the scope itself and its nested 'container' cgroup.
      {"/machine.slice/libpod-" + kId + ".scope", kShort},
      {"/machine.slice/machine-libpod_pod_" + kOther + ".slice/libpod-" + kId + ".scope", kShort},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope/container", kShort},
      // nerdctl.
      {"/system.slice/nerdctl-" + kId + ".scope", kShort},
      // Nested: the innermost id wins (docker in docker).
      {"/docker/" + kOther + "/docker/" + kId, kShort},
      // Host processes.
      {"/", "host"},
      {"", "host"},
      {"/init.scope", "host"},
      {"/system.slice/ssh.service", "host"},
      {"/user.slice/user-1000.slice/session-3.scope", "host"},
      {"/system.slice/docker.service", "host"},
      {"/system.slice/containerd.service", "host"},
      // Near misses: monitors, wrong lengths, upper case, wrong prefix/suffix.
      {"/machine.slice/crio-conmon-" + kId + ".scope", "host"},
      {"/machine.slice/libpod-conmon-" + kId + ".scope", "host"},
      {"/docker/" + kId.substr(0, 63), "host"},
      {"/docker/" + kId + "0", "host"},
      {"/docker/3F5A9C1BE2D47E8A0B6C9D1E2F3A4B5C6D7E8F9A0B1C2D3E4F5A6B7C8D9E0F1A", "host"},
      {"/docker/" + kId.substr(0, 60) + "zzzz", "host"},
      {"/system.slice/docker-" + kId + ".service", "host"},
      {"/system.slice/docker-" + kId, "host"},
      {"/system.slice/xdocker-" + kId + ".scope", "host"},
      {"/system.slice/" + kId, "host"},  // a bare id not under docker/ or kubepods
      {"/notdocker/" + kId, "host"},
      {"/slice:cri-containerd:" + kId.substr(0, 63), "host"},
      {"/machine.slice/libpod-" + kId + ".scopex", "host"},
      {"/libpod_parent/libpod-conmon-" + kId, "host"},
      {"/libpod_parent/conmon", "host"},
      {"/system.slice/default/" + kId.substr(0, 63), "host"},
      // Not containerd ids, or not under k8s.io.
      {"/default/web-1", "host"},
      {"/k8s.io", "host"},
      {"/k8s.io/-web", "host"},
      {"/k8s.io/web-", "host"},
      {"/k8s.io/web--1", "host"},
      {"/k8s.io/web 1", "host"},
      {"/k8s.io/" + std::string(77, 'a'), "host"},
  };
  for (const Case& c : cases) {
    INFO("path: " << c.path);
    CHECK(ContainerIdFromCgroup(c.path) == c.want);
    CHECK(IsContainerCgroup(c.path) == (c.want != "host"));
  }
}

TEST_CASE("in a container: runtime pattern, or other mnt ns and nested pid ns", "[unit][container]") {
  Namespaces host;
  host.mnt = 4026531841;
  host.pid = 4026531836;
  struct Case {
    const char* what;
    std::string container_id;
    uint64_t mnt;
    uint32_t pidns_level;
    bool want;
  };
  const Case cases[] = {
      {"runtime pattern", kShort, host.mnt, 0, true},
      {"host process", "host", host.mnt, 0, false},
      {"private mnt and pid ns (unknown runtime)", "host", 4026532500, 1, true},
      {"private mnt ns only (systemd PrivateTmp)", "host", 4026532500, 0, false},
      {"nested pid ns only", "host", host.mnt, 1, false},
      {"mnt ns unknown", "host", 0, 1, false},
      {"no id yet", "", host.mnt, 0, false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ProcessInfo p;
    p.container_id = c.container_id;
    p.ns.mnt = c.mnt;
    p.pidns_level = c.pidns_level;
    CHECK(InContainer(p, host) == c.want);
  }
}

}  // namespace
}  // namespace vigil
