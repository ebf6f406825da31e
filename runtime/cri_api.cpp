// SPDX-License-Identifier: Apache-2.0
#include "runtime/cri_api.h"

#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "cri/api.grpc.pb.h"
#include "engine/state/container.h"

namespace vigil::runtime {
namespace {

namespace cri = ::runtime::v1;

using Labels = std::vector<std::pair<std::string, std::string>>;

Labels SortedLabels(const google::protobuf::Map<std::string, std::string>& map) {
  Labels out(map.begin(), map.end());
  std::sort(out.begin(), out.end());
  return out;
}

// CRI's propagation enum in the words Linux (and the Docker API) use.
std::string PropagationText(cri::MountPropagation p) {
  switch (p) {
    case cri::PROPAGATION_PRIVATE: return "rprivate";
    case cri::PROPAGATION_HOST_TO_CONTAINER: return "rslave";
    case cri::PROPAGATION_BIDIRECTIONAL: return "rshared";
    default: return "";
  }
}

// image_ref is an image id ("sha256:<hex>") or a repository digest
// ("repo@sha256:<hex>"); image_id (newer runtimes) is always the id.
void FillImage(const cri::ContainerStatus& c, ContainerMeta* m) {
  m->image = c.image().image();
  if (!c.image().user_specified_image().empty()) m->image = c.image().user_specified_image();
  std::string ref = c.image_ref();
  std::string id = !c.image_id().empty() ? c.image_id() : (ref.find('@') == std::string::npos ? ref : "");
  if (m->image.empty() || m->image.starts_with("sha256:")) m->image = ref;
  SplitImageRef(m->image, &m->image_repository, &m->image_tag, &m->image_digest);
  if (m->image_digest.empty()) {
    if (auto at = ref.find('@'); at != std::string::npos) m->image_digest = ref.substr(at + 1);
  }
  if (id.starts_with("sha256:")) id.erase(0, 7);
  m->image_id = id;
}

void FillPod(const cri::PodSandboxStatus& pod, ContainerMeta* m) {
  m->k8s_pod_name = pod.metadata().name();
  m->k8s_ns_name = pod.metadata().namespace_();
  m->k8s_pod_uid = pod.metadata().uid();
  m->has_pod_labels = true;
  m->pod_labels = SortedLabels(pod.labels());
}

}  // namespace

std::shared_ptr<ContainerMeta> CriToMeta(const cri::ContainerStatus& c, const cri::PodSandboxStatus* pod,
                                         const std::string& type, std::string* error) {
  if (c.id().empty()) {
    *error = "CRI container status: no id";
    return nullptr;
  }
  auto m = std::make_shared<ContainerMeta>();
  m->full_id = c.id();
  m->id = ShortContainerId(m->full_id);
  m->type = type;
  m->name = c.metadata().name();
  FillImage(c, m.get());
  m->start_ns = c.started_at();
  for (const cri::Mount& cm : c.mounts()) {
    ContainerMount mount;
    mount.source = cm.host_path();
    mount.dest = cm.container_path();
    mount.rw = !cm.readonly();
    mount.mode = cm.readonly() ? "ro" : "rw";
    mount.propagation = PropagationText(cm.propagation());
    m->mounts.push_back(std::move(mount));
  }
  m->labels = SortedLabels(c.labels());
  FillK8sFromLabels(m.get());  // kubelet's io.kubernetes.* labels, when a kubelet made the container
  if (m->k8s_container_name.empty()) m->k8s_container_name = m->name;
  if (pod != nullptr) FillPod(*pod, m.get());  // the pod's own word over labels
  return m;
}

bool CriInfoPrivileged(std::string_view info_json) {
  const nlohmann::json j = nlohmann::json::parse(info_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  // CRI-O: {"sandboxID":..., "pid":..., "privileged":true, "runtimeSpec":...}
  if (auto it = j.find("privileged"); it != j.end() && it->is_boolean() && it->get<bool>()) return true;
  // containerd: {"sandboxID":..., "config":{<the CRI ContainerConfig>}, "runtimeSpec":...}
  const nlohmann::json* v = &j;
  for (const char* key : {"config", "linux", "security_context", "privileged"}) {
    if (!v->is_object()) return false;
    auto it = v->find(key);
    if (it == v->end()) return false;
    v = &*it;
  }
  return v->is_boolean() && v->get<bool>();
}

std::shared_ptr<ContainerMeta> CriSandboxToMeta(const cri::PodSandboxStatus& pod, const std::string& type,
                                                std::string* error) {
  if (pod.id().empty()) {
    *error = "CRI pod sandbox status: no id";
    return nullptr;
  }
  auto m = std::make_shared<ContainerMeta>();
  m->full_id = pod.id();
  m->id = ShortContainerId(m->full_id);
  m->type = type;
  m->name = pod.metadata().name();
  m->start_ns = pod.created_at();
  m->labels = SortedLabels(pod.labels());
  FillPod(pod, m.get());
  return m;
}

struct CriClient::Impl {
  std::string socket, type;
  std::chrono::milliseconds timeout;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<cri::RuntimeService::Stub> stub;

  void Deadline(grpc::ClientContext* ctx) const { ctx->set_deadline(std::chrono::system_clock::now() + timeout); }

  ApiResult Failed(const grpc::Status& s, const std::string& what, std::string* error) const {
    switch (s.error_code()) {
      case grpc::StatusCode::NOT_FOUND:
        return ApiResult::kNotFound;
      case grpc::StatusCode::UNIMPLEMENTED:
        *error = socket + ": " + what + ": the CRI v1 API is not served here (containerd's CRI plugin disabled?): " +
                 s.error_message();
        return ApiResult::kUnreachable;
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::CANCELLED:
        *error = socket + ": " + what + ": " + s.error_message();
        return ApiResult::kUnreachable;
      default:
        *error = socket + ": " + what + ": gRPC status " + std::to_string(static_cast<int>(s.error_code())) + ": " +
                 s.error_message();
        return ApiResult::kBadAnswer;
    }
  }

  ApiResult Sandbox(const std::string& id, cri::PodSandboxStatusResponse* out, std::string* error) const {
    cri::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(id);
    grpc::ClientContext ctx;
    Deadline(&ctx);
    grpc::Status s = stub->PodSandboxStatus(&ctx, req, out);
    return s.ok() ? ApiResult::kOk : Failed(s, "PodSandboxStatus " + id, error);
  }

  ApiResult Container(const std::string& id, std::shared_ptr<ContainerMeta>* out, std::string* error) const;
};

ApiResult CriClient::Impl::Container(const std::string& id, std::shared_ptr<ContainerMeta>* out,
                                     std::string* error) const {
  // ListContainers resolves a unique id prefix and says which pod the
  // container is in; ContainerStatus has its mounts, image and start time.
  cri::ListContainersRequest list_req;
  list_req.mutable_filter()->set_id(id);
  cri::ListContainersResponse list;
  {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    grpc::Status s = stub->ListContainers(&ctx, list_req, &list);
    if (!s.ok()) return Failed(s, "ListContainers id=" + id, error);
  }
  const cri::Container* found = nullptr;
  for (const cri::Container& c : list.containers()) {
    if (c.id().starts_with(id)) found = &c;
  }
  if (found == nullptr) {
    // Not a container: a pod sandbox's pause process, or unknown here.
    cri::PodSandboxStatusResponse pod;
    ApiResult r = Sandbox(id, &pod, error);
    if (r != ApiResult::kOk) return r;
    *out = CriSandboxToMeta(pod.status(), type, error);
    return *out ? ApiResult::kOk : ApiResult::kBadAnswer;
  }
  cri::ContainerStatusRequest req;
  req.set_container_id(found->id());
  // Verbose: the only place CRI says whether the container is privileged
  // (its info also holds the OCI spec, a few KiB, once per container).
  req.set_verbose(true);
  cri::ContainerStatusResponse status;
  grpc::ClientContext ctx;
  Deadline(&ctx);
  grpc::Status s = stub->ContainerStatus(&ctx, req, &status);
  if (!s.ok()) return Failed(s, "ContainerStatus " + found->id(), error);
  cri::PodSandboxStatusResponse pod;
  std::string pod_error;
  // Without its pod (removed meanwhile, or refused) the container's own labels still say what they say.
  bool have_pod = Sandbox(found->pod_sandbox_id(), &pod, &pod_error) == ApiResult::kOk;
  std::shared_ptr<ContainerMeta> meta = CriToMeta(status.status(), have_pod ? &pod.status() : nullptr, type, error);
  if (!meta) return ApiResult::kBadAnswer;
  if (auto it = status.info().find("info"); it != status.info().end()) meta->privileged = CriInfoPrivileged(it->second);
  *out = std::move(meta);
  return ApiResult::kOk;
}

CriClient::CriClient(std::string socket_path, std::string type, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->socket = std::move(socket_path);
  impl_->type = std::move(type);
  impl_->timeout = timeout;
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to 120 s; a runtime that comes back
  // should be asked again within a listing interval or two.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetMaxReceiveMessageSize(16 << 20);  // a busy node's container list
  impl_->channel = grpc::CreateCustomChannel("unix:" + impl_->socket, grpc::InsecureChannelCredentials(), args);
  impl_->stub = cri::RuntimeService::NewStub(impl_->channel);
}

CriClient::~CriClient() = default;

ApiResult CriClient::Inspect(const std::string& id, std::shared_ptr<ContainerMeta>* out, std::string* error) {
  return impl_->Container(id, out, error);
}

ApiResult CriClient::ListRunning(std::vector<std::string>* ids, std::string* error) {
  cri::ListContainersResponse containers;
  {
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    grpc::Status s = impl_->stub->ListContainers(&ctx, cri::ListContainersRequest(), &containers);
    if (!s.ok()) return impl_->Failed(s, "ListContainers", error);
  }
  cri::ListPodSandboxRequest pod_req;
  pod_req.mutable_filter()->mutable_state()->set_state(cri::SANDBOX_READY);
  cri::ListPodSandboxResponse pods;
  {
    grpc::ClientContext ctx;
    impl_->Deadline(&ctx);
    grpc::Status s = impl_->stub->ListPodSandbox(&ctx, pod_req, &pods);
    if (!s.ok()) return impl_->Failed(s, "ListPodSandbox", error);
  }
  ids->clear();
  // Created containers count: their first process (runc init) runs before Start.
  for (const cri::Container& c : containers.containers()) {
    if (c.state() != cri::CONTAINER_EXITED) ids->push_back(ShortContainerId(c.id()));
  }
  for (const cri::PodSandbox& p : pods.items()) ids->push_back(ShortContainerId(p.id()));
  return ApiResult::kOk;
}

}  // namespace vigil::runtime
