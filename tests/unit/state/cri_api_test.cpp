// SPDX-License-Identifier: Apache-2.0
// The CRI v1 client's side that needs no runtime: CRI messages (as containerd
// 1.6's CRI plugin fills them) to container metadata, pod labels through
// k8s.pod.label, and a real gRPC channel to sockets that are not a runtime
// (missing, or not speaking gRPC): unreachable with a reason, within the
// timeout. The real runtime is container_cri_test's (label root).
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "cri/api.pb.h"
#include "engine/state/container_meta.h"
#include "runtime/cri_api.h"
#include "tests/unit/state/container_meta_util.h"

namespace vigil {
namespace {

namespace cri = ::runtime::v1;

const std::string kId = "5b0f6e1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
const std::string kPod = "9e8d7c6b5a493827161504f3e2d1c0b9a8f7e6d5c4b3a29180706f5e4d3c2b1a";

cri::ContainerStatus Status() {
  cri::ContainerStatus c;
  c.set_id(kId);
  c.mutable_metadata()->set_name("web");
  c.mutable_image()->set_image("docker.io/library/busybox:1.36");
  c.set_image_ref("sha256:ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12");
  c.set_started_at(1765000000123456789);
  auto* m = c.add_mounts();
  m->set_host_path("/etc");
  m->set_container_path("/host-etc");
  m->set_readonly(true);
  m->set_propagation(cri::PROPAGATION_HOST_TO_CONTAINER);
  (*c.mutable_labels())["io.kubernetes.container.name"] = "web";
  (*c.mutable_labels())["tier"] = "front";
  return c;
}

cri::PodSandboxStatus Pod() {
  cri::PodSandboxStatus p;
  p.set_id(kPod);
  p.mutable_metadata()->set_name("web-7d9f");
  p.mutable_metadata()->set_namespace_("shop");
  p.mutable_metadata()->set_uid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  p.set_created_at(1765000000000000000);
  (*p.mutable_labels())["app"] = "web";
  (*p.mutable_labels())["pod-template-hash"] = "7d9f";
  return p;
}

TEST_CASE("CRI container and pod status to metadata", "[unit][container]") {
  std::string error;
  const cri::PodSandboxStatus pod = Pod();
  auto m = runtime::CriToMeta(Status(), &pod, "containerd", &error);
  REQUIRE(m != nullptr);
  CHECK(m->full_id == kId);
  CHECK(testing::IdentityOf(*m) ==
        std::vector<std::string>{kId.substr(0, 12), "web", "containerd", "docker.io/library/busybox:1.36",
                                 "docker.io/library/busybox", "1.36",
                                 "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"});
  CHECK(m->start_ns == 1765000000123456789);
  CHECK_FALSE(m->privileged);  // not in CRI's status; the verbose info says (below)
  REQUIRE(m->mounts.size() == 1);
  CHECK(testing::FieldsOf(m->mounts[0]) == std::vector<std::string>{"/etc", "/host-etc", "ro", "false", "rslave"});
  CHECK(m->k8s_pod_name == "web-7d9f");
  CHECK(m->k8s_ns_name == "shop");
  CHECK(m->k8s_pod_uid == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  CHECK(m->k8s_container_name == "web");
  // Pod labels come from the pod; the container's own labels stay container labels.
  REQUIRE(m->PodLabel("app") != nullptr);
  CHECK(*m->PodLabel("app") == "web");
  CHECK(m->PodLabel("tier") == nullptr);
  REQUIRE(m->Label("tier") != nullptr);
  CHECK(m->Label("app") == nullptr);
}

TEST_CASE("CRI status without its pod: kubelet's labels, and image references", "[unit][container]") {
  std::string error;
  cri::ContainerStatus c = Status();
  (*c.mutable_labels())["io.kubernetes.pod.name"] = "from-label";
  (*c.mutable_labels())["io.kubernetes.pod.namespace"] = "ns-label";
  (*c.mutable_labels())["app"] = "container-level";
  // containerd reports the image id as the image when it has no tag for it.
  c.mutable_image()->set_image("sha256:ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12");
  c.set_image_ref("registry.example:5000/team/app@sha256:0123");
  auto m = runtime::CriToMeta(c, nullptr, "cri-o", &error);
  REQUIRE(m != nullptr);
  CHECK(m->k8s_pod_name == "from-label");
  CHECK(m->k8s_ns_name == "ns-label");
  CHECK_FALSE(m->has_pod_labels);
  REQUIRE(m->PodLabel("app") != nullptr);  // docker-style fallback: the container's labels
  CHECK(*m->PodLabel("app") == "container-level");
  CHECK(m->image == "registry.example:5000/team/app@sha256:0123");
  CHECK(m->image_repository == "registry.example:5000/team/app");
  CHECK(m->image_digest == "sha256:0123");
  CHECK(m->image_id.empty());
  // A newer runtime's image_id wins over image_ref.
  c.set_image_id("sha256:ffee");
  m = runtime::CriToMeta(c, nullptr, "cri-o", &error);
  REQUIRE(m != nullptr);
  CHECK(m->image_id == "ffee");

  cri::ContainerStatus empty;
  CHECK(runtime::CriToMeta(empty, nullptr, "containerd", &error) == nullptr);
  CHECK(error.find("no id") != std::string::npos);
}

TEST_CASE("CRI verbose info: the privileged flag", "[unit][container]") {
  struct Case {
    const char* info;
    bool privileged;
  };
  const Case cases[] = {
      // containerd 1.6: the CRI ContainerConfig it was created with, Go's JSON field names.
      {R"({"sandboxID":"9e8d","pid":4242,"removing":false,"config":{"metadata":{"name":"web"},)"
       R"("linux":{"security_context":{"privileged":true,"namespace_options":{"network":2}}}},"runtimeSpec":{}})",
       true},
      {R"({"sandboxID":"9e8d","config":{"linux":{"security_context":{"namespace_options":{}}}}})", false},
      {R"({"sandboxID":"9e8d","config":{"linux":{}}})", false},
      {R"({"config":{"linux":{"security_context":{"privileged":"true"}}}})", false},  // not a bool
      // CRI-O: a top-level flag.
      {R"({"sandboxID":"9e8d","pid":4242,"privileged":true,"runtimeSpec":{}})", true},
      {R"({"sandboxID":"9e8d","pid":4242,"privileged":false})", false},
      {R"({"config":[1,2]})", false},
      {R"([true])", false},
      {"", false},
      {"{not json", false},
  };
  for (const Case& c : cases) {
    INFO(c.info);
    CHECK(runtime::CriInfoPrivileged(c.info) == c.privileged);
  }
}

TEST_CASE("CRI pod sandbox to metadata (the pause container's cgroup)", "[unit][container]") {
  std::string error;
  auto m = runtime::CriSandboxToMeta(Pod(), "containerd", &error);
  REQUIRE(m != nullptr);
  CHECK(m->id == kPod.substr(0, 12));
  CHECK(m->name == "web-7d9f");
  CHECK(m->k8s_pod_name == "web-7d9f");
  CHECK(m->k8s_ns_name == "shop");
  REQUIRE(m->PodLabel("pod-template-hash") != nullptr);
  CHECK(m->image.empty());
  CHECK(runtime::CriSandboxToMeta(cri::PodSandboxStatus(), "containerd", &error) == nullptr);
}

TEST_CASE("CRI client: a missing socket or a non-gRPC listener is unreachable, within the timeout",
          "[unit][container]") {
  char tmpl[] = "/tmp/vigil-cri-unit-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  {
    runtime::CriClient client(dir + "/missing.sock", "containerd", std::chrono::milliseconds(500));
    std::shared_ptr<ContainerMeta> meta;
    std::string error;
    auto t0 = std::chrono::steady_clock::now();
    CHECK(client.Inspect(kId.substr(0, 12), &meta, &error) == runtime::ApiResult::kUnreachable);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    INFO(error);
    CHECK(error.find("missing.sock") != std::string::npos);
    std::vector<std::string> ids;
    CHECK(client.ListRunning(&ids, &error) == runtime::ApiResult::kUnreachable);
  }
  // A unix socket that accepts and closes at once (no HTTP/2): never an answer.
  const std::string path = dir + "/closer.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(fd, 8) == 0);
  std::atomic<bool> stop{false};
  std::thread closer([&] {
    while (!stop) {
      int c = accept(fd, nullptr, nullptr);
      if (c >= 0) close(c);
    }
  });
  {
    runtime::CriClient client(path, "cri-o", std::chrono::milliseconds(500));
    std::shared_ptr<ContainerMeta> meta;
    std::string error;
    auto t0 = std::chrono::steady_clock::now();
    CHECK(client.Inspect(kId.substr(0, 12), &meta, &error) == runtime::ApiResult::kUnreachable);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    CHECK(meta == nullptr);
  }
  stop = true;
  shutdown(fd, SHUT_RDWR);
  close(fd);
  closer.join();
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace vigil
