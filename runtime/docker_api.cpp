// SPDX-License-Identifier: Apache-2.0
#include "runtime/docker_api.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/state/container.h"
#include "runtime/unix_http.h"

namespace vigil::runtime {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace

int64_t ParseRfc3339Ns(const std::string& t) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6 || consumed != 19)
    return 0;
  if (tm.tm_year < 1970) return 0;  // Go's zero time "0001-01-01T00:00:00Z": never started
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ns = static_cast<int64_t>(timegm(&tm)) * 1000000000;
  std::size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    int64_t frac = 0, scale = 100000000;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
      frac += (t[i] - '0') * scale;
      scale /= 10;
    }
    ns += frac;
  }
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(t.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2) {
      int64_t off = (int64_t{hh} * 3600 + mm * 60) * 1000000000;
      ns += t[i] == '+' ? -off : off;
    }
  }
  return ns;
}

std::shared_ptr<ContainerMeta> ParseDockerInspect(const std::string& text, const std::string& type, std::string* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "container inspect: not a JSON object";
    return nullptr;
  }
  auto m = std::make_shared<ContainerMeta>();
  m->full_id = Str(j, "Id");
  if (m->full_id.size() < kContainerIdLength) {
    *error = "container inspect: no Id";
    return nullptr;
  }
  m->id = m->full_id.substr(0, kContainerIdLength);
  m->type = type;
  m->name = Str(j, "Name");
  if (!m->name.empty() && m->name[0] == '/') m->name.erase(0, 1);
  const json& config = Obj(j, "Config");
  m->image = Str(config, "Image");
  SplitImageRef(m->image, &m->image_repository, &m->image_tag, &m->image_digest);
  m->image_id = Str(j, "Image");
  if (m->image_id.starts_with("sha256:")) m->image_id.erase(0, 7);
  const json& host = Obj(j, "HostConfig");
  if (auto it = host.find("Privileged"); it != host.end() && it->is_boolean()) m->privileged = it->get<bool>();
  m->start_ns = ParseRfc3339Ns(Str(Obj(j, "State"), "StartedAt"));
  if (auto it = j.find("Mounts"); it != j.end() && it->is_array()) {
    for (const json& mj : *it) {
      if (!mj.is_object()) continue;
      ContainerMount mount;
      mount.source = Str(mj, "Source");
      mount.dest = Str(mj, "Destination");
      mount.mode = Str(mj, "Mode");
      mount.propagation = Str(mj, "Propagation");
      if (auto rw = mj.find("RW"); rw != mj.end() && rw->is_boolean()) mount.rw = rw->get<bool>();
      m->mounts.push_back(std::move(mount));
    }
  }
  if (auto it = config.find("Labels"); it != config.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) m->labels.emplace_back(k, v.get<std::string>());
    }
    std::sort(m->labels.begin(), m->labels.end());
  }
  FillK8sFromLabels(m.get());
  return m;
}

std::optional<std::vector<std::string>> ParseDockerList(const std::string& text, std::string* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    *error = "container list: not a JSON array";
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const json& c : j) {
    if (!c.is_object()) continue;
    // all=1 lists every container; a created one already has its first
    // process (runc init), so only an exited or dead one is gone ("stopped":
    // libpod's word for exited, should a podman say it).
    const std::string state = Str(c, "State");
    if (state == "exited" || state == "dead" || state == "stopped") continue;
    std::string id = Str(c, "Id");
    if (id.size() >= kContainerIdLength) ids.push_back(id.substr(0, kContainerIdLength));
  }
  return ids;
}

DockerClient::DockerClient(std::string socket_path, std::string type, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), type_(std::move(type)), timeout_(timeout) {}

DockerClient::Result DockerClient::Inspect(const std::string& id, std::shared_ptr<ContainerMeta>* out,
                                           std::string* error) {
  HttpResponse r = UnixHttpGet(socket_path_, "/containers/" + id + "/json", timeout_);
  if (r.status == 0) {
    *error = r.error;
    return Result::kUnreachable;
  }
  if (r.status == 404) return Result::kNotFound;
  if (r.status != 200) {
    *error = socket_path_ + ": HTTP " + std::to_string(r.status) + " for container " + id;
    return Result::kBadAnswer;
  }
  *out = ParseDockerInspect(r.body, type_, error);
  return *out ? Result::kOk : Result::kBadAnswer;
}

DockerClient::Result DockerClient::ListRunning(std::vector<std::string>* ids, std::string* error) {
  HttpResponse r = UnixHttpGet(socket_path_, "/containers/json?all=1", timeout_);
  if (r.status == 0) {
    *error = r.error;
    return Result::kUnreachable;
  }
  if (r.status != 200) {
    *error = socket_path_ + ": HTTP " + std::to_string(r.status) + " for the container list";
    return Result::kBadAnswer;
  }
  auto list = ParseDockerList(r.body, error);
  if (!list) return Result::kBadAnswer;
  *ids = std::move(*list);
  return Result::kOk;
}

}  // namespace vigil::runtime
