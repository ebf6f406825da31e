// SPDX-License-Identifier: Apache-2.0
// Long paths on the real kernel (issue 18): names of 64 to 255 bytes (NAME_MAX)
// and paths of several KB, opened, created, executed and used as the working
// directory; fd.name, fs.path, proc.exepath and proc.cwd must be the exact
// strings, and a path deeper than the walk's VG_CHAIN_DEPTH names must be
// marked as cut (kTruncatedPathPrefix), never given as a shorter, wrong one.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bpf/decoder.h"
#include "bpf/vigil_abi.h"
#include "capture_fixture.h"

using namespace vigil;
using namespace vigil::capture::testing;

namespace {

// Each test's directory.
struct PathDir : TempDir {
  PathDir() : TempDir("path") {}
};

// A name of exactly `len` bytes, distinct per `tag` (so a cut name or a
// skipped directory cannot pass for the right one).
std::string Name(std::size_t len, char tag) {
  std::string n = std::to_string(len) + tag + "-";
  n.resize(len, tag);
  return n;
}

// mkdir -p of `dir` under `root` one name at a time; the full path is returned.
std::string MakeDirs(const std::string& root, const std::vector<std::string>& names) {
  std::string p = root;
  for (const auto& n : names) {
    p += "/" + n;
    REQUIRE(mkdir(p.c_str(), 0755) == 0);
  }
  return p;
}

std::optional<Seen> WaitOpen(uint32_t pid, const std::string& path) {
  return WaitFor([&](const Event& e) {
    return (e.type == EventType::openat || e.type == EventType::open) && e.proc.pid == pid && e.file.path == path;
  });
}

}  // namespace

TEST_CASE("names of 64 to 255 bytes come out whole in fd.name and fs.path", "[root]") {
  TheSensor();
  Drain();
  PathDir dir;
  std::string d = MakeDirs(dir.path, {Name(64, 'a'), Name(100, 'b'), Name(200, 'c'), Name(255, 'd')});
  uint32_t me = static_cast<uint32_t>(getpid());
  for (std::size_t len : {63u, 64u, 65u, 127u, 128u, 200u, 254u, 255u}) {
    INFO("leaf name of " << len << " bytes");
    std::string file = d + "/" + Name(len, 'f');
    long fd = syscall(SYS_openat, AT_FDCWD, file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    close(static_cast<int>(fd));
    auto ev = WaitOpen(me, file);
    REQUIRE(ev);
    CHECK(ev->event.res == fd);
    CHECK(ev->event.file.abspath == file);
    // relative to a directory descriptor: the base is walked, the name given
    int dfd = open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    std::string missing = Name(len, 'm');
    REQUIRE(syscall(SYS_openat, dfd, missing.c_str(), O_RDONLY, 0) == -1);
    auto miss = WaitOpen(me, missing);
    REQUIRE(miss);
    CHECK(miss->event.res == -ENOENT);
    CHECK(miss->event.file.abspath == d + "/" + missing);
    close(dfd);
  }
}

// 13 names of 255 bytes under /tmp/vigil-path-XXXXXX plus a 255-byte file
// name: a path of 3,605 bytes in 16 names, every one as long as Linux allows.
TEST_CASE("a path of several KB in 16 names of 255 bytes is exact", "[root]") {
  TheSensor();
  Drain();
  PathDir dir;
  std::vector<std::string> names;
  for (int i = 0; i < 13; ++i) names.push_back(Name(255, static_cast<char>('a' + i)));
  std::string d = MakeDirs(dir.path, names);
  std::string file = d + "/" + Name(255, 'z');
  REQUIRE(file.size() > 3500);
  REQUIRE(file.size() < PATH_MAX);
  uint32_t me = static_cast<uint32_t>(getpid());
  long fd = syscall(SYS_openat, AT_FDCWD, file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  close(static_cast<int>(fd));
  auto ev = WaitOpen(me, file);
  REQUIRE(ev);
  CHECK(ev->event.file.path.size() == file.size());
  CHECK(ev->event.file.abspath == file);
  // failed: the given path, whole (no walk)
  std::string gone = d + "/" + Name(255, 'y');
  REQUIRE(syscall(SYS_openat, AT_FDCWD, gone.c_str(), O_RDONLY, 0) == -1);
  auto miss = WaitOpen(me, gone);
  REQUIRE(miss);
  CHECK(miss->event.file.abspath == gone);
}

// A child chdirs into a long directory and executes a copy of true from it by
// its 254-byte name: the exec event's proc.cwd, proc.exepath and fd.name (the
// filename made absolute) are the exact strings.
TEST_CASE("exec and cwd in a long directory: proc.exepath and proc.cwd exact", "[root]") {
  TheSensor();
  Drain();
  PathDir dir;
  std::vector<std::string> names = {Name(64, 'a'), Name(255, 'b'), Name(128, 'c')};
  for (int i = 0; i < 8; ++i) names.push_back(Name(255, static_cast<char>('k' + i)));
  std::string d = MakeDirs(dir.path, names);
  // 254 bytes: the exec record's filename slot holds 255, and a filename
  // filling it may have been cut, so it gets no absolute form
  std::string exe_name = Name(254, 'x');
  std::string exe = d + "/" + exe_name;
  std::filesystem::copy_file("/bin/true", exe);
  REQUIRE(chmod(exe.c_str(), 0755) == 0);
  pid_t child = fork();
  if (child == 0) {
    if (chdir(d.c_str()) != 0) _exit(126);
    // a name with no slash is relative to the cwd for execv (no PATH search)
    char* argv[] = {const_cast<char*>("long-true"), nullptr};
    execv(exe_name.c_str(), argv);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto ev = WaitFor([&](const Event& e) { return e.type == EventType::execve && e.proc.pid == uint32_t(child); });
  REQUIRE(ev);
  CHECK(ev->event.proc.cwd == d);
  CHECK(ev->event.proc.exepath == exe);
  CHECK(ev->event.file.abspath == exe);
}

// 20 names: more than the walk keeps (VG_CHAIN_DEPTH). The leaf end is kept
// and marked; a rule on the absolute path cannot take it for a shorter path.
TEST_CASE("a path deeper than the walk is marked as cut, never shortened", "[root]") {
  TheSensor();
  Drain();
  PathDir dir;
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("d" + std::to_string(i));
  std::string d = MakeDirs(dir.path, names);
  std::string file = d + "/leaf.txt";
  uint32_t me = static_cast<uint32_t>(getpid());
  long fd = syscall(SYS_openat, AT_FDCWD, file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  close(static_cast<int>(fd));
  auto ev = WaitOpen(me, file);
  REQUIRE(ev);
  // the last VG_CHAIN_DEPTH names: d5 .. d19 and the file
  std::string tail;
  for (int i = 20 - (VG_CHAIN_DEPTH - 1); i < 20; ++i) tail += "/d" + std::to_string(i);
  tail += "/leaf.txt";
  // fd.name is the absolute path as given, whole (issue 18: libsinsp's
  // meaning); the opened file's walked path is fd.name.resolved, cut
  CHECK(ev->event.file.abspath == file);
  CHECK(ev->event.file.resolved == std::string(vigil::capture::kTruncatedPathPrefix) + tail);
  CHECK(RuleOutput(ev->event, "fd.name.resolved startswith /tmp", "%fd.name.resolved") == "");
  CHECK(RuleOutput(ev->event, "fd.name.resolved endswith /d19/leaf.txt", "%fd.name.resolved") ==
        std::string(vigil::capture::kTruncatedPathPrefix) + tail);
}
