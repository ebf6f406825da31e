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

const ContainerMetaCache::GoneRecord* ContainerMetaCache::FindGone(const std::string& id,
                                                            std::chrono::steady_clock::time_point now) const {
  if (gone_.empty()) return nullptr;
  auto it = gone_.find(id);
  if (it == gone_.end() || now - it->second.at >= kGoneFor) return nullptr;
  return &it->second;
}

void ContainerMetaCache::ExpireGone(std::chrono::steady_clock::time_point now) {
  while (!gone_order_.empty()) {
    const auto& [id, at] = gone_order_.front();
    auto it = gone_.find(id);
    const bool current = it != gone_.end() && it->second.at == at;  // else revived (and maybe gone again later)
    if (current && now - at < kGoneFor && gone_.size() <= kExitedCapacity &&
        gone_order_.size() <= 2 * kExitedCapacity)
      break;
    if (current) gone_.erase(it);
    gone_order_.pop_front();
  }
}

std::shared_ptr<const ContainerMeta> ContainerMetaCache::Lookup(std::string_view id) {
  if (id.empty() || id == kHostContainerId) return nullptr;
  std::lock_guard lock(mu_);
  ++stats_.lookups;
  // Heterogeneous lookup needs C++20 transparent hashing; ids are 12 bytes (SSO), so a copy is cheap.
  std::string key(id);
  auto it = entries_.find(key);
  if (it == entries_.end() && !gone_.empty()) {
    // A late event of a container that exited: its last metadata, no new entry.
    if (const GoneRecord* g = FindGone(key, std::chrono::steady_clock::now())) {
      ++stats_.gone_lookups;
      if (g->meta) ++stats_.hits;
      return g->meta;
    }
  }
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
  const std::string key(id);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second.state == State::kReady ? it->second.meta : nullptr;
  const GoneRecord* g = FindGone(key, std::chrono::steady_clock::now());
  return g ? g->meta : nullptr;
}

bool ContainerMetaCache::Gone(std::string_view id) const {
  std::lock_guard lock(mu_);
  return FindGone(std::string(id), std::chrono::steady_clock::now()) != nullptr;
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
  if (it == entries_.end() && FindGone(meta->id, std::chrono::steady_clock::now())) return;  // a stale request
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
  std::string key(id);
  auto it = entries_.find(key);
  // A pending entry stays: erased now, its fetch's answer would re-create it
  // (and its held events would go out without metadata); it is erased by the
  // first listing after the answer.
  if (it == entries_.end() || it->second.state == State::kPending) return false;
  if (it->second.state == State::kFailed) {
    // No runtime knew it: the listing's silence says nothing (a ctr
    // container outside CRI runs on), so it is forgotten, not announced.
    lru_.erase(it->second.lru);
    entries_.erase(it);
    ++stats_.erased;
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (exited_.size() >= kExitedCapacity) {
    exited_.pop_front();
    ++stats_.exited_drops;
  }
  exited_.push_back({key, it->second.meta});
  gone_[key] = {std::move(it->second.meta), now};
  gone_order_.emplace_back(key, now);
  lru_.erase(it->second.lru);
  entries_.erase(it);
  ++stats_.erased;
  ExpireGone(now);
  return true;
}

bool ContainerMetaCache::Revive(std::string_view id) {
  std::lock_guard lock(mu_);
  return gone_.erase(std::string(id)) > 0;  // its gone_order_ record is skipped when reached
}

std::optional<ExitedContainer> ContainerMetaCache::TakeExited() {
  std::lock_guard lock(mu_);
  if (exited_.empty()) return std::nullopt;
  ExitedContainer x = std::move(exited_.front());
  exited_.pop_front();
  return x;
}

std::vector<std::string> ContainerMetaCache::GoneIds() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  ids.reserve(gone_.size());
  for (const auto& [id, g] : gone_) ids.push_back(id);
  return ids;
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
  s.gone = gone_.size();  // expired ones too, until the next Erase() prunes them
  s.ready = 0;
  for (const auto& [id, e] : entries_) s.ready += e.state == State::kReady;
  return s;
}

}  // namespace vigil
