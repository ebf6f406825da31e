// SPDX-License-Identifier: Apache-2.0
// The metrics endpoint over real HTTP on loopback: health states and the Prometheus text.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <httplib.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "agent/metrics.h"

TEST_CASE("healthz reports starting, ok; metrics parse as Prometheus text", "[unit]") {
  std::string err;
  auto server = vigil::agent::MetricsServer::Start("127.0.0.1", 0, 10, &err);
  REQUIRE(server != nullptr);
  httplib::Client client("127.0.0.1", server->port());

  auto h = client.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 503);
  CHECK(h->body == "starting\n");

  vigil::agent::MetricsSnapshot s;
  s.events_total = 42;
  s.events_by_type = {{"openat", 40}, {"execve", 2}};
  s.rule_matches = {{"Rule with \"quotes\"", 3}};
  s.sinks = {{"file", 3, 0, 0, 1, 0, false, 0, ""}};
  s.sinks[0].pending = 7;
  s.kernel_counters = {{"ringbuf_drop", 0}, {"priority_ringbuf_drop", 2}};
  s.priority_lane = true;
  s.priority_lane_received = 9;
  s.priority_lane_dropped = 2;
  server->Publish(s);

  h = client.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);

  auto m = client.Get("/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  // Every non-comment line is `name{labels} value` with a numeric value.
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [0-9.eE+-]+$)");
  std::istringstream lines(m->body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    INFO(line);
    CHECK(std::regex_match(line, sample));
    ++samples;
  }
  CHECK(samples > 10);
  CHECK(m->body.find("vigil_events_total 42\n") != std::string::npos);
  CHECK(m->body.find("vigil_alerts_pending{sink=\"file\"} 7\n") != std::string::npos);
  CHECK(m->body.find("vigil_priority_lane_enabled 1\n") != std::string::npos);
  CHECK(m->body.find("vigil_priority_lane_received_total 9\n") != std::string::npos);
  CHECK(m->body.find("vigil_priority_lane_dropped_total 2\n") != std::string::npos);
  CHECK(m->body.find("vigil_events_by_type_total{type=\"openat\"} 40\n") != std::string::npos);
  CHECK(m->body.find("vigil_rule_matches_total{rule=\"Rule with \\\"quotes\\\"\"} 3\n") != std::string::npos);
  CHECK(m->body.find("vigil_alerts_dropped_total{sink=\"file\"} 1\n") != std::string::npos);
  CHECK(m->body.find("process_resident_memory_bytes ") != std::string::npos);
}

TEST_CASE("healthz reports a stalled event loop", "[unit]") {
  std::string err;
  auto server = vigil::agent::MetricsServer::Start("127.0.0.1", 0, 1, &err);
  REQUIRE(server != nullptr);
  server->Publish({});
  httplib::Client client("127.0.0.1", server->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto h = client.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 503);
  CHECK(h->body.rfind("stalled", 0) == 0);
}

// Issue 24 item 6: /healthz said ok while the file sink could not open its
// path and every alert was being kept for a retry that never succeeded.
TEST_CASE("healthz fails while a sink cannot deliver, naming the sink and why", "[unit]") {
  std::string err;
  auto server = vigil::agent::MetricsServer::Start("127.0.0.1", 0, 10, &err);
  REQUIRE(server != nullptr);
  httplib::Client client("127.0.0.1", server->port());
  vigil::agent::MetricsSnapshot s;
  s.sinks = {{"stdout", 1, 0, 0, 0, 0, false, 0, ""},
             {"file", 0, 4, 4, 0, 0, true, 12, "No such file or directory"}};
  server->Publish(s);
  auto h = client.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 503);
  CHECK(h->body == "sink file: cannot deliver for 12s: No such file or directory\n");
  auto m = client.Get("/metrics");
  REQUIRE(m);
  CHECK(m->body.find("vigil_sink_delivering{sink=\"file\"} 0\n") != std::string::npos);
  CHECK(m->body.find("vigil_sink_delivering{sink=\"stdout\"} 1\n") != std::string::npos);
  s.sinks[1].failing = false;
  server->Publish(s);
  h = client.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
}

TEST_CASE("a port in use is an error, not a crash", "[unit]") {
  std::string err;
  auto first = vigil::agent::MetricsServer::Start("127.0.0.1", 0, 10, &err);
  REQUIRE(first != nullptr);
  auto second = vigil::agent::MetricsServer::Start("127.0.0.1", first->port(), 10, &err);
  CHECK(second == nullptr);
  CHECK(err.find("cannot listen on 127.0.0.1:") != std::string::npos);
}

// Issue 24 item 9: ~700 idle connections that sent half a request made
// /healthz and /metrics time out: each held one of httplib's few workers for
// its 5 s read timeout, and the rest queued behind them. Now a connection
// gets its own worker (up to kMaxConnections at once) and 1 s to send each
// part of its request.
TEST_CASE("healthz answers while many idle half-sent connections are open", "[unit]") {
  std::string err;
  auto server = vigil::agent::MetricsServer::Start("127.0.0.1", 0, 10, &err);
  REQUIRE(server != nullptr);
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const char half[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // never finished
    REQUIRE(write(fd, half, sizeof half - 1) > 0);
    idle.push_back(fd);
  }
  server->Publish({});
  httplib::Client client("127.0.0.1", server->port());
  client.set_read_timeout(10, 0);
  const auto start = std::chrono::steady_clock::now();
  auto h = client.Get("/healthz");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int fd : idle) close(fd);
  INFO("healthz took " << seconds << " s behind 200 idle connections");
  // Before the fix no answer came within the client's 10 s. The bound is
  // looser under ASan/UBSan: one CI run took 4.0 s there (0.002 s when run
  // alone; cause not established: a dropped SYN retried at 1 s + 3 s would
  // give that). A check of the behaviour, not a benchmark.
#if defined(__SANITIZE_ADDRESS__)
  constexpr double kBound = 8.0;
#else
  constexpr double kBound = 2.5;
#endif
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(seconds < kBound);
}
