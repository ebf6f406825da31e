// SPDX-License-Identifier: Apache-2.0
#include "runtime/container_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "runtime/cri_api.h"
#include "runtime/docker_api.h"

namespace vigil::runtime {

std::unique_ptr<RuntimeClient> MakeRuntimeClient(const RuntimeEndpoint& endpoint, std::chrono::milliseconds timeout) {
  if (endpoint.type == "containerd" || endpoint.type == "cri-o")
    return std::make_unique<CriClient>(endpoint.socket, endpoint.type, timeout);
  return std::make_unique<DockerClient>(endpoint.socket, endpoint.type, timeout);
}

ContainerWatcher::ContainerWatcher(std::shared_ptr<ContainerMetaCache> cache, ContainerWatcherOptions options)
    : cache_(std::move(cache)), options_(std::move(options)) {
  for (const RuntimeEndpoint& r : options_.runtimes) {
    stats_.runtimes.push_back({r.type, r.socket, false, false, 0});
    clients_.push_back(MakeRuntimeClient(r, options_.timeout));
  }
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

void ContainerWatcher::Fetch(const std::string& id, int attempt) {
  bool any_unreachable = false;
  for (std::size_t i = 0; i < options_.runtimes.size(); ++i) {
    std::shared_ptr<ContainerMeta> meta;
    std::string error;
    ApiResult result = clients_[i]->Inspect(id, &meta, &error);
    {
      std::lock_guard lock(mu_);
      ++stats_.inspects;
    }
    Note(i, result == ApiResult::kOk || result == ApiResult::kNotFound, error);
    if (result == ApiResult::kOk) {
      cache_->Put(std::move(meta));
      return;
    }
    if (result == ApiResult::kBadAnswer) spdlog::warn("containers: {}", error);
    any_unreachable |= result == ApiResult::kUnreachable;
  }
  if (!any_unreachable) {
    // Not known yet is not unknown: a just-made container (a pod sandbox in
    // containerd 1.6) may be registered a moment after its first process runs.
    if (attempt < kNotFoundRetries && retries_.size() < kMaxRetries) {
      retries_.push_back({id, attempt + 1, std::chrono::steady_clock::now() + kNotFoundRetryEvery});
      std::lock_guard lock(mu_);
      ++stats_.retries;
      return;  // still pending in the cache
    }
    std::lock_guard lock(mu_);
    ++stats_.not_found;
  }
  cache_->Fail(id);
}

void ContainerWatcher::ListAll() {
  // Only entries that existed before the listing was asked for can be judged
  // by it: one made while the answer was on its way may be a container the
  // answer predates.
  const std::vector<std::string> before = cache_->Ids();
  std::unordered_set<std::string> running;
  bool all_answered = true;
  for (std::size_t i = 0; i < options_.runtimes.size(); ++i) {
    std::vector<std::string> ids;
    std::string error;
    bool ok = clients_[i]->ListRunning(&ids, &error) == ApiResult::kOk;
    Note(i, ok, error);
    all_answered &= ok;
    running.insert(ids.begin(), ids.end());
  }
  uint64_t erased = 0, revived = 0;
  // A container listed again after it exited was restarted (same id).
  for (const std::string& id : cache_->GoneIds()) {
    if (running.contains(id) && cache_->Revive(id)) ++revived;
  }
  // A runtime that did not answer may still run the container: forget only
  // when every runtime answered (entries stay bounded by the cache's capacity).
  if (all_answered) {
    // An id waiting for a retry is not listed yet either: it is not gone.
    for (const Retry& r : retries_) running.insert(r.id);
    for (const std::string& id : before) {
      if (!running.contains(id) && cache_->Erase(id)) ++erased;
    }
  }
  std::lock_guard lock(mu_);
  ++stats_.listings;
  stats_.exited += erased;
  stats_.revived += revived;
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
    if (!retries_.empty() && now >= retries_.front().due) {
      Retry r = std::move(retries_.front());
      retries_.pop_front();
      Fetch(r.id, r.attempt);
      continue;
    }
    auto until = next_list;
    if (!retries_.empty()) until = std::min(until, retries_.front().due);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
    if (auto id = cache_->NextRequest(wait)) Fetch(*id, 0);
  }
}

}  // namespace vigil::runtime
