// SPDX-License-Identifier: Apache-2.0
// A minimal CRI v1 client for container_cri_test, on the same generated stubs
// as vigil's: what kubelet does for one pod with one container, against a
// containerd (or CRI-O) socket. RunPodSandbox (host network: no CNI needed),
// CreateContainer, StartContainer, waits for the container to exit, then
// stops and removes both. Prints "sandbox <id>", "container <id>" and
// "exit <code>" lines; exit status 0 when every call succeeded, else 1 with
// the failing call on stderr.
//
// With --privileged first, the pod and the container are privileged (CRI's
// security context; containerd refuses a privileged container in a pod that
// is not).
//
// Usage: cri_test_client [--privileged] SOCKET IMAGE POD NAMESPACE UID LABEL=VALUE CONTAINER LOGDIR CMD [ARG...]
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cri/api.grpc.pb.h"

namespace {

namespace cri = ::runtime::v1;

struct Args {
  std::string socket, image, pod, ns, uid, label_key, label_value, container, log_dir;
  std::vector<std::string> command;
  bool privileged = false;
};

bool Check(const grpc::Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "cri_test_client: %s: %s (gRPC status %d)\n", what, s.error_message().c_str(),
               static_cast<int>(s.error_code()));
  return false;
}

std::unique_ptr<grpc::ClientContext> Ctx(int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

cri::PodSandboxConfig SandboxConfig(const Args& a) {
  cri::PodSandboxConfig c;
  c.mutable_metadata()->set_name(a.pod);
  c.mutable_metadata()->set_namespace_(a.ns);
  c.mutable_metadata()->set_uid(a.uid);
  c.mutable_metadata()->set_attempt(0);
  c.set_log_directory(a.log_dir);
  (*c.mutable_labels())[a.label_key] = a.label_value;
  c.mutable_linux()->mutable_security_context()->set_privileged(a.privileged);
  auto* ns = c.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  // The host's network (and so its UTS namespace: no hostname is set): no CNI plugin is asked.
  ns->set_network(cri::NODE);
  ns->set_pid(cri::CONTAINER);
  ns->set_ipc(cri::POD);
  return c;
}

// Polls ContainerStatus until the container exited (at most 30 s); its exit code, or -1.
int AwaitExit(cri::RuntimeService::Stub* stub, const std::string& id) {
  for (int i = 0; i < 300; ++i) {
    cri::ContainerStatusRequest req;
    req.set_container_id(id);
    cri::ContainerStatusResponse resp;
    if (!Check(stub->ContainerStatus(Ctx(5).get(), req, &resp), "ContainerStatus")) return -1;
    if (resp.status().state() == cri::CONTAINER_EXITED) return resp.status().exit_code();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "cri_test_client: container %s did not exit within 30 s\n", id.c_str());
  return -1;
}

int Run(const Args& a) {
  auto channel = grpc::CreateChannel("unix:" + a.socket, grpc::InsecureChannelCredentials());
  auto stub = cri::RuntimeService::NewStub(channel);
  const cri::PodSandboxConfig pod = SandboxConfig(a);
  cri::RunPodSandboxRequest run_req;
  *run_req.mutable_config() = pod;
  cri::RunPodSandboxResponse run;
  if (!Check(stub->RunPodSandbox(Ctx(30).get(), run_req, &run), "RunPodSandbox")) return 1;
  std::printf("sandbox %s\n", run.pod_sandbox_id().c_str());
  std::fflush(stdout);
  bool ok = true;
  cri::CreateContainerRequest create_req;
  create_req.set_pod_sandbox_id(run.pod_sandbox_id());
  *create_req.mutable_sandbox_config() = pod;
  cri::ContainerConfig* cc = create_req.mutable_config();
  cc->mutable_metadata()->set_name(a.container);
  cc->mutable_image()->set_image(a.image);
  for (const auto& arg : a.command) cc->add_command(arg);
  cc->set_log_path(a.container + ".log");
  cc->mutable_linux()->mutable_security_context()->set_privileged(a.privileged);
  cri::CreateContainerResponse created;
  if (Check(stub->CreateContainer(Ctx(30).get(), create_req, &created), "CreateContainer")) {
    std::printf("container %s\n", created.container_id().c_str());
    std::fflush(stdout);
    cri::StartContainerRequest start_req;
    start_req.set_container_id(created.container_id());
    cri::StartContainerResponse started;
    ok = Check(stub->StartContainer(Ctx(30).get(), start_req, &started), "StartContainer");
    if (ok) {
      int code = AwaitExit(stub.get(), created.container_id());
      std::printf("exit %d\n", code);
      ok = code >= 0;
    }
    cri::RemoveContainerRequest rm_req;
    rm_req.set_container_id(created.container_id());
    cri::RemoveContainerResponse rm;
    ok &= Check(stub->RemoveContainer(Ctx(30).get(), rm_req, &rm), "RemoveContainer");
  } else {
    ok = false;
  }
  cri::StopPodSandboxRequest stop_req;
  stop_req.set_pod_sandbox_id(run.pod_sandbox_id());
  cri::StopPodSandboxResponse stopped;
  ok &= Check(stub->StopPodSandbox(Ctx(30).get(), stop_req, &stopped), "StopPodSandbox");
  cri::RemovePodSandboxRequest rm_pod_req;
  rm_pod_req.set_pod_sandbox_id(run.pod_sandbox_id());
  cri::RemovePodSandboxResponse rm_pod;
  ok &= Check(stub->RemovePodSandbox(Ctx(30).get(), rm_pod_req, &rm_pod), "RemovePodSandbox");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool privileged = false;
  if (argc > 1 && std::string(argv[1]) == "--privileged") {
    privileged = true;
    --argc;
    ++argv;
  }
  if (argc < 10) {
    std::fprintf(stderr,
                 "usage: cri_test_client [--privileged] SOCKET IMAGE POD NAMESPACE UID LABEL=VALUE CONTAINER LOGDIR CMD "
                 "[ARG...]\n");
    return 2;
  }
  Args a{argv[1], argv[2], argv[3], argv[4], argv[5], "", "", argv[7], argv[8], {}};
  const std::string label = argv[6];
  const auto eq = label.find('=');
  if (eq == std::string::npos || eq == 0) {
    std::fprintf(stderr, "cri_test_client: label '%s': expected NAME=VALUE\n", label.c_str());
    return 2;
  }
  a.label_key = label.substr(0, eq);
  a.label_value = label.substr(eq + 1);
  for (int i = 9; i < argc; ++i) a.command.emplace_back(argv[i]);
  a.privileged = privileged;
  return Run(a);
}
