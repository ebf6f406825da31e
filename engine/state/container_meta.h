// SPDX-License-Identifier: Apache-2.0
// Container metadata (name, image, privileged, mounts, labels, Kubernetes pod)
// as a container runtime reports it, and the bounded cache the hot thread
// reads it from. No sockets here: the runtime clients (runtime/) fill the
// cache from their own thread; the engine only reads it.
//
// Contract:
// - ContainerMetaCache is thread-safe: one mutex, held for a hash lookup or an
//   insert, never across I/O. The hot thread calls Lookup(); the fetcher
//   thread calls NextRequest(), Put(), Fail() and Erase().
// - Lookup() never blocks on a runtime: an id it does not know is queued for
//   the fetcher (a bounded queue; a full queue drops the request, counted)
//   and nullptr is returned until the metadata is there.
// - Bounded: at most `capacity` containers (ready, pending or failed); when
//   full the least recently looked-up entry goes (counted). Erase() (the
//   container exited) frees an entry at once.
// - A ContainerMeta is immutable once published (shared_ptr<const>): an event
//   keeps the one it was given even if the entry is replaced or erased.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil {

struct ContainerMount {
  std::string source;       // host path (or volume source)
  std::string dest;         // path inside the container
  std::string mode;         // runtime's mode string ("", "ro", "z", ...)
  std::string propagation;  // "rprivate", "rshared", ... ("" when not reported)
  bool rw = true;
};

struct ContainerMeta {
  std::string id;       // 12 hex (the key: ContainerIdFromCgroup)
  std::string full_id;  // 64 hex
  std::string type;     // "docker", "podman", "cri" ...: which runtime answered
  std::string name;     // without the leading '/'
  std::string image;    // as the container was created from ("repo:tag", "repo@sha256:...")
  std::string image_repository;
  std::string image_tag;
  std::string image_digest;
  std::string image_id;  // "sha256:..." as the runtime gives it
  bool privileged = false;
  std::vector<ContainerMount> mounts;
  int64_t start_ns = 0;  // container start, ns since the epoch (0 unknown)
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  std::string k8s_pod_name, k8s_ns_name, k8s_pod_uid, k8s_container_name;
  // The pod's own labels, when the runtime reports the pod (CRI's
  // PodSandboxStatus): sorted by key. Without it (docker, podman) pod labels
  // are looked up among the container's labels.
  bool has_pod_labels = false;
  std::vector<std::pair<std::string, std::string>> pod_labels;

  // The value of label `key`, or nullptr.
  const std::string* Label(std::string_view key) const;
  // The value of the pod's label `key` (see pod_labels), or nullptr; nullptr
  // for a container that is not in a Kubernetes pod.
  const std::string* PodLabel(std::string_view key) const;
};

// Splits an image reference into repository, tag and digest: "reg:5000/a/b:1.2"
// -> ("reg:5000/a/b", "1.2", ""); "a/b@sha256:..." -> ("a/b", "", "sha256:...");
// "busybox" -> ("busybox", "latest", "") (the runtimes' default tag).
void SplitImageRef(std::string_view ref, std::string* repository, std::string* tag, std::string* digest);

// Fills the k8s_* fields from the io.kubernetes.* labels the CRI runtimes set.
void FillK8sFromLabels(ContainerMeta* meta);

struct ContainerMetaStats {
  std::size_t size = 0;       // entries held (any state)
  std::size_t ready = 0;      // with metadata
  uint64_t lookups = 0;       // Lookup() of a container id (not "host")
  uint64_t hits = 0;          // lookups answered with metadata
  uint64_t requests = 0;      // ids queued for the fetcher
  uint64_t queue_drops = 0;   // ids not queued: the queue was full
  uint64_t fetched = 0;       // Put()
  uint64_t failed = 0;        // Fail(): no runtime knew the id, or it was unreachable
  uint64_t evictions = 0;     // entries dropped because the cache was full
  uint64_t erased = 0;        // entries dropped because the container exited
};

class ContainerMetaCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::size_t kQueueCapacity = 1024;
  // A failed id is asked again after this long (the runtime may come back).
  static constexpr std::chrono::seconds kRetryAfter{30};

  explicit ContainerMetaCache(std::size_t capacity = kDefaultCapacity);

  // Hot thread. The metadata of container `id` (12 hex), or nullptr when there
  // is none yet (queued for the fetcher), the fetch failed, or `id` is empty
  // or "host".
  std::shared_ptr<const ContainerMeta> Lookup(std::string_view id);
  // The metadata of `id` when it is ready, else nullptr; unlike Lookup()
  // it neither queues a fetch nor counts nor touches the LRU order.
  std::shared_ptr<const ContainerMeta> Peek(std::string_view id) const;
  // True while `id`'s fetch is queued or running (not ready, not failed).
  bool Pending(std::string_view id) const;

  // Fetcher thread: the next id to fetch; waits up to `timeout`. nullopt on
  // timeout or after Close().
  std::optional<std::string> NextRequest(std::chrono::milliseconds timeout);
  void Put(std::shared_ptr<const ContainerMeta> meta);
  void Fail(std::string_view id);
  // The container exited: forget it. Returns true when it was held.
  bool Erase(std::string_view id);
  // Wakes NextRequest() callers for good (shutdown).
  void Close();
  // Ids held, any state (the fetcher compares them with the running set).
  std::vector<std::string> Ids() const;

  ContainerMetaStats Stats() const;

 private:
  enum class State : uint8_t { kPending, kReady, kFailed };
  struct Entry {
    State state = State::kPending;
    std::shared_ptr<const ContainerMeta> meta;
    std::chrono::steady_clock::time_point failed_at;
    std::list<std::string>::iterator lru;
  };
  Entry& Insert(const std::string& id);  // new entry at the LRU front; evicts when full
  void Touch(Entry& e);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t capacity_;
  bool closed_ = false;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front: most recently used
  std::deque<std::string> queue_;
  ContainerMetaStats stats_;
};

}  // namespace vigil
