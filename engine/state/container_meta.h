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
//   container exited) frees an entry at once, unless its fetch is still
//   pending (the fetch decides first; the next listing erases it).
// - Exits: an erased container that had its metadata is handed to
//   TakeExited() once (at most kExitedCapacity wait, the oldest dropped
//   first, counted), so the hot thread can announce the stop exactly once;
//   a failed one is only forgotten. Its id is remembered as
//   exited ("gone", with its metadata) for kGoneFor, at most kExitedCapacity
//   ids: a late event of the container (still in the ring buffer or the hold
//   when the listing missed it) gets that metadata from Lookup() and neither
//   queues a fetch nor re-creates the entry, so it can not be announced gone
//   a second time. Revive() (the listing has the id again: a restart)
//   forgets the gone id, and the next Lookup() fetches anew.
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
  uint64_t exited_drops = 0;  // exited containers dropped before TakeExited() took them
  std::size_t gone = 0;       // exited ids remembered (gauge; expired ones until pruned)
  uint64_t gone_lookups = 0;  // lookups of an exited container (late events), answered without a fetch
};

// A container the listing found gone: handed to the hot thread once.
struct ExitedContainer {
  std::string id;                              // 12 hex
  std::shared_ptr<const ContainerMeta> meta;  // never null
};

class ContainerMetaCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  static constexpr std::size_t kQueueCapacity = 1024;
  static constexpr std::size_t kExitedCapacity = 1024;
  // How long an exited id is remembered (late events; see the contract).
  static constexpr std::chrono::seconds kGoneFor{60};
  // A failed id is asked again after this long (the runtime may come back).
  static constexpr std::chrono::seconds kRetryAfter{30};

  explicit ContainerMetaCache(std::size_t capacity = kDefaultCapacity);

  // Hot thread. The metadata of container `id` (12 hex), or nullptr when there
  // is none yet (queued for the fetcher), the fetch failed, or `id` is empty
  // or "host".
  std::shared_ptr<const ContainerMeta> Lookup(std::string_view id);
  // The metadata of `id` when it is ready (or `id` exited and had it), else
  // nullptr; unlike Lookup() it neither queues a fetch nor counts nor
  // touches the LRU order.
  std::shared_ptr<const ContainerMeta> Peek(std::string_view id) const;
  // True while `id`'s fetch is queued or running (not ready, not failed).
  bool Pending(std::string_view id) const;
  // True while `id` is remembered as exited (Erase(), not yet revived or
  // expired).
  bool Gone(std::string_view id) const;

  // Fetcher thread: the next id to fetch; waits up to `timeout`. nullopt on
  // timeout or after Close().
  std::optional<std::string> NextRequest(std::chrono::milliseconds timeout);
  // A fetch's answer. One for an id that is neither held nor pending but
  // gone (a request queued before the container exited) is dropped.
  void Put(std::shared_ptr<const ContainerMeta> meta);
  void Fail(std::string_view id);
  // The container exited: forget it. One with metadata is remembered as gone
  // and waits for TakeExited(); a failed one is only forgotten (no runtime
  // knew it, so its absence from a listing proves nothing). Returns true
  // when it was erased; false when it was not held, or its fetch is pending
  // (kept: the next listing after the answer decides).
  bool Erase(std::string_view id);
  // The listing has `id` again (a container restarted with the same id):
  // forget that it exited. True when it was gone.
  bool Revive(std::string_view id);
  // Hot thread: the next container Erase() forgot (oldest first), or nullopt.
  std::optional<ExitedContainer> TakeExited();
  // Ids remembered as exited (the watcher revives the ones listed again).
  std::vector<std::string> GoneIds() const;
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
  struct GoneRecord {
    std::shared_ptr<const ContainerMeta> meta;
    std::chrono::steady_clock::time_point at;
  };
  Entry& Insert(const std::string& id);  // new entry at the LRU front; evicts when full
  void Touch(Entry& e);
  // The gone record of `id` when there is one that has not expired; mu_ held.
  const GoneRecord* FindGone(const std::string& id, std::chrono::steady_clock::time_point now) const;
  // Drops expired gone records, and the oldest beyond kExitedCapacity; mu_ held.
  void ExpireGone(std::chrono::steady_clock::time_point now);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t capacity_;
  bool closed_ = false;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front: most recently used
  std::deque<std::string> queue_;
  std::deque<ExitedContainer> exited_;
  std::unordered_map<std::string, GoneRecord> gone_;
  // gone_'s ids in the order they exited (for the bound and expiry); an id
  // revived and gone again appears twice, the stale one is skipped.
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> gone_order_;
  ContainerMetaStats stats_;
};

}  // namespace vigil
