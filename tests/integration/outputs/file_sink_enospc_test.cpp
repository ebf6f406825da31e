// SPDX-License-Identifier: Apache-2.0
// File sink on a full filesystem: a small tmpfs in a private mount namespace
// (needs root). Writes fail with ENOSPC, the error is logged, alerts are kept,
// and once space returns every alert is in the file exactly once, in order,
// with no torn line.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "outputs/file_sink.h"

namespace fs = std::filesystem;
namespace out = vigil::outputs;

TEST_CASE("File sink on a full tmpfs loses nothing once space returns", "[root]") {
  INFO("needs root: unshare(CLONE_NEWNS) and mount tmpfs");
  REQUIRE(::unshare(CLONE_NEWNS) == 0);
  REQUIRE(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
  char tmpl[] = "/tmp/vigil-enospc-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=512k,mode=0700") == 0);

  // Fill the filesystem, then give back a little room: the sink's writes
  // succeed for a while, then one stops mid-line.
  fs::path filler = dir / "filler";
  {
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    CHECK(errno == ENOSPC);
    off_t size = ::lseek(fd, 0, SEEK_END);
    REQUIRE(::ftruncate(fd, size - 16 * 1024) == 0);
    ::close(fd);
  }

  out::FileSinkOptions o;
  o.path = (dir / "alerts.json").string();
  o.max_size_bytes = 0;
  o.fsync_interval_ms = -1;
  o.retry_interval_ms = 1;
  out::FileSink sink(o);
  constexpr int kAlerts = 1000;  // ~260 KiB of JSON (Falco prefix included): far more than the room left, less than the tmpfs
  for (int i = 0; i < kAlerts; ++i) {
    vigil::Alert a;
    a.uuid = "uuid-" + std::to_string(i);
    a.rule = "Full disk";
    a.output = "alert " + std::to_string(i) + " " + std::string(60, 'x');
    a.output_fields = {{"n", int64_t{i}}};
    sink.Write(a);
  }
  CHECK(sink.counters().failed.load() > 0);
  CHECK(sink.pending() > 0);
  CHECK(sink.counters().sent.load() + sink.pending() == kAlerts);
  CHECK(sink.counters().dropped.load() == 0);

  // Space returns.
  fs::remove(filler);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sink.Tick();
  CHECK(sink.pending() == 0);
  CHECK(sink.counters().sent.load() == kAlerts);

  std::ifstream f(o.path);
  int n = 0;
  for (std::string line; std::getline(f, line); ++n) {
    INFO("line " << n << ": " << line);
    auto j = nlohmann::json::parse(line);  // throws on a torn line
    REQUIRE(j["output_fields"]["n"] == n);
  }
  CHECK(n == kAlerts);
  ::umount2(dir.c_str(), MNT_DETACH);
  fs::remove_all(dir);
}
