// SPDX-License-Identifier: Apache-2.0
// Container metadata: the bounded cache, the Docker Engine API parsers (fed an
// answer podman 4.3's compatible service gave on the development host), the
// chunked-body decoder, and the container.* / k8s.* fields read from it.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "engine/fields/field_table.h"
#include "engine/state/container_meta.h"
#include "runtime/docker_api.h"
#include "runtime/unix_http.h"
#include "tests/unit/engine/engine_test_util.h"
#include "tests/unit/state/container_meta_util.h"

namespace vigil {
namespace {

// GET /v1.41/containers/1bcf83c91f3d/json from `podman system service`, for
// `podman run --privileged -v /etc:/host/etc -l app=vigil-test --name vigil-meta-podman
// localhost/vigil-busybox:test sleep 30`, trimmed to the keys vigil reads.
const char* kPodmanInspect = R"({"Id": "1bcf83c91f3d3b00f1fbbb124edcc0e368f98f8274e524655c8ec5fa754919ba", "Created": "2026-12-05T08:51:22.2362946Z", "State": {"Status": "running", "Running": true, "Pid": 26588, "StartedAt": "2026-12-05T08:51:22.957671109Z"}, "Image": "sha256:5922a97e92816a0902ed828e735dd65f9bd92b28c20767dd4bed15fc0148ec13", "Name": "/vigil-meta-podman", "HostConfig": {"Binds": ["/etc:/host/etc:rw,rprivate,rbind"], "Privileged": true}, "Mounts": [{"Type": "bind", "Source": "/etc", "Destination": "/host/etc", "Mode": "", "RW": true, "Propagation": "rprivate"}], "Config": {"Hostname": "1bcf83c91f3d", "Image": "localhost/vigil-busybox:test", "Labels": {"app": "vigil-test"}}})";

std::shared_ptr<ContainerMeta> Meta(std::string id) {
  auto m = std::make_shared<ContainerMeta>();
  m->id = std::move(id);
  return m;
}

TEST_CASE("container meta cache: lookup queues once, put publishes, erase forgets", "[unit][container]") {
  ContainerMetaCache cache(8);
  CHECK(cache.Lookup("host") == nullptr);
  CHECK(cache.Lookup("") == nullptr);
  CHECK(cache.Stats().requests == 0);
  CHECK(cache.Lookup("aaaaaaaaaaaa") == nullptr);
  CHECK(cache.Lookup("aaaaaaaaaaaa") == nullptr);  // pending: not queued twice
  CHECK(cache.Pending("aaaaaaaaaaaa"));
  CHECK(cache.Stats().requests == 1);
  auto id = cache.NextRequest(std::chrono::milliseconds(0));
  REQUIRE(id);
  CHECK(*id == "aaaaaaaaaaaa");
  CHECK_FALSE(cache.NextRequest(std::chrono::milliseconds(0)));
  cache.Put(Meta("aaaaaaaaaaaa"));
  CHECK_FALSE(cache.Pending("aaaaaaaaaaaa"));
  auto m = cache.Lookup("aaaaaaaaaaaa");
  REQUIRE(m);
  CHECK(m->id == "aaaaaaaaaaaa");
  CHECK(cache.Erase("aaaaaaaaaaaa"));
  CHECK(m->id == "aaaaaaaaaaaa");  // an event's copy outlives the entry
  CHECK_FALSE(cache.Erase("aaaaaaaaaaaa"));
  auto s = cache.Stats();
  CHECK(s.size == 0);
  CHECK(s.erased == 1);
  CHECK(s.hits == 1);
}

TEST_CASE("container meta cache: an exited container is evicted and handed over once", "[unit][container]") {
  ContainerMetaCache cache(8);
  cache.Lookup("aaaaaaaaaaaa");
  cache.Lookup("bbbbbbbbbbbb");
  cache.Lookup("cccccccccccc");
  cache.Lookup("dddddddddddd");
  cache.Put(Meta("aaaaaaaaaaaa"));
  cache.Put(Meta("cccccccccccc"));
  cache.Fail("dddddddddddd");
  CHECK_FALSE(cache.TakeExited());
  // The listing no longer has them: gone from the cache at once.
  CHECK(cache.Erase("cccccccccccc"));
  CHECK(cache.Erase("dddddddddddd"));  // failed: forgotten, not announced (no runtime knew it)
  CHECK(cache.Erase("aaaaaaaaaaaa"));
  CHECK(cache.Stats().size == 1);  // b's fetch is pending: the fetch decides first
  CHECK(cache.Ids() == std::vector<std::string>{"bbbbbbbbbbbb"});
  CHECK(cache.Gone("aaaaaaaaaaaa"));
  CHECK_FALSE(cache.Gone("bbbbbbbbbbbb"));
  REQUIRE(cache.Peek("aaaaaaaaaaaa"));  // the last metadata, for a start event re-emitted late
  CHECK(cache.Peek("aaaaaaaaaaaa")->id == "aaaaaaaaaaaa");
  auto first = cache.TakeExited();
  REQUIRE(first);
  CHECK(first->id == "cccccccccccc");  // in the order they exited
  REQUIRE(first->meta);
  auto second = cache.TakeExited();
  REQUIRE(second);
  CHECK(second->id == "aaaaaaaaaaaa");
  CHECK_FALSE(cache.TakeExited());
  CHECK(cache.Stats().erased == 3);
  CHECK(cache.Stats().gone == 2);
  CHECK_FALSE(cache.Gone("dddddddddddd"));
  CHECK(cache.Lookup("dddddddddddd") == nullptr);  // asked anew
  CHECK(cache.Pending("dddddddddddd"));
}

// Regression (container_removed reverted in 139edbe): a short podman container
// was announced removed twice. Its entry was erased while its fetch was
// pending, or a late event's Lookup() re-created it after the erase; the
// fetch's answer made a fresh entry, and the next listing erased (and
// announced) it once more.
TEST_CASE("container meta cache: late lookups and stale answers do not bring an exited container back",
          "[unit][container]") {
  ContainerMetaCache cache(8);
  const std::string id = "aaaaaaaaaaaa";
  cache.Lookup(id);
  REQUIRE(cache.NextRequest(std::chrono::milliseconds(0)));
  // A listing while the fetch runs: the container is not listed (already
  // exited, or the listing predates it); the pending entry stays.
  CHECK_FALSE(cache.Erase(id));
  CHECK(cache.Pending(id));
  cache.Put(Meta(id));
  REQUIRE(cache.Erase(id));  // the next listing
  const auto requests = cache.Stats().requests;
  // Late events of the container (ring buffer, hold): its metadata, no fetch, no entry.
  for (int i = 0; i < 3; ++i) {
    auto m = cache.Lookup(id);
    REQUIRE(m);
    CHECK(m->id == id);
  }
  CHECK_FALSE(cache.Pending(id));
  CHECK(cache.Stats().requests == requests);
  CHECK(cache.Stats().gone_lookups == 3);
  CHECK_FALSE(cache.NextRequest(std::chrono::milliseconds(0)));
  // An answer to a request queued before the exit does not re-create it.
  cache.Put(Meta(id));
  CHECK(cache.Stats().size == 0);
  // So no later listing finds it again: one exit, handed over once.
  CHECK_FALSE(cache.Erase(id));
  REQUIRE(cache.TakeExited());
  CHECK_FALSE(cache.TakeExited());
  // Listed again (restarted with the same id): fetched anew, and its next exit is a new one.
  CHECK(cache.Revive(id));
  CHECK_FALSE(cache.Gone(id));
  CHECK(cache.Lookup(id) == nullptr);
  CHECK(cache.Pending(id));
  REQUIRE(cache.NextRequest(std::chrono::milliseconds(0)));
  cache.Put(Meta(id));
  CHECK(cache.Erase(id));
  CHECK(cache.TakeExited());
}

TEST_CASE("container meta cache: exited containers waiting for the hot thread, and exited ids, are bounded",
          "[unit][container]") {
  const std::size_t n = ContainerMetaCache::kExitedCapacity + 5;
  ContainerMetaCache cache(n);
  auto Id = [](std::size_t i) {
    std::string id = std::to_string(i);
    return std::string(12 - id.size(), '0') + id;
  };
  for (std::size_t i = 0; i < n; ++i) cache.Put(Meta(Id(i)));
  for (std::size_t i = 0; i < n; ++i) CHECK(cache.Erase(Id(i)));
  CHECK(cache.Stats().exited_drops == 5);
  CHECK(cache.Stats().gone == ContainerMetaCache::kExitedCapacity);
  CHECK_FALSE(cache.Gone(Id(4)));  // the oldest forgotten first
  CHECK(cache.Gone(Id(5)));
  auto oldest = cache.TakeExited();
  REQUIRE(oldest);
  CHECK(oldest->id == Id(5));  // the oldest went first
  std::size_t taken = 1;
  while (cache.TakeExited()) ++taken;
  CHECK(taken == ContainerMetaCache::kExitedCapacity);
}

// Issue 19: many short-lived containers keep the cache bounded. Each one is
// looked up, fetched, exits (erased by a listing), has late events, and is
// restarted now and then; entries, exited ids and waiting exits stay within
// their bounds however many went by.
TEST_CASE("container meta cache: a churn of short-lived containers stays bounded", "[unit][container]") {
  ContainerMetaCache cache(64);
  std::size_t announced = 0;
  for (std::size_t i = 0; i < 20000; ++i) {
    std::string id = std::to_string(i);
    id = std::string(12 - id.size(), 'c') + id;
    cache.Lookup(id);
    while (auto req = cache.NextRequest(std::chrono::milliseconds(0))) cache.Put(Meta(*req));
    REQUIRE(cache.Erase(id));
    cache.Lookup(id);  // a late event
    if (i % 7 == 0) cache.Revive(id);  // a restart now and then
    if (i % 3 == 0)
      while (cache.TakeExited()) ++announced;
    const auto s = cache.Stats();
    REQUIRE(s.size <= 64);
    REQUIRE(s.gone <= ContainerMetaCache::kExitedCapacity);
  }
  while (cache.TakeExited()) ++announced;
  const auto s = cache.Stats();
  CHECK(announced + s.exited_drops == 20000);
  CHECK(s.exited_drops == 0);
  CHECK(s.erased == 20000);
}

TEST_CASE("container meta cache: a failed id is not asked again at once", "[unit][container]") {
  ContainerMetaCache cache(8);
  cache.Lookup("bbbbbbbbbbbb");
  REQUIRE(cache.NextRequest(std::chrono::milliseconds(0)));
  cache.Fail("bbbbbbbbbbbb");
  CHECK_FALSE(cache.Pending("bbbbbbbbbbbb"));
  CHECK(cache.Lookup("bbbbbbbbbbbb") == nullptr);
  CHECK_FALSE(cache.NextRequest(std::chrono::milliseconds(0)));  // within kRetryAfter
  CHECK(cache.Stats().failed == 1);
}

TEST_CASE("container meta cache: bounded, least recently used goes first", "[unit][container]") {
  ContainerMetaCache cache(4);
  for (int i = 0; i < 4; ++i) cache.Put(Meta("c" + std::to_string(i)));
  cache.Lookup("c0");  // c1 is now the least recently used
  cache.Put(Meta("c4"));
  CHECK(cache.Lookup("c0") != nullptr);
  CHECK(cache.Lookup("c1") == nullptr);  // evicted (and queued again)
  auto s = cache.Stats();
  CHECK(s.size == 4);
  CHECK(s.evictions >= 1);
  // Thousands of containers leave it at its bound.
  for (int i = 0; i < 5000; ++i) cache.Put(Meta("x" + std::to_string(i)));
  CHECK(cache.Stats().size == 4);
}

TEST_CASE("container meta cache: the request queue is bounded", "[unit][container]") {
  ContainerMetaCache cache(ContainerMetaCache::kQueueCapacity * 2);
  for (std::size_t i = 0; i < ContainerMetaCache::kQueueCapacity + 10; ++i) cache.Lookup("q" + std::to_string(i));
  auto s = cache.Stats();
  CHECK(s.requests == ContainerMetaCache::kQueueCapacity);
  CHECK(s.queue_drops == 10);
}

TEST_CASE("image references split into repository, tag and digest", "[unit][container]") {
  struct Case {
    std::string ref, repo, tag, digest;
  };
  const Case cases[] = {
      {"localhost/vigil-busybox:test", "localhost/vigil-busybox", "test", ""},
      {"busybox", "busybox", "latest", ""},
      {"docker.io/library/nginx:1.25", "docker.io/library/nginx", "1.25", ""},
      {"registry:5000/team/app:2.0", "registry:5000/team/app", "2.0", ""},
      {"registry:5000/team/app", "registry:5000/team/app", "latest", ""},
      {"quay.io/a/b@sha256:0123", "quay.io/a/b", "", "sha256:0123"},
      {"quay.io/a/b:1@sha256:0123", "quay.io/a/b", "1", "sha256:0123"},
      {"", "", "", ""},
  };
  for (const Case& c : cases) {
    INFO(c.ref);
    std::string repo, tag, digest;
    SplitImageRef(c.ref, &repo, &tag, &digest);
    CHECK(repo == c.repo);
    CHECK(tag == c.tag);
    CHECK(digest == c.digest);
  }
}

TEST_CASE("docker API: a real podman inspect answer", "[unit][container]") {
  std::string error;
  auto m = runtime::ParseDockerInspect(kPodmanInspect, "podman", &error);
  REQUIRE(m);
  CHECK(testing::IdentityOf(*m) ==
        std::vector<std::string>{"1bcf83c91f3d", "vigil-meta-podman", "podman", "localhost/vigil-busybox:test",
                                 "localhost/vigil-busybox", "test",
                                 "5922a97e92816a0902ed828e735dd65f9bd92b28c20767dd4bed15fc0148ec13"});
  CHECK(m->privileged);
  REQUIRE(m->mounts.size() == 1);
  CHECK(testing::FieldsOf(m->mounts[0]) == std::vector<std::string>{"/etc", "/host/etc", "", "true", "rprivate"});
  REQUIRE(m->Label("app"));
  CHECK(*m->Label("app") == "vigil-test");
  CHECK(m->Label("nope") == nullptr);
  CHECK(m->start_ns == 1796460682957671109);  // 2026-12-05T08:51:22.957671109Z
}

TEST_CASE("docker API: bad answers are errors, not crashes", "[unit][container]") {
  const char* bad[] = {"", "[]", "{", "{\"Id\": 5}", "{\"Id\": \"abc\"}", "null"};
  for (const char* b : bad) {
    INFO(b);
    std::string error;
    CHECK(runtime::ParseDockerInspect(b, "docker", &error) == nullptr);
    CHECK_FALSE(error.empty());
  }
  std::string error;
  // Wrong types inside are ignored, not fatal.
  auto m = runtime::ParseDockerInspect(
      R"({"Id":"0123456789abcdef","HostConfig":{"Privileged":"yes"},"Mounts":[1,{"Destination":7}],"Config":{"Labels":{"a":1}}})",
      "docker", &error);
  REQUIRE(m);
  CHECK_FALSE(m->privileged);
  CHECK(m->mounts.size() == 1);
  CHECK(m->labels.empty());
  auto list = runtime::ParseDockerList(R"([{"Id":"1bcf83c91f3d3b00f1"},{"Names":["x"]}])", &error);
  REQUIRE(list);
  CHECK(*list == std::vector<std::string>{"1bcf83c91f3d"});
  CHECK_FALSE(runtime::ParseDockerList("{}", &error));
  // all=1: exited and dead containers are gone; created, running, paused ones are not.
  list = runtime::ParseDockerList(
      R"([{"Id":"aaaaaaaaaaaa11","State":"created"},{"Id":"bbbbbbbbbbbb22","State":"running"},)"
      R"({"Id":"cccccccccccc33","State":"exited"},{"Id":"dddddddddddd44","State":"dead"},)"
      R"({"Id":"eeeeeeeeeeee55","State":"paused"}])",
      &error);
  REQUIRE(list);
  CHECK(*list == std::vector<std::string>{"aaaaaaaaaaaa", "bbbbbbbbbbbb", "eeeeeeeeeeee"});
}

TEST_CASE("RFC 3339 times", "[unit][container]") {
  CHECK(runtime::ParseRfc3339Ns("1970-01-01T00:00:01Z") == 1000000000);
  CHECK(runtime::ParseRfc3339Ns("1970-01-01T00:00:01.5Z") == 1500000000);
  CHECK(runtime::ParseRfc3339Ns("1970-01-01T01:00:00+01:00") == 0);
  CHECK(runtime::ParseRfc3339Ns("0001-01-01T00:00:00Z") == 0);  // Go's zero time: not started
  CHECK(runtime::ParseRfc3339Ns("garbage") == 0);
}

TEST_CASE("chunked bodies", "[unit][container]") {
  std::string out;
  CHECK(runtime::DecodeChunked("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", &out));
  CHECK(out == "Wikipedia");
  CHECK(runtime::DecodeChunked("a;ext=1\r\n0123456789\r\n0\r\n\r\n", &out));
  CHECK(out == "0123456789");
  CHECK_FALSE(runtime::DecodeChunked("5\r\nabc", &out));
  CHECK_FALSE(runtime::DecodeChunked("zz\r\n", &out));
  CHECK_FALSE(runtime::DecodeChunked("ffffffffffffffff\r\nab\r\n", &out));
}

TEST_CASE("a missing runtime socket is an error answer, not a failure", "[unit][container]") {
  auto r = runtime::UnixHttpGet("/nonexistent/vigil.sock", "/containers/json", std::chrono::milliseconds(100));
  CHECK(r.status == 0);
  CHECK(r.error.find("/nonexistent/vigil.sock") != std::string::npos);
}

// A one-connection HTTP server on a unix socket: reads the request head,
// writes `answer`, then closes, or (hold_open) keeps the connection open
// until the client goes, as a keep-alive server does.
class OneShotServer {
 public:
  OneShotServer(std::string answer, bool hold_open) {
    path_ = "/tmp/vigil-unix-http-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listen_fd_, 1) == 0);
    thread_ = std::thread([this, answer = std::move(answer), hold_open] {
      int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<std::size_t>(n));
      }
      for (std::size_t off = 0; off < answer.size();) {
        // the client may stop reading (an answer too large): no SIGPIPE
        ssize_t n = send(c, answer.data() + off, answer.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      if (hold_open)
        while (read(c, buf, sizeof buf) > 0) {
        }
      close(c);
    });
  }
  ~OneShotServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::string& request() const { return request_; }  // after the client is done

 private:
  std::string path_;
  int listen_fd_ = -1;
  std::string request_;
  std::thread thread_;
};

TEST_CASE("UnixHttpGet against a real unix socket server", "[unit][container]") {
  struct Row {
    const char* what;
    std::string answer;
    bool hold_open;
    int status;
    std::string body;
    std::string error_part;  // "" when no error
  };
  const std::string big(200000, 'x');
  const Row rows[] = {
      // Content-Length reached: the answer is complete without the close
      // (the server holds the connection; waiting for the close would time out).
      {"content-length, kept open", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true, 200, "hello", ""},
      {"lower-case content-length, extra bytes cut", "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcdef", false, 200,
       "abc", ""},
      {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", false,
       200, "Wikipedia", ""},
      {"body until close", "HTTP/1.1 404 Not Found\r\n\r\nno such container", false, 404, "no such container", ""},
      {"malformed chunks", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 0, "",
       "malformed chunked answer"},
      {"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", false, 0, "", "not an HTTP answer"},
      {"too large", "HTTP/1.1 200 OK\r\n\r\n" + big, false, 0, "", "answer larger than 1000 bytes"},
      {"no answer", "", true, 0, "", "timed out"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    runtime::HttpResponse r;
    {
      OneShotServer server(row.answer, row.hold_open);
      // the client's socket is closed when the call returns: the server's thread ends
      r = runtime::UnixHttpGet(server.path(), "/v1.41/containers/json", std::chrono::milliseconds(500), 1000);
    }
    if (!row.error_part.empty()) CHECK(r.error.find(row.error_part) != std::string::npos);
    CHECK(r.status == row.status);
    if (row.error_part.empty()) {
      CHECK(r.error.empty());
      CHECK(r.body == row.body);
    }
  }
}

TEST_CASE("UnixHttpGet sends one GET with Host and Connection: close", "[unit][container]") {
  std::string request;
  {
    OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false);
    auto r = runtime::UnixHttpGet(server.path(), "/version", std::chrono::milliseconds(500));
    CHECK(r.status == 200);
    CHECK(r.body == "{}");
    // the server read the whole head before it answered
    request = server.request();
  }
  CHECK(request == "GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

// The fields, evaluated as rule conditions on an event carrying the metadata.
TEST_CASE("container and k8s fields from metadata", "[unit][container]") {
  std::string error;
  auto meta = runtime::ParseDockerInspect(kPodmanInspect, "podman", &error);
  REQUIRE(meta);
  meta->mounts.push_back({"/proc", "/host/proc", "ro", "rprivate", false});
  meta->labels = {{"app", "vigil-test"},
                  {"io.kubernetes.container.name", "web"},
                  {"io.kubernetes.pod.name", "web-7d4b9"},
                  {"io.kubernetes.pod.namespace", "prod"},
                  {"io.kubernetes.pod.uid", "1b2c-3d4e"}};
  FillK8sFromLabels(meta.get());
  struct Row {
    std::string condition;
    bool with_meta, without_meta;
  };
  // Most conditions hold with the metadata and not without it.
  const char* const with_meta_only[] = {
      "container.name = vigil-meta-podman",
      "container.type = podman",
      "container.image = localhost/vigil-busybox:test",
      "container.image.repository = localhost/vigil-busybox",
      "container.image.tag = test",
      "container.image.id = 5922a97e9281",
      "container.privileged = true",
      "container.start_ts = 1796460682957671109",
      "container.mounts contains /etc:/host/etc::true:rprivate",
      // As in Falco, mount.dest[X] names the mount by its source, mount.source[X] by its destination.
      "container.mount.dest[/proc*] = /host/proc",
      "container.mount.source[/host/proc] = /proc",
      "container.mount.rdwr[/proc] = false",
      "container.mount.source[1] = /proc",
      "container.mount.rdwr[1] = false",
      "container.mount[0] = /etc:/host/etc::true:rprivate",
      "container.label[app] = vigil-test",
      "container.labels contains app:vigil-test",
      "k8s.pod.name = web-7d4b9",
      "k8s.ns.name = prod",
      "k8s.pod.uid = 1b2c-3d4e",
      "k8s.pod.label[app] = vigil-test",
      "container.image.repository exists",
  };
  std::vector<Row> rows = {
      {"container.privileged = false", false, false},
      {"container.mount.dest[/host/pro*] = /host/proc", false, false},
      {"container.mount.dest[5] exists", false, false},
      // Falco's sensitive_mount idiom. Regression: no such mount (or no metadata) was an absent
      // value, `not` made the idiom true, and Launch Sensitive Mount Container fired for every
      // container; now it is the text "<NA>".
      {"not container.mount.dest[/proc*] in (\"<NA>\", \"N/A\")", true, false},
      {"not container.mount.dest[/var/run/docker.sock] in (\"<NA>\", \"N/A\")", false, false},
      {"container.mount.dest[/var/run/docker.sock] = \"<NA>\"", true, true},
  };
  for (const char* condition : with_meta_only) rows.push_back({condition, true, false});
  for (const Row& row : rows) {
    INFO(row.condition);
    auto c = testing::CompileText(row.condition);
    INFO(c.error);
    REQUIRE(c.check != nullptr);
    OwnedAncestors anc;
    Event e = testing::MakeExec(&anc);
    e.proc.container_id = "1bcf83c91f3d";
    HostInfo host;
    FieldContext without{&e, &host, 1};
    CHECK(c.check->Eval(without) == row.without_meta);
    e.container = meta;
    FieldContext with{&e, &host, 2};
    CHECK(c.check->Eval(with) == row.with_meta);
  }
}

}  // namespace
}  // namespace vigil
