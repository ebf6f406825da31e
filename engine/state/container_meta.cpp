// SPDX-License-Identifier: Apache-2.0
#include "engine/state/container_meta.h"

#include <algorithm>

#include "engine/state/container.h"

namespace vigil {

namespace {

const std::string* FindLabel(const std::vector<std::pair<std::string, std::string>>& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != labels.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace

const std::string* ContainerMeta::Label(std::string_view key) const { return FindLabel(labels, key); }

const std::string* ContainerMeta::PodLabel(std::string_view key) const {
  if (k8s_pod_name.empty()) return nullptr;
  return FindLabel(has_pod_labels ? pod_labels : labels, key);
}

void SplitImageRef(std::string_view ref, std::string* repository, std::string* tag, std::string* digest) {
  repository->clear();
  tag->clear();
  digest->clear();
  if (auto at = ref.find('@'); at != std::string_view::npos) {
    *digest = std::string(ref.substr(at + 1));
    ref = ref.substr(0, at);
  }
  // A ':' after the last '/' is a tag; one before it is a registry's port.
  std::size_t slash = ref.rfind('/');
  std::size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    *tag = std::string(ref.substr(colon + 1));
    ref = ref.substr(0, colon);
  } else if (digest->empty() && !ref.empty()) {
    *tag = "latest";
  }
  *repository = std::string(ref);
}

void FillK8sFromLabels(ContainerMeta* meta) {
  if (const std::string* v = meta->Label("io.kubernetes.pod.name")) meta->k8s_pod_name = *v;
  if (const std::string* v = meta->Label("io.kubernetes.pod.namespace")) meta->k8s_ns_name = *v;
  if (const std::string* v = meta->Label("io.kubernetes.pod.uid")) meta->k8s_pod_uid = *v;
  if (const std::string* v = meta->Label("io.kubernetes.container.name")) meta->k8s_container_name = *v;
}

ContainerMetaCache::ContainerMetaCache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  entries_.reserve(capacity_);
}

ContainerMetaCache::Entry& ContainerMetaCache::Insert(const std::string& id) {
  if (entries_.size() >= capacity_ && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
    ++stats_.evictions;
  }
  lru_.push_front(id);
  Entry& e = entries_[id];
  e.lru = lru_.begin();
  return e;
}

void ContainerMetaCache::Touch(Entry& e) {
  if (e.lru != lru_.begin()) lru_.splice(lru_.begin(), lru_, e.lru);
}

std::shared_ptr<const ContainerMeta> ContainerMetaCache::Lookup(std::string_view id) {
  if (id.empty() || id == kHostContainerId) return nullptr;
  std::lock_guard lock(mu_);
  ++stats_.lookups;
  // Heterogeneous lookup needs C++20 transparent hashing; ids are 12 bytes (SSO), so a copy is cheap.
  std::string key(id);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Entry& e = it->second;
    Touch(e);
    if (e.state == State::kReady) {
      ++stats_.hits;
      return e.meta;
    }
    if (e.state == State::kPending) return nullptr;
    if (std::chrono::steady_clock::now() - e.failed_at < kRetryAfter) return nullptr;
    e.state = State::kPending;  // retry below
  } else {
    Insert(key);
  }
  if (queue_.size() >= kQueueCapacity) {
    ++stats_.queue_drops;
    Entry& e = entries_[key];
    e.state = State::kFailed;  // asked again after kRetryAfter
    e.failed_at = std::chrono::steady_clock::now();
    return nullptr;
  }
  queue_.push_back(std::move(key));
  ++stats_.requests;
  cv_.notify_one();
  return nullptr;
}

std::shared_ptr<const ContainerMeta> ContainerMetaCache::Peek(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(id));
  return it != entries_.end() && it->second.state == State::kReady ? it->second.meta : nullptr;
}

bool ContainerMetaCache::Pending(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(id));
  return it != entries_.end() && it->second.state == State::kPending;
}

std::optional<std::string> ContainerMetaCache::NextRequest(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) return std::nullopt;
  std::string id = std::move(queue_.front());
  queue_.pop_front();
  return id;
}

void ContainerMetaCache::Put(std::shared_ptr<const ContainerMeta> meta) {
  if (!meta || meta->id.empty()) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(meta->id);
  Entry& e = it != entries_.end() ? it->second : Insert(meta->id);
  e.state = State::kReady;
  e.meta = std::move(meta);
  ++stats_.fetched;
}

void ContainerMetaCache::Fail(std::string_view id) {
  std::lock_guard lock(mu_);
  ++stats_.failed;
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  it->second.state = State::kFailed;
  it->second.failed_at = std::chrono::steady_clock::now();
}

bool ContainerMetaCache::Erase(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return false;
  lru_.erase(it->second.lru);
  entries_.erase(it);
  ++stats_.erased;
  return true;
}

void ContainerMetaCache::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::vector<std::string> ContainerMetaCache::Ids() const {
  std::lock_guard lock(mu_);
  return {lru_.begin(), lru_.end()};
}

ContainerMetaStats ContainerMetaCache::Stats() const {
  std::lock_guard lock(mu_);
  ContainerMetaStats s = stats_;
  s.size = entries_.size();
  s.ready = 0;
  for (const auto& [id, e] : entries_) s.ready += e.state == State::kReady;
  return s;
}

}  // namespace vigil
