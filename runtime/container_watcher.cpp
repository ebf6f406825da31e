// SPDX-License-Identifier: Apache-2.0
#include "runtime/container_watcher.h"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "runtime/docker_api.h"

namespace vigil::runtime {

ContainerWatcher::ContainerWatcher(std::shared_ptr<ContainerMetaCache> cache, ContainerWatcherOptions options)
    : cache_(std::move(cache)), options_(std::move(options)) {
  for (const RuntimeEndpoint& r : options_.runtimes) stats_.runtimes.push_back({r.type, r.socket, false, false, 0});
}

ContainerWatcher::~ContainerWatcher() { Stop(); }

void ContainerWatcher::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ContainerWatcher::Stop() {
  stop_ = true;
  cache_->Close();
  if (thread_.joinable()) thread_.join();
}

ContainerWatcherStats ContainerWatcher::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void ContainerWatcher::Note(std::size_t i, bool ok, const std::string& error) {
  std::lock_guard lock(mu_);
  RuntimeStatus& s = stats_.runtimes[i];
  if (!ok) ++s.errors;
  // First contact and every change of state are logged; steady failures are counted only.
  if (ok != s.reachable || !s.contacted) {
    if (ok)
      spdlog::info("containers: {} API at {} answers", s.type, s.socket);
    else
      spdlog::warn("containers: {} API at {} unreachable ({}); container metadata from it is <NA> until it answers",
                   s.type, s.socket, error);
  }
  s.reachable = ok;
  s.contacted = true;
}

void ContainerWatcher::Fetch(const std::string& id) {
  bool any_unreachable = false;
  for (std::size_t i = 0; i < options_.runtimes.size(); ++i) {
    const RuntimeEndpoint& rt = options_.runtimes[i];
    DockerClient client(rt.socket, rt.type, options_.timeout);
    std::shared_ptr<ContainerMeta> meta;
    std::string error;
    auto result = client.Inspect(id, &meta, &error);
    {
      std::lock_guard lock(mu_);
      ++stats_.inspects;
    }
    Note(i, result == DockerClient::Result::kOk || result == DockerClient::Result::kNotFound, error);
    if (result == DockerClient::Result::kOk) {
      cache_->Put(std::move(meta));
      return;
    }
    if (result == DockerClient::Result::kBadAnswer) spdlog::warn("containers: {}", error);
    any_unreachable |= result == DockerClient::Result::kUnreachable;
  }
  if (!any_unreachable) {
    std::lock_guard lock(mu_);
    ++stats_.not_found;
  }
  cache_->Fail(id);
}

void ContainerWatcher::ListAll() {
  std::unordered_set<std::string> running;
  bool all_answered = true;
  for (std::size_t i = 0; i < options_.runtimes.size(); ++i) {
    const RuntimeEndpoint& rt = options_.runtimes[i];
    DockerClient client(rt.socket, rt.type, options_.timeout);
    std::vector<std::string> ids;
    std::string error;
    bool ok = client.ListRunning(&ids, &error) == DockerClient::Result::kOk;
    Note(i, ok, error);
    all_answered &= ok;
    running.insert(ids.begin(), ids.end());
  }
  uint64_t erased = 0;
  // A runtime that did not answer may still run the container: forget only
  // when every runtime answered (entries stay bounded by the cache's capacity).
  if (all_answered) {
    for (const std::string& id : cache_->Ids()) {
      if (!running.contains(id) && cache_->Erase(id)) ++erased;
    }
  }
  std::lock_guard lock(mu_);
  ++stats_.listings;
  stats_.exited += erased;
}

void ContainerWatcher::Run() {
  auto next_list = std::chrono::steady_clock::now();
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_list) {
      ListAll();
      next_list = std::chrono::steady_clock::now() + options_.list_interval;
      continue;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_list - now);
    if (auto id = cache_->NextRequest(wait)) Fetch(*id);
  }
}

}  // namespace vigil::runtime
