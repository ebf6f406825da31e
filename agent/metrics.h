// SPDX-License-Identifier: Apache-2.0
// Health and Prometheus metrics over HTTP (cpp-httplib), bound to 127.0.0.1 by default.
//
// Contract:
// - The hot thread owns every counter; once per Publish() it copies them into
//   a snapshot under a mutex. The HTTP thread renders only from the snapshot,
//   so scraping never touches the sensor, the engine or the BPF maps.
// - /healthz answers 200 "ok" while the hot thread has published within the
//   last `stale_after_s` seconds and every sink delivers, else 503 with the
//   reasons (one line each).
// - /metrics answers in the Prometheus text format (version 0.0.4).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/non_copyable.h"

namespace vigil::agent {

struct MetricsSnapshot {
  uint64_t events_total = 0;
  std::vector<std::pair<std::string, uint64_t>> events_by_type;  // evt.type -> count
  std::vector<std::pair<std::string, uint64_t>> kernel_counters;  // site -> count
  // The priority lane (docs/capture.md): on or off, records the kernel wrote
  // to its ring, and records it lost there (also the kernel error site
  // priority_ringbuf_drop).
  bool priority_lane = false;
  uint64_t priority_lane_received = 0;
  uint64_t priority_lane_dropped = 0;
  // Interest filter, per evt.type: events the kernel sent / left in the kernel.
  std::vector<std::pair<std::string, uint64_t>> kernel_sent_by_type;
  std::vector<std::pair<std::string, uint64_t>> kernel_filtered_by_type;
  std::vector<std::pair<std::string, uint64_t>> kernel_path_filtered_by_type;
  // Per enabled rule: the kernel's sent and path-filtered counts summed over
  // the rule's event types.
  std::vector<std::pair<std::string, uint64_t>> rule_events_sent;
  std::vector<std::pair<std::string, uint64_t>> rule_events_dropped;
  std::vector<std::pair<std::string, uint64_t>> decoder_rejects;  // reason -> count
  std::vector<std::pair<std::string, uint64_t>> rule_matches;     // rule -> count
  std::vector<std::pair<std::string, uint64_t>> alerts_throttled;  // rule -> alerts held back
  // Rules with `correlate:`: keys held now, and keys forgotten while live
  // because the rule's max_keys was reached (a burst may have been missed).
  std::vector<std::pair<std::string, uint64_t>> correlation_keys;
  std::vector<std::pair<std::string, uint64_t>> correlation_evicted;
  struct Sink {
    std::string name;
    uint64_t sent = 0, failed = 0, spooled = 0, dropped = 0, queued = 0;
    // Cannot deliver (file: cannot open or write; kafka: nothing delivered
    // while alerts wait): for how long and why.
    bool failing = false;
    uint64_t failing_for_s = 0;
    std::string problem;
    uint64_t pending = 0;  // kept for delivery, not yet confirmed (kafka: spool backlog)
  };
  std::vector<Sink> sinks;
  uint64_t process_table_size = 0;
  uint64_t process_table_evictions = 0;
  // The descriptor table (engine/state/fd_table.h).
  uint64_t fd_table_size = 0, fd_table_evictions = 0, fd_table_stale = 0;
  // DNS names of fd.*ip.name (engine/state/dns_cache.h).
  uint64_t dns_names = 0, dns_names_resolved = 0, dns_lookups = 0, dns_failures = 0, dns_refused = 0;
  uint64_t rules_loaded = 0;
  uint64_t reloads_ok = 0;
  uint64_t reloads_failed = 0;
  uint64_t bpf_programs_attached = 0;
  // Container metadata: cache counters by name (lookups, hits, fetched, ...),
  // and per runtime API (its socket) 1 when it answers, 0 when not.
  std::vector<std::pair<std::string, uint64_t>> container_meta;
  std::vector<std::pair<std::string, uint64_t>> container_runtime_up;
  std::vector<std::pair<std::string, uint64_t>> container_runtime_errors;
};

class MetricsServer : NonCopyable {
 public:
  // Binds host:port and serves on its own thread. Null and *error on failure.
  static std::unique_ptr<MetricsServer> Start(const std::string& host, int port, int stale_after_s,
                                              std::string* error);
  ~MetricsServer();

  // Hot thread: replaces the snapshot and marks the agent alive.
  void Publish(MetricsSnapshot snapshot);
  int port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Renders a snapshot in the Prometheus text format; also adds process RSS
// and CPU seconds read from /proc/self.
std::string RenderPrometheus(const MetricsSnapshot& s);

}  // namespace vigil::agent
