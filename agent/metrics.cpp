// SPDX-License-Identifier: Apache-2.0
#include "agent/metrics.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <httplib.h>

namespace vigil::agent {
namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string LabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void Labeled(std::ostringstream& o, const char* name, const char* label,
             const std::vector<std::pair<std::string, uint64_t>>& values) {
  for (const auto& [k, v] : values) o << name << '{' << label << "=\"" << LabelValue(k) << "\"} " << v << '\n';
}

// RSS bytes and CPU seconds of this process, from /proc/self/stat.
void SelfUsage(uint64_t* rss_bytes, double* cpu_seconds) {
  *rss_bytes = 0;
  *cpu_seconds = 0;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return;
  auto close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  std::vector<std::string> fields;
  while (rest >> f) fields.push_back(f);
  // Fields after ")" start at field 3 (state); utime=14, stime=15, rss=24.
  if (fields.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  *cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  *rss_bytes = std::stoull(fields[21]) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// httplib's default pool has a few workers and an unbounded queue, so a few
// hundred idle connections that never finish a request starve every scrape.
// Here each connection gets a worker of its own, up to kMaxConnections at
// once (more wait in order); with the 1 s read timeout an idle one lets go
// of its worker within a second.
class ConnectionPool : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(std::size_t max_threads) : max_threads_(max_threads) {}

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(fn));
    if (running_ < max_threads_ && idle_ == 0) {
      ++running_;
      std::thread([this] { Work(); }).detach();
    } else {
      cv_.notify_one();
    }
  }

  void shutdown() override {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    done_cv_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      // An idle worker lingers briefly for the next connection, then exits.
      cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) break;
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
    if (--running_ == 0) done_cv_.notify_all();
  }

  const std::size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::function<void()>> jobs_;
  std::size_t running_ = 0, idle_ = 0;
  bool stopping_ = false;
};

constexpr std::size_t kMaxConnections = 512;

}  // namespace

namespace {

// Events from the kernel: by type, filtered, lost, and the priority lane.
void RenderCapture(const MetricsSnapshot& s, std::ostringstream& o) {
  Header(o, "vigil_events_total", "counter", "Events received from the kernel.");
  o << "vigil_events_total " << s.events_total << '\n';
  Header(o, "vigil_events_by_type_total", "counter", "Events received, by evt.type.");
  Labeled(o, "vigil_events_by_type_total", "type", s.events_by_type);
  Header(o, "vigil_kernel_events_sent_total", "counter",
         "Events the kernel's interest filter passed to the ring buffer, by evt.type.");
  Labeled(o, "vigil_kernel_events_sent_total", "type", s.kernel_sent_by_type);
  Header(o, "vigil_kernel_events_filtered_total", "counter",
         "Events left in the kernel because no enabled rule can use their evt.type.");
  Labeled(o, "vigil_kernel_events_filtered_total", "type", s.kernel_filtered_by_type);
  Header(o, "vigil_kernel_events_path_filtered_total", "counter",
         "Opens (open, openat, openat2, creat) left in the kernel by the open path filter: the given path is "
         "absolute and plain and starts with no path prefix an enabled rule on the open family needs, by evt.type.");
  Labeled(o, "vigil_kernel_events_path_filtered_total", "type", s.kernel_path_filtered_by_type);
  Header(o, "vigil_kernel_errors_total", "counter",
         "Kernel-side losses and read failures by site (ringbuf_drop = events lost).");
  Labeled(o, "vigil_kernel_errors_total", "site", s.kernel_counters);
  Header(o, "vigil_priority_lane_enabled", "gauge",
         "1 when security-relevant records have a ring of their own (capture.priority_ringbuf_kb).");
  o << "vigil_priority_lane_enabled " << (s.priority_lane ? 1 : 0) << '\n';
  Header(o, "vigil_priority_lane_received_total", "counter",
         "Records the kernel wrote to the priority lane's ring (exec, fork, exit, bpf, modules, ptrace, set*id, "
         "mount, namespaces, opens of capture.priority_paths).");
  o << "vigil_priority_lane_received_total " << s.priority_lane_received << '\n';
  Header(o, "vigil_priority_lane_dropped_total", "counter",
         "Records lost because the priority lane's ring was full.");
  o << "vigil_priority_lane_dropped_total " << s.priority_lane_dropped << '\n';
  Header(o, "vigil_decoder_rejects_total", "counter", "Ring-buffer records the decoder rejected, by reason.");
  Labeled(o, "vigil_decoder_rejects_total", "reason", s.decoder_rejects);
}

// What the rules made of the events.
void RenderRules(const MetricsSnapshot& s, std::ostringstream& o) {
  Header(o, "vigil_rule_matches_total", "counter", "Alerts raised, by rule.");
  Labeled(o, "vigil_rule_matches_total", "rule", s.rule_matches);
  Header(o, "vigil_rule_events_sent_total", "counter",
         "Per enabled rule: events of the rule's event types (the evt.type values its condition allows) that the "
         "kernel sent to user space since the capture started, summed over those types (an event counts for every "
         "rule of its type, whichever rule's path prefix let it through).");
  Labeled(o, "vigil_rule_events_sent_total", "rule", s.rule_events_sent);
  Header(o, "vigil_rule_events_dropped_total", "counter",
         "Per enabled rule: events of the rule's event types that the kernel left there since the capture started "
         "(by the interest filter under an earlier ruleset, or by the open path filter), summed over those types.");
  Labeled(o, "vigil_rule_events_dropped_total", "rule", s.rule_events_dropped);
  Header(o, "vigil_alerts_throttled_total", "counter",
         "Alerts held back by the throttle, by rule (each summarised in a 'vigil alerts throttled' alert).");
  Labeled(o, "vigil_alerts_throttled_total", "rule", s.alerts_throttled);
  Header(o, "vigil_correlation_keys", "gauge", "Keys a correlate: rule holds (process trees being counted), by rule.");
  Labeled(o, "vigil_correlation_keys", "rule", s.correlation_keys);
  Header(o, "vigil_correlation_keys_evicted_total", "counter",
         "Live keys a correlate: rule forgot because its max_keys was reached (a burst may be missed), by rule.");
  Labeled(o, "vigil_correlation_keys_evicted_total", "rule", s.correlation_evicted);
}

// Alert delivery, per sink.
void RenderSinks(const MetricsSnapshot& s, std::ostringstream& o) {
  const struct {
    const char* name;
    const char* help;
    uint64_t MetricsSnapshot::Sink::*field;
  } kSink[] = {
      {"vigil_alerts_sent_total", "Alerts a sink delivered.", &MetricsSnapshot::Sink::sent},
      {"vigil_alerts_failed_total", "Alert deliveries that failed.", &MetricsSnapshot::Sink::failed},
      {"vigil_alerts_spooled_total", "Alerts written to a sink's disk spool.", &MetricsSnapshot::Sink::spooled},
      {"vigil_alerts_dropped_total", "Alerts a sink dropped (queue or spool full).", &MetricsSnapshot::Sink::dropped},
      {"vigil_alerts_queued", "Alerts waiting in a sink's queue.", &MetricsSnapshot::Sink::queued},
      {"vigil_alerts_pending", "Alerts kept for delivery and not yet confirmed (kafka: the spool's backlog).",
       &MetricsSnapshot::Sink::pending},
  };
  for (const auto& m : kSink) {
    Header(o, m.name, std::string_view(m.name).ends_with("_total") ? "counter" : "gauge", m.help);
    for (const auto& sink : s.sinks) o << m.name << "{sink=\"" << LabelValue(sink.name) << "\"} " << sink.*(m.field) << '\n';
  }
  Header(o, "vigil_sink_delivering", "gauge", "1 while a sink delivers, 0 while it cannot (see /healthz).");
  for (const auto& sink : s.sinks)
    o << "vigil_sink_delivering{sink=\"" << LabelValue(sink.name) << "\"} " << (sink.failing ? 0 : 1) << '\n';
}

// The process table and the container metadata cache.
void RenderState(const MetricsSnapshot& s, std::ostringstream& o) {
  Header(o, "vigil_process_table_size", "gauge", "Processes tracked.");
  o << "vigil_process_table_size " << s.process_table_size << '\n';
  Header(o, "vigil_process_table_evictions_total", "counter", "Processes evicted from the full table.");
  o << "vigil_process_table_evictions_total " << s.process_table_evictions << '\n';
  Header(o, "vigil_fd_table_size", "gauge", "Descriptors whose opened name is known (fd.name of fd-based calls).");
  o << "vigil_fd_table_size " << s.fd_table_size << '\n';
  Header(o, "vigil_fd_table_evictions_total", "counter",
         "Descriptor entries dropped because a process (64) or the table was full.");
  o << "vigil_fd_table_evictions_total " << s.fd_table_evictions << '\n';
  Header(o, "vigil_fd_table_stale_total", "counter",
         "Descriptor entries found to name another file than the call's (closed and reused unseen, or renamed).");
  o << "vigil_fd_table_stale_total " << s.fd_table_stale << '\n';
  Header(o, "vigil_dns_names", "gauge", "DNS names the rules compare fd.*ip.name with, and those resolved now.");
  o << "vigil_dns_names{state=\"registered\"} " << s.dns_names << '\n';
  o << "vigil_dns_names{state=\"resolved\"} " << s.dns_names_resolved << '\n';
  Header(o, "vigil_dns_lookups_total", "counter", "DNS lookups of those names (getaddrinfo), by result.");
  o << "vigil_dns_lookups_total{result=\"ok\"} " << (s.dns_lookups - s.dns_failures) << '\n';
  o << "vigil_dns_lookups_total{result=\"failed\"} " << s.dns_failures << '\n';
  Header(o, "vigil_dns_names_refused_total", "counter", "Names not resolved because 1024 were registered already.");
  o << "vigil_dns_names_refused_total " << s.dns_refused << '\n';
  Header(o, "vigil_container_meta_total", "counter",
         "Container metadata cache: lookups, hits, requests, queue_drops, fetched, failed, evictions, erased, held, "
         "held_timeouts, held_drops; size, ready and gone (exited ids remembered for late events) are gauges; "
         "gone_lookups (late events of an exited container); container_events (synthesized on a container's first "
         "event), container_events_reemitted (again with metadata that came late), container_events_incomplete "
         "(evaluated without metadata), container_events_gave_up (no metadata came), container_events_late (events "
         "of a container already announced removed), container_removed_events (made when a container exited), "
         "exited_drops and container_removed_drops (exits not announced: too many waiting).");
  Labeled(o, "vigil_container_meta_total", "what", s.container_meta);
  Header(o, "vigil_container_runtime_up", "gauge", "1 when the container runtime's API answers, by socket.");
  Labeled(o, "vigil_container_runtime_up", "socket", s.container_runtime_up);
  Header(o, "vigil_container_runtime_errors_total", "counter", "Runtime API calls without a valid answer, by socket.");
  Labeled(o, "vigil_container_runtime_errors_total", "socket", s.container_runtime_errors);
}

// The agent itself: ruleset, reloads, programs attached, memory and CPU.
void RenderAgent(const MetricsSnapshot& s, std::ostringstream& o) {
  Header(o, "vigil_rules_loaded", "gauge", "Rules loaded in the active ruleset.");
  o << "vigil_rules_loaded " << s.rules_loaded << '\n';
  Header(o, "vigil_reloads_total", "counter", "Configuration and rules reloads, by result.");
  o << "vigil_reloads_total{result=\"ok\"} " << s.reloads_ok << '\n';
  o << "vigil_reloads_total{result=\"failed\"} " << s.reloads_failed << '\n';
  Header(o, "vigil_bpf_programs_attached", "gauge", "BPF programs loaded and attached.");
  o << "vigil_bpf_programs_attached " << s.bpf_programs_attached << '\n';
  uint64_t rss = 0;
  double cpu = 0;
  SelfUsage(&rss, &cpu);
  Header(o, "process_resident_memory_bytes", "gauge", "Resident memory of the agent.");
  o << "process_resident_memory_bytes " << rss << '\n';
  Header(o, "process_cpu_seconds_total", "counter", "CPU time of the agent (user + system).");
  o << "process_cpu_seconds_total " << cpu << '\n';
}

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& s) {
  std::ostringstream o;
  RenderCapture(s, o);
  RenderRules(s, o);
  RenderSinks(s, o);
  RenderState(s, o);
  RenderAgent(s, o);
  return o.str();
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  int stale_after_s = 10;
  std::mutex mu;
  MetricsSnapshot snapshot;
  std::chrono::steady_clock::time_point last_publish{};
  bool published = false;
};

std::unique_ptr<MetricsServer> MetricsServer::Start(const std::string& host, int port, int stale_after_s,
                                                    std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->stale_after_s = stale_after_s;
  Impl* p = impl.get();
  p->server.Get("/healthz", [p](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(p->mu);
    const auto age = std::chrono::steady_clock::now() - p->last_publish;
    if (!p->published) {
      res.status = 503;
      res.set_content("starting\n", "text/plain");
    } else {
      std::string problems;
      if (age > std::chrono::seconds(p->stale_after_s))
        problems += "stalled: the event loop has not reported for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) + "s\n";
      for (const auto& sink : p->snapshot.sinks)
        if (sink.failing)
          problems += "sink " + sink.name + ": cannot deliver for " + std::to_string(sink.failing_for_s) + "s" +
                      (sink.problem.empty() ? "" : ": " + sink.problem) + "\n";
      if (problems.empty()) {
        res.set_content("ok\n", "text/plain");
      } else {
        res.status = 503;
        res.set_content(problems, "text/plain");
      }
    }
  });
  p->server.Get("/metrics", [p](const httplib::Request&, httplib::Response& res) {
    MetricsSnapshot copy;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      copy = p->snapshot;
    }
    res.set_content(RenderPrometheus(copy), "text/plain; version=0.0.4");
  });
  // A client gets 1 s for each part of its request and its reply, and one
  // request per connection: nothing idle holds a worker for long.
  p->server.set_read_timeout(1, 0);
  p->server.set_write_timeout(1, 0);
  p->server.set_keep_alive_max_count(1);
  p->server.new_task_queue = [] { return new ConnectionPool(kMaxConnections); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a
  // second process bind the same port and answer scrapes in our name.
  p->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    p->port = p->server.bind_to_any_port(host.c_str());
  } else {
    p->port = p->server.bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (p->port < 0) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + " (address in use or not local)";
    return nullptr;
  }
  p->thread = std::thread([p] { p->server.listen_after_bind(); });
  // stop() is a no-op until the loop runs; wait for it so shutdown cannot hang.
  for (int i = 0; i < 500 && !p->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void MetricsServer::Publish(MetricsSnapshot snapshot) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->snapshot = std::move(snapshot);
  impl_->last_publish = std::chrono::steady_clock::now();
  impl_->published = true;
}

int MetricsServer::port() const { return impl_->port; }

}  // namespace vigil::agent
