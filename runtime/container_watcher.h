// SPDX-License-Identifier: Apache-2.0
// The fetcher thread that fills a ContainerMetaCache from the container
// runtimes' APIs: it inspects each container id the hot thread asks about,
// and every `list_interval` lists the containers of each runtime to forget
// the ones that exited (ContainerMetaCache::Erase(): each is announced once)
// and to notice a restarted one (ContainerMetaCache::Revive()).
//
// Contract:
// - All runtime I/O happens on the watcher's own thread; the hot thread only
//   touches the cache (engine/state/container_meta.h).
// - A runtime whose socket is missing or does not answer is a warning (logged
//   when its state changes, not per request) and a counter, never a failure;
//   it is tried again at the next request or listing.
// - An id no runtime knows yet is asked again kNotFoundRetries times,
//   kNotFoundRetryEvery apart (containerd registers a pod sandbox only after
//   its pause process runs, so its first event often asks too early), and
//   only then marked failed; meanwhile it stays pending, so the hold keeps its
//   events (agent/container_hold.h). At most kMaxRetries ids wait at once;
//   beyond that an unknown id fails at once.
// - A listing judges only the entries that were in the cache before it was
//   asked for, and erases nothing unless every runtime answered it.
// - Stop() (or the destructor) joins the thread within about one timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/non_copyable.h"
#include "engine/state/container_meta.h"
#include "runtime/runtime_client.h"

namespace vigil::runtime {

struct RuntimeEndpoint {
  // "docker" or "podman" (both speak the Docker Engine API), "containerd" or
  // "cri-o" (both speak CRI v1 over gRPC: runtime/cri_api.h).
  std::string type;
  std::string socket;  // unix socket path
};

// The client for an endpoint's type (unknown types: the Docker Engine API).
std::unique_ptr<RuntimeClient> MakeRuntimeClient(const RuntimeEndpoint& endpoint, std::chrono::milliseconds timeout);

struct ContainerWatcherOptions {
  std::vector<RuntimeEndpoint> runtimes;
  std::chrono::milliseconds timeout{1000};        // per API call
  std::chrono::milliseconds list_interval{2000};  // exited containers are forgotten within this
};

struct RuntimeStatus {
  std::string type, socket;
  bool reachable = false;
  bool contacted = false;  // tried at least once
  uint64_t errors = 0;  // calls that got no (valid) answer
};

struct ContainerWatcherStats {
  std::vector<RuntimeStatus> runtimes;
  uint64_t inspects = 0;    // inspect calls made
  uint64_t not_found = 0;   // ids no runtime knew (after the retries)
  uint64_t retries = 0;     // inspects repeated because no runtime knew the id yet
  uint64_t listings = 0;    // listing rounds
  uint64_t exited = 0;      // cache entries erased because the container was gone
  uint64_t revived = 0;     // exited containers listed again (restarted)
};

class ContainerWatcher : NonCopyable {
 public:
  static constexpr int kNotFoundRetries = 4;
  static constexpr std::chrono::milliseconds kNotFoundRetryEvery{250};
  static constexpr std::size_t kMaxRetries = 256;

  ContainerWatcher(std::shared_ptr<ContainerMetaCache> cache, ContainerWatcherOptions options);
  ~ContainerWatcher();

  void Start();
  void Stop();
  ContainerWatcherStats Stats() const;

 private:
  void Run();
  // `attempt`: 0 for the first ask, n for the n-th retry.
  void Fetch(const std::string& id, int attempt);
  void ListAll();
  void Note(std::size_t runtime, bool ok, const std::string& error);

  std::shared_ptr<ContainerMetaCache> cache_;
  ContainerWatcherOptions options_;
  std::vector<std::unique_ptr<RuntimeClient>> clients_;  // one per options_.runtimes, same order
  struct Retry {
    std::string id;
    int attempt;
    std::chrono::steady_clock::time_point due;
  };
  std::deque<Retry> retries_;  // watcher thread only; due times in order (one fixed delay)
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;  // guards stats_
  ContainerWatcherStats stats_;
};

}  // namespace vigil::runtime
