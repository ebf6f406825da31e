// SPDX-License-Identifier: Apache-2.0
// File sink (JSON lines, rotation, reopen, mode) and the fan-out.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "outputs/fanout.h"
#include "outputs/file_sink.h"
#include "outputs/paths.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;
using vigil::Alert;
using vigil::Priority;

namespace {

struct TempDir : vigil::testing::TempDirOf<fs::path> {
  TempDir() : TempDirOf("file") {}
};

Alert MakeAlert(int i, Priority p = Priority::kWarning) {
  Alert a;
  a.uuid = "uuid-" + std::to_string(i);
  a.time_ns = 1700000000000000000ull + static_cast<uint64_t>(i);
  a.rule = "rule";
  a.priority = p;
  a.output = "alert number " + std::to_string(i);
  a.output_fields = {{"n", int64_t{i}}};
  a.hostname = "h";
  return a;
}

std::vector<std::string> Lines(const fs::path& p) {
  std::vector<std::string> v;
  std::ifstream f(p);
  for (std::string line; std::getline(f, line);) v.push_back(line);
  return v;
}

out::FileSinkOptions Options(const fs::path& p) {
  out::FileSinkOptions o;
  o.path = p.string();
  o.fsync_interval_ms = -1;
  return o;
}

}  // namespace

TEST_CASE("File sink writes one JSON object per line with mode 0600", "[unit]") {
  TempDir dir;
  auto path = dir.path / "alerts.json";
  {
    out::FileSink sink(Options(path));
    for (int i = 0; i < 3; ++i) sink.Write(MakeAlert(i));
    CHECK(sink.counters().sent == 3);
  }
  auto lines = Lines(path);
  REQUIRE(lines.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(nlohmann::json::parse(lines[i])["uuid"] == "uuid-" + std::to_string(i));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("File sink rotates by size keeping N backups", "[unit]") {
  TempDir dir;
  auto path = dir.path / "alerts.json";
  auto o = Options(path);
  o.max_size_bytes = 2000;
  o.backups = 2;
  out::FileSink sink(o);
  for (int i = 0; i < 100; ++i) sink.Write(MakeAlert(i));
  CHECK(fs::exists(path));
  CHECK(fs::exists(dir.path.string() + "/alerts.json.1"));
  CHECK(fs::exists(dir.path.string() + "/alerts.json.2"));
  CHECK_FALSE(fs::exists(dir.path.string() + "/alerts.json.3"));
  for (const auto& p : {path.string(), path.string() + ".1", path.string() + ".2"}) {
    CHECK(fs::file_size(p) <= 2000);
    for (const auto& line : Lines(p)) CHECK_NOTHROW(nlohmann::json::parse(line));
  }
  // The newest alerts are in the current file, the order continues across files.
  auto cur = Lines(path), prev = Lines(path.string() + ".1");
  REQUIRE_FALSE(cur.empty());
  REQUIRE_FALSE(prev.empty());
  CHECK(nlohmann::json::parse(cur.back())["uuid"] == "uuid-99");
  auto last_prev = nlohmann::json::parse(prev.back())["output_fields"]["n"].get<int>();
  CHECK(nlohmann::json::parse(cur.front())["output_fields"]["n"].get<int>() == last_prev + 1);
}

TEST_CASE("File sink reopens its path after logrotate moved the file", "[unit]") {
  TempDir dir;
  auto path = dir.path / "alerts.json";
  out::FileSink sink(Options(path));
  sink.Write(MakeAlert(1));
  fs::rename(path, dir.path / "alerts.json.old");
  sink.Write(MakeAlert(2));  // still goes to the moved file until reopened
  sink.Reopen();
  sink.Tick();
  sink.Write(MakeAlert(3));
  CHECK(Lines(dir.path / "alerts.json.old").size() == 2);
  auto now = Lines(path);
  REQUIRE(now.size() == 1);
  CHECK(nlohmann::json::parse(now[0])["uuid"] == "uuid-3");
}

TEST_CASE("File sink keeps alerts while the path cannot be opened, writes them later", "[unit]") {
  TempDir dir;
  auto sub = dir.path / "blocked";
  { std::ofstream(sub) << "a file where the directory should be"; }
  auto o = Options(sub / "alerts.json");
  o.retry_interval_ms = 1;
  out::FileSink sink(o);
  for (int i = 0; i < 5; ++i) sink.Write(MakeAlert(i));
  CHECK(sink.pending() == 5);
  CHECK(sink.counters().sent == 0);
  // Failing while it cannot write: /healthz reads this.
  CHECK(sink.counters().failing_since_ns.load() != 0);
  CHECK(sink.counters().last_errno.load() == ENOTDIR);
  fs::remove(sub);
  fs::create_directory(sub);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sink.Tick();
  CHECK(sink.pending() == 0);
  CHECK(Lines(sub / "alerts.json").size() == 5);
  CHECK(sink.counters().sent == 5);
  CHECK(sink.counters().failing_since_ns.load() == 0);
}

// Issue 22 / issue 24 item 6: on a fresh machine /var/log/vigil did not
// exist, every alert stayed unwritten and was lost at exit. The sink creates
// the missing directories (0750).
TEST_CASE("File sink creates its missing log directory and parents with mode 0750", "[unit]") {
  TempDir dir;
  auto path = dir.path / "var" / "log" / "vigil" / "alerts.json";
  out::FileSink sink(Options(path));
  sink.Write(MakeAlert(1));
  CHECK(sink.counters().sent == 1);
  CHECK(Lines(path).size() == 1);
  for (auto d : {dir.path / "var", dir.path / "var" / "log", dir.path / "var" / "log" / "vigil"}) {
    struct stat st {};
    REQUIRE(::stat(d.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0750);
  }
}

TEST_CASE("File sink counts alerts never written when it closes as dropped", "[unit]") {
  TempDir dir;
  auto blocker = dir.path / "blocked";
  { std::ofstream(blocker) << "x"; }
  auto o = Options(blocker / "alerts.json");
  o.retry_interval_ms = 1;
  out::FileSink sink(o);
  for (int i = 0; i < 3; ++i) sink.Write(MakeAlert(i));
  sink.Close(20);
  CHECK(sink.counters().sent == 0);
  CHECK(sink.counters().dropped == 3);
}

// Issue 24 item 7: a deleted alert file was not noticed; alerts went on being
// counted as sent into the unlinked inode until a SIGHUP.
TEST_CASE("File sink notices its file deleted or renamed away and opens the path anew", "[unit]") {
  TempDir dir;
  auto path = dir.path / "alerts.json";
  auto o = Options(path);
  o.path_check_interval_ms = 0;
  out::FileSink sink(o);
  sink.Write(MakeAlert(1));
  fs::remove(path);
  sink.Tick();
  sink.Write(MakeAlert(2));
  REQUIRE(Lines(path).size() == 1);
  CHECK(Lines(path)[0].find("uuid-2") != std::string::npos);
  fs::rename(path, dir.path / "moved.json");
  sink.Tick();
  sink.Write(MakeAlert(3));
  REQUIRE(Lines(path).size() == 1);
  CHECK(Lines(path)[0].find("uuid-3") != std::string::npos);
  CHECK(Lines(dir.path / "moved.json").size() == 1);
  CHECK(sink.counters().sent == 3);
}

// Issue 24 item 8: the sink followed a symlink planted at its path and
// appended to a file other users could write. Both are refused, with the
// path and the reason, and the alerts are kept (the sink failing).
TEST_CASE("File sink refuses a symlink, a group/other-writable file or an other-writable directory", "[unit]") {
  TempDir dir;
  auto target = dir.path / "target";
  { std::ofstream(target) << ""; }
  struct Case {
    const char* what;
    std::function<fs::path()> setup;
  };
  const Case cases[] = {
      {"a symbolic link", [&] {
         fs::create_symlink(target, dir.path / "link.json");
         return dir.path / "link.json";
       }},
      {"writable by group or others (mode 0666)", [&] {
         { std::ofstream(dir.path / "open.json") << ""; }
         fs::permissions(dir.path / "open.json", fs::perms(0666));
         return dir.path / "open.json";
       }},
      {"writable by others (mode 0777)", [&] {
         fs::create_directory(dir.path / "open-dir");
         fs::permissions(dir.path / "open-dir", fs::perms(0777));
         return dir.path / "open-dir" / "alerts.json";
       }},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const fs::path path = c.setup();
    out::FileSink sink(Options(path));
    sink.Write(MakeAlert(1));
    CHECK(sink.counters().sent == 0);
    CHECK(sink.pending() == 1);
    CHECK(sink.counters().failing_since_ns.load() != 0);
    auto err = out::CheckSinkFile(path.string());
    REQUIRE(err);
    CHECK(err->find(c.what) != std::string::npos);
  }
  CHECK(fs::file_size(target) == 0);  // nothing went through the link
  // A sticky directory writable by all (like /tmp) is fine: others cannot
  // remove or rename the sink's file there.
  fs::create_directory(dir.path / "sticky");
  fs::permissions(dir.path / "sticky", fs::perms(01777));
  out::FileSink sticky(Options(dir.path / "sticky" / "alerts.json"));
  sticky.Write(MakeAlert(2));
  CHECK(sticky.counters().sent == 1);
}

TEST_CASE("File sink bounds the retry buffer and counts what it drops", "[unit]") {
  TempDir dir;
  { std::ofstream(dir.path / "no") << "a file, so the path cannot be opened"; }
  auto o = Options(dir.path / "no" / "alerts.json");
  o.max_pending_bytes = 1000;
  out::FileSink sink(o);
  for (int i = 0; i < 100; ++i) sink.Write(MakeAlert(i));
  CHECK(sink.counters().dropped > 0);
  CHECK(sink.counters().dropped + sink.pending() == 100);
}

namespace {

// A sink that blocks in Write until released: a dead network peer.
class StuckSink : public out::Sink {
 public:
  std::string_view Name() const override { return "stuck"; }
  void Write(const Alert&) override {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    counters_.sent.fetch_add(1);
  }
  std::atomic<bool> release{false};
};

class CountingSink : public out::Sink {
 public:
  std::string_view Name() const override { return "counting"; }
  void Write(const Alert& a) override {
    seen.push_back(a.uuid);
    counters_.sent.fetch_add(1);
  }
  std::vector<std::string> seen;
};

}  // namespace

TEST_CASE("A stuck sink blocks neither Submit nor the other sinks; its overflow is counted", "[unit]") {
  out::FanOut fanout;
  auto stuck = std::make_unique<StuckSink>();
  auto* stuck_ptr = stuck.get();
  auto counting = std::make_unique<CountingSink>();
  auto* counting_ptr = counting.get();
  fanout.AddSink(std::move(stuck), 10);
  fanout.AddSink(std::move(counting), 10000);
  fanout.Start();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) fanout.Submit(MakeAlert(i));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed < std::chrono::seconds(2));
  // The healthy sink got everything, in order, while the other is stuck.
  for (int i = 0; i < 200 && counting_ptr->counters().sent.load() < 1000; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(counting_ptr->counters().sent.load() == 1000);
  CHECK(counting_ptr->seen.front() == "uuid-0");
  CHECK(counting_ptr->seen.back() == "uuid-999");
  auto stats = fanout.Stats();
  CHECK(stats[0].name == "stuck");
  // Held at most: 10 waiting in the queue + one batch (<= 10) taken by the stuck thread.
  CHECK(stats[0].dropped >= 1000 - 2 * 10);
  CHECK(stats[0].queued <= 10);
  stuck_ptr->release = true;
  fanout.Stop();
  CHECK(stuck_ptr->counters().sent + stuck_ptr->counters().dropped == 1000);
}

TEST_CASE("Fan-out applies each sink's minimum priority", "[unit]") {
  out::FanOut fanout;
  auto counting = std::make_unique<CountingSink>();
  auto* c = counting.get();
  fanout.AddSink(std::move(counting), 100, Priority::kError);
  fanout.Start();
  fanout.Submit(MakeAlert(1, Priority::kWarning));
  fanout.Submit(MakeAlert(2, Priority::kError));
  fanout.Submit(MakeAlert(3, Priority::kEmergency));
  fanout.Submit(MakeAlert(4, Priority::kDebug));
  REQUIRE(fanout.WaitIdle(2000));
  fanout.Stop();
  CHECK(c->seen == std::vector<std::string>{"uuid-2", "uuid-3"});
}

TEST_CASE("The stdout sink writes JSON lines to its descriptor in the chosen format", "[unit]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    out::FileSinkOptions o;
    o.fd = fds[1];
    o.format = out::Format::kOcsf;
    out::FileSink sink(o);
    CHECK(sink.Name() == "stdout");
    sink.Write(MakeAlert(7));
    sink.Write(MakeAlert(8));
    sink.Close(100);
    CHECK(sink.counters().sent == 2);
  }
  ::close(fds[1]);
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  auto nl = all.find('\n');
  REQUIRE(nl != std::string::npos);
  auto first = nlohmann::json::parse(all.substr(0, nl));
  CHECK(first["class_uid"] == 2004);
  CHECK(first["finding_info"]["uid"] == "uuid-7");
  CHECK(std::count(all.begin(), all.end(), '\n') == 2);
}
