// SPDX-License-Identifier: Apache-2.0
// File family on the real kernel: each call made by the test (raw syscalls,
// so the traced syscall is the one named), the event asserted with its path
// as given, the absolute path, flags, mode and result.
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <utime.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "capture_fixture.h"
#include "engine/fields/field_table.h"

using namespace vigil;
using namespace vigil::capture::testing;

namespace {

std::optional<Seen> WaitMine(EventType type, const std::string& path_or_empty = "") {
  uint32_t me = static_cast<uint32_t>(getpid());
  return WaitFor([&](const Event& e) {
    return e.type == type && e.proc.pid == me && (path_or_empty.empty() || e.file.path == path_or_empty);
  });
}

}  // namespace

TEST_CASE("open O_WRONLY|O_CREAT: path, flags, mode, fd result", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  std::string file = dir.path + "/created.txt";
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, file.c_str(), O_WRONLY | O_CREAT, 0640));
  REQUIRE(fd >= 0);
  auto ev = WaitMine(EventType::openat, file);
  REQUIRE(ev);
  const Event& e = ev->event;
  CHECK(e.res == fd);
  CHECK(e.file.fd == fd);
  CHECK(e.file.abspath == file);
  CHECK((e.file.flags & (O_WRONLY | O_CREAT)) == (O_WRONLY | O_CREAT));
  CHECK(e.file.mode == 0640);
  CHECK(e.proc.container_id == "host");
  CHECK(e.proc.exepath.find("capture_file_test") != std::string::npos);

  SECTION("fchmod and ftruncate resolve the path from the fd") {
    REQUIRE(syscall(SYS_fchmod, fd, 0600) == 0);
    auto c = WaitMine(EventType::fchmod);
    REQUIRE(c);
    CHECK(c->event.file.abspath == file);
    CHECK(c->event.file.mode == 0600);
    CHECK(c->event.file.fd == fd);
    REQUIRE(syscall(SYS_ftruncate, fd, 123) == 0);
    auto t = WaitMine(EventType::ftruncate);
    REQUIRE(t);
    CHECK(t->event.file.abspath == file);
    CHECK(t->event.file.length == 123);
  }
  close(fd);
}

// Issue 17: an O_TRUNC open that creates the file (bash writing its first
// history file) must be told from one that truncates an existing file.
TEST_CASE("O_CREAT open: O_F_CREATED only when the call created the file", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  std::string file = dir.path + "/history";
  const int flags = O_WRONLY | O_CREAT | O_TRUNC;
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, file.c_str(), flags, 0600));
  REQUIRE(fd >= 0);
  close(fd);
  auto created = WaitMine(EventType::openat, file);
  REQUIRE(created);
  CHECK((created->event.file.flags & kOpenFlagCreated) != 0);
  std::string rendered;
  RenderOpenFlags(created->event.file.flags, &rendered);
  CHECK(rendered == "O_WRONLY|O_CREAT|O_TRUNC|O_F_CREATED");

  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, file.c_str(), flags, 0600));
  REQUIRE(fd >= 0);
  close(fd);
  auto existed = WaitMine(EventType::openat, file);
  REQUIRE(existed);
  CHECK((existed->event.file.flags & kOpenFlagCreated) == 0);
  CHECK((existed->event.file.flags & static_cast<uint32_t>(flags)) == static_cast<uint32_t>(flags));
}

// issue 18: fd.name of an open is the path as given, made absolute against
// cwd or the dirfd and normalised lexically, symlinks not followed (libsinsp);
// /proc/self/fd/N and /proc/self/exe stay as written. The opened file's own
// path (symlinks resolved) is fd.name.resolved, on which vigil's own rules
// about a file's identity match: a credential file read through a symlink
// still fires them.
TEST_CASE("open through a symlink, /proc/self/fd and /proc/self/exe: fd.name as given, fd.name.resolved the file", "[root]") {
  TheSensor();
  Drain();
  TempDir tmp;
  char real[PATH_MAX];
  REQUIRE(realpath(tmp.path.c_str(), real) != nullptr);
  const std::string dir = real;
  REQUIRE(realpath("/etc/shadow", real) != nullptr);
  const std::string shadow = real;
  REQUIRE(symlink("/etc/shadow", (dir + "/lnk").c_str()) == 0);
  REQUIRE(mkdir((dir + "/sub").c_str(), 0755) == 0);
  const std::string render = "%fd.name|%fd.name.resolved|%fd.nameraw";

  // absolute path through a symlink
  const std::string lnk = dir + "/lnk";
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, lnk.c_str(), O_RDONLY));
  REQUIRE(fd >= 0);
  auto abs = WaitMine(EventType::openat, lnk);
  REQUIRE(abs);
  CHECK(abs->event.file.abspath == lnk);
  CHECK(abs->event.file.resolved == shadow);
  CHECK(RuleOutput(abs->event, "evt.type = openat", render) == lnk + "|" + shadow + "|" + lnk);
  // a rule on the file's identity fires; one on the name given does not
  CHECK(!RuleOutput(abs->event, "fd.name.resolved = /etc/shadow", "x").empty());
  CHECK(RuleOutput(abs->event, "fd.name = /etc/shadow", "x").empty());

  // relative to a dirfd, with "..", "." and "//": normalised, not resolved
  int dfd = open((dir + "/sub").c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dfd >= 0);
  int fd2 = static_cast<int>(syscall(SYS_openat, dfd, "..//./lnk", O_RDONLY));
  REQUIRE(fd2 >= 0);
  auto rel = WaitMine(EventType::openat, "..//./lnk");
  REQUIRE(rel);
  CHECK(rel->event.file.abspath == lnk);
  CHECK(rel->event.file.resolved == shadow);

  // /proc/self/fd/N: stays as written; resolved is the file fd N is
  const std::string via_fd = "/proc/self/fd/" + std::to_string(fd);
  int fd3 = static_cast<int>(syscall(SYS_openat, AT_FDCWD, via_fd.c_str(), O_RDONLY));
  REQUIRE(fd3 >= 0);
  auto pfd = WaitMine(EventType::openat, via_fd);
  REQUIRE(pfd);
  CHECK(RuleOutput(pfd->event, "evt.type = openat", render) == via_fd + "|" + shadow + "|" + via_fd);

  // /proc/self/exe: stays as written; resolved is this test's executable
  REQUIRE(realpath("/proc/self/exe", real) != nullptr);
  const std::string exe = real;
  int fd4 = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/exe", O_RDONLY));
  REQUIRE(fd4 >= 0);
  auto pexe = WaitMine(EventType::openat, "/proc/self/exe");
  REQUIRE(pexe);
  CHECK(pexe->event.file.abspath == "/proc/self/exe");
  CHECK(pexe->event.file.resolved == exe);

  // a failed open has no opened file: resolved is fd.name
  const std::string missing = dir + "/sub/../nothing";
  REQUIRE(syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY) < 0);
  auto fail = WaitMine(EventType::openat, missing);
  REQUIRE(fail);
  CHECK(fail->event.file.resolved.empty());
  CHECK(RuleOutput(fail->event, "evt.type = openat", render) ==
        dir + "/nothing|" + dir + "/nothing|" + missing);
  close(fd4);
  close(fd3);
  close(fd2);
  close(dfd);
  close(fd);
}

TEST_CASE("relative path with a dirfd is made absolute; failure carries -errno", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  int dfd = open(dir.path.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dfd >= 0);
  long r = syscall(SYS_openat, dfd, "sub/../missing.txt", O_RDONLY, 0);
  REQUIRE(r == -1);
  auto ev = WaitMine(EventType::openat, "sub/../missing.txt");
  REQUIRE(ev);
  CHECK(ev->event.res == -ENOENT);
  CHECK(ev->event.file.fd == dfd);
  CHECK(ev->event.file.abspath == dir.path + "/missing.txt");
  close(dfd);
}

TEST_CASE("creat, mkdir, chmod, chown, rename, link, symlink, truncate, unlink", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  std::string a = dir.path + "/a", b = dir.path + "/b", d = dir.path + "/d", l = dir.path + "/l", s = dir.path + "/s";

  int fd = static_cast<int>(syscall(SYS_creat, a.c_str(), 0644));
  REQUIRE(fd >= 0);
  close(fd);
  auto c = WaitMine(EventType::creat, a);
  REQUIRE(c);
  CHECK(c->event.file.abspath == a);
  CHECK(c->event.file.mode == 0644);
  CHECK((c->event.file.flags & O_CREAT) != 0);

  REQUIRE(syscall(SYS_mkdir, d.c_str(), 0700) == 0);
  auto m = WaitMine(EventType::mkdir, d);
  REQUIRE(m);
  CHECK(m->event.file.mode == 0700);
  CHECK(m->event.res == 0);

  REQUIRE(syscall(SYS_chmod, a.c_str(), 0600) == 0);
  auto ch = WaitMine(EventType::chmod, a);
  REQUIRE(ch);
  CHECK(ch->event.file.mode == 0600);

  REQUIRE(syscall(SYS_chown, a.c_str(), 0, 0) == 0);
  auto co = WaitMine(EventType::chown, a);
  REQUIRE(co);
  CHECK(co->event.file.owner_uid == 0);
  CHECK(co->event.file.owner_gid == 0);

  REQUIRE(syscall(SYS_rename, a.c_str(), b.c_str()) == 0);
  auto rn = WaitMine(EventType::rename, a);
  REQUIRE(rn);
  CHECK(rn->event.file.abspath == a);
  CHECK(rn->event.file.target == b);
  CHECK(rn->event.file.target_abs == b);

  REQUIRE(syscall(SYS_link, b.c_str(), l.c_str()) == 0);
  auto ln = WaitMine(EventType::link, b);
  REQUIRE(ln);
  CHECK(ln->event.file.target_abs == l);

  REQUIRE(syscall(SYS_symlink, "b", s.c_str()) == 0);
  auto sl = WaitMine(EventType::symlink, "b");
  REQUIRE(sl);
  CHECK(sl->event.file.target_abs == s);

  REQUIRE(syscall(SYS_truncate, b.c_str(), 10) == 0);
  auto tr = WaitMine(EventType::truncate, b);
  REQUIRE(tr);
  CHECK(tr->event.file.length == 10);

  REQUIRE(syscall(SYS_unlink, b.c_str()) == 0);
  auto ul = WaitMine(EventType::unlink, b);
  REQUIRE(ul);
  CHECK(ul->event.file.abspath == b);
  CHECK(ul->event.res == 0);

  REQUIRE(syscall(SYS_unlinkat, AT_FDCWD, d.c_str(), AT_REMOVEDIR) == 0);
  auto ua = WaitMine(EventType::unlinkat, d);
  REQUIRE(ua);
  CHECK(ua->event.file.flags == AT_REMOVEDIR);

  // failure: unlink of something that is not there
  REQUIRE(syscall(SYS_unlink, a.c_str()) == -1);
  auto uf = WaitMine(EventType::unlink, a);
  REQUIRE(uf);
  CHECK(uf->event.res == -ENOENT);
}

// The path walk reads a file's dentries by direct loads when its descriptor
// is in the task's first fd table (at most 64 slots, never grown) and with
// helper reads otherwise; the cwd walk is always direct; a mount crossing
// switches to helper reads. The same paths must come out of every route:
// a child with a small table, a child whose table grew (a descriptor dup'ed
// to 200), each opening a long-named file (kept outside the dentry), a file
// on procfs (a crossing) and a relative path (the cwd walk).
namespace {

int FdTableSize() {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("FDSize:", 0) == 0) return std::atoi(line.c_str() + 7);
  return -1;
}

// In the child: the opens, after making the fd table small (close all but
// 0-2, then fork: the grandchild's table is sized to what is open) or grown.
// Exits 0, or the step that failed (10+: the table is not what was asked).
int OpenThree(bool small, const std::string& dir, const std::string& longname) {
  if (small) {
    syscall(SYS_close_range, 3, ~0U, 0);
    pid_t p = fork();
    if (p != 0) {
      int st = 0;
      waitpid(p, &st, 0);
      return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
    }
    if (FdTableSize() != 64) _exit(10);
  } else {
    if (dup2(0, 200) != 200 || FdTableSize() <= 64) return 11;
  }
  int rc = 0;
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, (dir + "/" + longname).c_str(), O_RDONLY, 0));
  if (fd < 0) rc = 1;
  close(fd);
  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0));
  if (fd < 0) rc = 2;
  close(fd);
  if (chdir(dir.c_str()) != 0) rc = 3;
  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "missing-relative", O_RDONLY, 0));
  if (fd >= 0) rc = 4;
  if (small) _exit(rc);
  return rc;
}

}  // namespace

// The times a caller sets reach the event as given: explicit ones (what a
// timestomp looks like), "now" and "left unchanged", through each of the four
// calls and their three layouts of the times argument.
TEST_CASE("utimensat, futimens, futimesat, utimes, utime: path and the times set", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  const std::string f = dir.path + "/stamped";
  int fd = open(f.c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  constexpr int64_t k2019 = 1546300800;  // 2019-01-01T00:00:00Z
  constexpr int64_t kNs = 1000000000;

  // touch -d 2019-01-01 stamped (relative to a dirfd): both explicit
  int dfd = open(dir.path.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dfd >= 0);
  struct timespec ts[2] = {{k2019, 5}, {k2019 + 60, 999999999}};
  REQUIRE(syscall(SYS_utimensat, dfd, "stamped", ts, 0) == 0);
  auto u = WaitMine(EventType::utimensat, "stamped");
  REQUIRE(u);
  CHECK(u->event.res == 0);
  CHECK(u->event.file.fd == dfd);
  CHECK(u->event.file.abspath == f);
  CHECK(u->event.file.atime == k2019 * kNs + 5);
  CHECK(u->event.file.mtime == (k2019 + 60) * kNs + 999999999);
  struct stat st {};
  REQUIRE(stat(f.c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec == k2019 + 60);  // the call did what the event says

  // futimens(fd, {UTIME_NOW, UTIME_OMIT}): utimensat with a NULL path
  struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  REQUIRE(syscall(SYS_utimensat, fd, nullptr, now_omit, 0) == 0);
  auto fu = WaitMine(EventType::utimensat);
  REQUIRE(fu);
  CHECK(fu->event.file.path.empty());
  CHECK(fu->event.file.abspath == f);
  CHECK(fu->event.file.atime == kFileTimeNow);
  CHECK(fu->event.file.mtime == kFileTimeOmit);

  // "" with AT_EMPTY_PATH: the fd itself
  REQUIRE(syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH) == 0);
  auto ep = WaitMine(EventType::utimensat);
  REQUIRE(ep);
  CHECK(ep->event.file.abspath == f);
  CHECK((ep->event.file.flags & AT_EMPTY_PATH) != 0);

  // futimesat with microseconds
  struct timeval tv[2] = {{k2019, 1}, {k2019 + 1, 250000}};
  REQUIRE(syscall(SYS_futimesat, dfd, "stamped", tv) == 0);
  auto fs = WaitMine(EventType::futimesat, "stamped");
  REQUIRE(fs);
  CHECK(fs->event.file.abspath == f);
  CHECK(fs->event.file.atime == k2019 * kNs + 1000);
  CHECK(fs->event.file.mtime == (k2019 + 1) * kNs + 250000000);

  // utimes(path, NULL): both now (what a bare `touch` asks for)
  REQUIRE(syscall(SYS_utimes, f.c_str(), nullptr) == 0);
  auto us = WaitMine(EventType::utimes, f);
  REQUIRE(us);
  CHECK(us->event.file.atime == kFileTimeNow);
  CHECK(us->event.file.mtime == kFileTimeNow);

  // utime with whole seconds, one before 1970
  struct utimbuf ub = {-86400, k2019};
  REQUIRE(syscall(SYS_utime, f.c_str(), &ub) == 0);
  auto ut = WaitMine(EventType::utime, f);
  REQUIRE(ut);
  CHECK(ut->event.file.atime == -86400 * kNs);
  CHECK(ut->event.file.mtime == k2019 * kNs);

  // a refused call still arrives, with its error and without invented times
  struct timespec bad[2] = {{k2019, 2000000000}, {k2019, 0}};
  REQUIRE(syscall(SYS_utimensat, dfd, "stamped", bad, 0) == -1);
  auto b = WaitMine(EventType::utimensat, "stamped");
  REQUIRE(b);
  CHECK(b->event.res == -EINVAL);
  CHECK(b->event.file.atime == kFileTimeUnset);
  CHECK(b->event.file.mtime == k2019 * kNs);
  close(dfd);
  close(fd);
}

TEST_CASE("the path walk gives the same paths by direct loads and by helper reads", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  const std::string longname = "a-file-name-longer-than-the-inline-dentry-storage.txt";
  { std::ofstream(dir.path + "/" + longname) << "x"; }
  for (bool small : {true, false}) {
    INFO((small ? "small fd table (direct loads)" : "grown fd table (helper reads)"));
    // the small-table opens come from a grandchild: match on the parent pid too
    auto [pid, status] = InChild([&] { return OpenThree(small, dir.path, longname); });
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto from_child = [&, pid = pid](const Event& e, const std::string& path) {
      return e.type == EventType::openat && e.file.path == path &&
             (e.proc.pid == static_cast<uint32_t>(pid) || e.proc.ppid == static_cast<uint32_t>(pid));
    };
    auto l = WaitFor([&](const Event& e) { return from_child(e, dir.path + "/" + longname); });
    REQUIRE(l);
    CHECK(l->event.file.abspath == dir.path + "/" + longname);
    CHECK(l->event.file.resolved == dir.path + "/" + longname);  // the walk of the opened file
    auto p = WaitFor([&](const Event& e) { return from_child(e, "/proc/self/status"); });
    REQUIRE(p);
    // fd.name as given (issue 18); the walk, which follows /proc/self, in fd.name.resolved
    CHECK(p->event.file.abspath == "/proc/self/status");
    CHECK(p->event.file.resolved == "/proc/" + std::to_string(p->event.proc.pid) + "/status");
    auto r = WaitFor([&](const Event& e) { return from_child(e, "missing-relative"); });
    REQUIRE(r);
    CHECK(r->event.res == -ENOENT);
    CHECK(r->event.file.abspath == dir.path + "/missing-relative");
  }
}

// A walk ends at the root of the process's root mount: a process chrooted
// into a mount's root (as in a container) sees paths from there; one chrooted
// into a plain directory still gets the whole path (it cannot hide a file's
// real location by chrooting into one of its parents).
TEST_CASE("paths are relative to a root that is a mount's root, whole otherwise", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  std::string plain = dir.path + "/plain";
  std::string mnt = dir.path + "/mnt";
  REQUIRE(mkdir(plain.c_str(), 0755) == 0);
  REQUIRE(mkdir(mnt.c_str(), 0755) == 0);
  { std::ofstream(plain + "/inside") << "x"; }
  auto [pid, status] = InChild([&] {
    if (unshare(CLONE_NEWNS) != 0) return 1;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 2;
    if (mount("vigil-root", mnt.c_str(), "tmpfs", 0, nullptr) != 0) return 3;
    { std::ofstream(mnt + "/inside") << "x"; }
    pid_t p = fork();
    if (p == 0) {  // chroot into the plain directory
      if (chroot(plain.c_str()) != 0) _exit(4);
      int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/inside", O_RDONLY, 0));
      _exit(fd >= 0 ? 0 : 5);
    }
    int st = 0;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 6;
    if (chroot(mnt.c_str()) != 0) return 7;  // into the tmpfs mount's root
    int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/inside", O_RDONLY, 0));
    return fd >= 0 ? 0 : 8;
  });
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto in_mount = WaitFor([&, pid = pid](const Event& e) {
    return e.type == EventType::openat && e.file.path == "/inside" && e.proc.pid == static_cast<uint32_t>(pid);
  });
  REQUIRE(in_mount);
  // fd.name: the path as given (issue 18, libsinsp's); the walked path of
  // the opened file is fd.name.resolved
  CHECK(in_mount->event.file.abspath == "/inside");
  CHECK(in_mount->event.file.resolved == "/inside");
  auto in_plain = WaitFor([&, pid = pid](const Event& e) {
    return e.type == EventType::openat && e.file.path == "/inside" && e.proc.ppid == static_cast<uint32_t>(pid);
  });
  REQUIRE(in_plain);
  CHECK(in_plain->event.file.abspath == "/inside");
  CHECK(in_plain->event.file.resolved == plain + "/inside");
}

TEST_CASE("mount and umount2 are captured with their result", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  // a tmpfs mount in a private mount namespace child would hide it from us;
  // mount on the host tree and undo it.
  REQUIRE(syscall(SYS_mount, "vigil-test", dir.path.c_str(), "tmpfs", 0, nullptr) == 0);
  auto m = WaitMine(EventType::mount, dir.path);
  REQUIRE(m);
  CHECK(m->event.file.source == "vigil-test");
  CHECK(m->event.file.fstype == "tmpfs");
  CHECK(m->event.res == 0);
  REQUIRE(syscall(SYS_umount2, dir.path.c_str(), 0) == 0);
  auto u = WaitMine(EventType::umount2, dir.path);
  REQUIRE(u);
  CHECK(u->event.res == 0);
}

// Syscall arguments are read at sys_exit from the thread's saved registers,
// not paired with a sys_enter half: a call that was already blocked when the
// sensor started is still reported with its arguments. A FIFO open blocks
// until a writer arrives; a second sensor is started while it waits.
TEST_CASE("an open already blocked when the sensor starts is captured with its arguments", "[root]") {
  TempDir dir;
  std::string fifo = dir.path + "/pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::atomic<long> reader_tid{0};
  std::atomic<int> reader_fd{-2};
  std::thread reader([&] {
    reader_tid = syscall(SYS_gettid);
    reader_fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, fifo.c_str(), O_RDONLY | O_CLOEXEC, 0));
  });
  // a failed REQUIRE below must not leave the reader blocked (nor destroy a
  // joinable thread): a non-blocking writer open releases it
  struct Release {
    std::thread& t;
    const std::string& path;
    ~Release() {
      if (!t.joinable()) return;
      int w = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      t.join();
      if (w >= 0) close(w);
    }
  } release{reader, fifo};
  // wait until the reader is inside openat (/proc/.../syscall names the call)
  bool blocked = false;
  for (int i = 0; i < 300 && !blocked; ++i) {
    if (reader_tid != 0) {
      std::ifstream sc("/proc/self/task/" + std::to_string(reader_tid.load()) + "/syscall");
      long nr = -1;
      blocked = (sc >> nr) && nr == SYS_openat;
    }
    if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(blocked);

  capture::SensorOptions o = capture::testing::TestSensorOptions();
  o.ringbuf_bytes = 16u << 20;  // room for the bpf() records of its own load, and host noise, before the first poll
  std::string error;
  auto late = capture::Sensor::Open(o, &error);
  REQUIRE(late);
  int wfd = open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(wfd >= 0);
  reader.join();
  REQUIRE(reader_fd >= 0);

  std::optional<Event> got;
  capture::Sensor::Callback cb = [&](const Event& e) {
    if (!got && e.type == EventType::openat && e.proc.tid == static_cast<uint32_t>(reader_tid.load())) {
      got = e;
      got->ancestors = nullptr;
    }
  };
  for (int i = 0; i < 60 && !got; ++i) late->Poll(50, cb);
  // a missing event with records counted lost points at the ring, not at the
  // sys_exit argument read
  uint64_t late_dropped = 0;
  for (const auto& c : late->ReadCounters())
    if (c.name == "ringbuf_drop") late_dropped = c.value;
  INFO("late sensor ringbuf_drop " << late_dropped);
  REQUIRE(got);
  CHECK(got->file.path == fifo);
  CHECK(got->file.abspath == fifo);
  CHECK(got->res == reader_fd);
  CHECK(got->file.fd == reader_fd);
  CHECK((got->file.flags & O_ACCMODE) == O_RDONLY);
  CHECK((got->file.flags & O_CLOEXEC) == O_CLOEXEC);
  close(reader_fd);
  close(wfd);
}

// The ring reader (bpf/ring_reader.cpp) on a ring of 64 KiB: 2,000 opens of
// distinct paths, polled every 2, wrap the ring ~18 times; every open must
// come out once, in order, with nothing counted lost.
//
// Every process on the host writes into this ring too, so host noise can fill
// 64 KiB between two polls; the kernel then counts ringbuf_drop. Such a round
// proves nothing and is run again (fresh paths, ring drained first), up to
// kAttempts times. A round with no counted drop must be complete and in order:
// a record lost or reordered without being counted fails the test.
TEST_CASE("a small ring buffer wraps many times without losing or reordering records", "[root]") {
  TempDir dir;
  capture::SensorOptions o = capture::testing::TestSensorOptions();
  o.ringbuf_bytes = 64u << 10;
  std::string error;
  auto small = capture::Sensor::Open(o, &error);
  REQUIRE(small);
  const uint32_t me = static_cast<uint32_t>(getpid());
  std::string prefix;
  std::vector<int> order;
  capture::Sensor::Callback cb = [&](const Event& e) {
    if (e.type != EventType::openat || e.proc.pid != me) return;
    if (e.file.path.rfind(prefix, 0) != 0) return;
    order.push_back(std::atoi(e.file.path.c_str() + prefix.size()));
  };
  auto dropped_so_far = [&] {
    for (const auto& c : small->ReadCounters())
      if (c.name == "ringbuf_drop") return c.value;
    return uint64_t{0};
  };
  constexpr int kAttempts = 5;
  constexpr int kOpens = 2000;
  bool clean_round = false;
  for (int attempt = 1; attempt <= kAttempts && !clean_round; ++attempt) {
    // fresh paths: nothing of an earlier round can be taken for this one's
    prefix = dir.path + "/r" + std::to_string(attempt) + "-f";
    order.clear();
    // the sensor's own start (its bpf() loads) and earlier rounds may have
    // filled so small a ring: drain, then count from here
    while (small->Poll(0, cb) > 0) {
    }
    const uint64_t dropped_before = dropped_so_far();
    for (int i = 0; i < kOpens; ++i) {
      syscall(SYS_openat, AT_FDCWD, (prefix + std::to_string(i)).c_str(), O_RDONLY, 0);  // ENOENT: fine
      if (i % 2 == 1) small->Poll(0, cb);
    }
    for (int i = 0; i < 20 && static_cast<int>(order.size()) < kOpens; ++i) small->Poll(50, cb);
    const uint64_t dropped = dropped_so_far() - dropped_before;
    if (dropped != 0) {
      WARN("attempt " << attempt << " of " << kAttempts << ": the kernel counted " << dropped
                      << " ringbuf_drop (host noise filled the 64 KiB ring); " << order.size() << " of "
                      << kOpens << " opens seen; retrying");
      continue;
    }
    clean_round = true;
    INFO("attempt " << attempt << ": no ringbuf_drop counted, so every open must come out once, in order");
    REQUIRE(order.size() == static_cast<std::size_t>(kOpens));
    for (int i = 0; i < kOpens; ++i) {
      INFO("position " << i);
      REQUIRE(order[static_cast<std::size_t>(i)] == i);
    }
  }
  INFO("every one of " << kAttempts << " attempts had ringbuf_drop counted: the host is too busy to check the wrap");
  REQUIRE(clean_round);
}

// setxattr, lsetxattr, fsetxattr (issue 17: `setcap` writes security.capability)
// and rmdir (issue 18): the file, the attribute's name and the value's size,
// each made by its own raw syscall, and the fields the default setcap rule reads.
TEST_CASE("setxattr family: the file and the attribute name; rmdir", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  const std::string f = dir.path + "/bin";
  { std::ofstream(f) << "x"; }
  // What `setcap cap_net_raw+ep` writes: a VFS_CAP_REVISION_2 vfs_cap_data,
  // effective flag set, permitted = CAP_NET_RAW (13).
  const uint32_t cap[5] = {0x02000001u, 1u << 13, 0, 0, 0};
  long r = syscall(SYS_setxattr, f.c_str(), "security.capability", cap, sizeof(cap), 0);
  INFO("setxattr: " << r << " " << std::strerror(errno));
  auto sx = WaitMine(EventType::setxattr, f);
  REQUIRE(sx);
  CHECK(sx->event.res == (r == 0 ? 0 : -errno));
  CHECK(sx->event.file.abspath == f);
  CHECK(sx->event.file.xattr_name == "security.capability");
  CHECK(sx->event.file.length == sizeof(cap));
  if (r == 0) {
    CHECK(RuleOutput(sx->event, "evt.type in (setxattr, lsetxattr, fsetxattr) and evt.arg.name = security.capability",
                     "%evt.type %fd.name %evt.arg.name %evt.arg.size %evt.res") ==
          "setxattr " + f + " security.capability 20 SUCCESS");
  }

  // lsetxattr with a path relative to the cwd (a user.* attribute: refused on
  // a file system without them, the event comes either way with -errno)
  const std::string cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  r = syscall(SYS_lsetxattr, "bin", "user.vigil", "v1", 2, XATTR_CREATE);
  const long lerr = r == 0 ? 0 : -errno;
  std::filesystem::current_path(cwd);
  auto lx = WaitMine(EventType::lsetxattr, "bin");
  REQUIRE(lx);
  CHECK(lx->event.res == lerr);
  CHECK(lx->event.file.abspath == f);
  CHECK(lx->event.file.xattr_name == "user.vigil");
  CHECK(lx->event.file.flags == XATTR_CREATE);
  CHECK(lx->event.file.length == 2);

  int fd = open(f.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  r = syscall(SYS_fsetxattr, fd, "security.capability", cap, sizeof(cap), 0);
  const long ferr = r == 0 ? 0 : -errno;
  auto fx = WaitFor([&](const Event& e) {
    return e.type == EventType::fsetxattr && e.proc.pid == static_cast<uint32_t>(getpid()) && e.file.fd == fd;
  });
  close(fd);
  REQUIRE(fx);
  CHECK(fx->event.res == ferr);
  CHECK(fx->event.file.abspath == f);  // the fd's own file
  CHECK(fx->event.file.xattr_name == "security.capability");
  CHECK(RuleOutput(fx->event, "evt.type = fsetxattr", "%fd.name %evt.arg.name %evt.arg.fd") ==
        f + " security.capability " + std::to_string(fd));

  const std::string d = dir.path + "/gone";
  REQUIRE(syscall(SYS_mkdir, d.c_str(), 0700) == 0);
  REQUIRE(syscall(SYS_rmdir, d.c_str()) == 0);
  auto rd = WaitMine(EventType::rmdir, d);
  REQUIRE(rd);
  CHECK(rd->event.res == 0);
  CHECK(rd->event.file.abspath == d);
  CHECK(RuleOutput(rd->event, "evt.type = rmdir", "%fd.name %evt.arg.path %fd.type") == d + " " + d + " directory");
  REQUIRE(syscall(SYS_rmdir, d.c_str()) == -1);
  auto rd2 = WaitMine(EventType::rmdir, d);
  REQUIRE(rd2);
  CHECK(rd2->event.res == -ENOENT);
}

// issue 18: the removexattr family (what `setcap -r` and `setfattr -x` call),
// captured as the setxattr family is: the file and the attribute's name.
TEST_CASE("removexattr, lremovexattr, fremovexattr: the file and the attribute name", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  const std::string f = dir.path + "/bin";
  { std::ofstream(f) << "x"; }
  const uint32_t cap[5] = {0x02000001u, 1u << 13, 0, 0, 0};
  const long set = syscall(SYS_setxattr, f.c_str(), "security.capability", cap, sizeof(cap), 0);
  INFO("setxattr: " << set << " " << std::strerror(errno));
  long r = syscall(SYS_removexattr, f.c_str(), "security.capability");
  const long err = r == 0 ? 0 : -errno;
  if (set == 0) CHECK(r == 0);  // what was set can be removed
  auto rx = WaitMine(EventType::removexattr, f);
  REQUIRE(rx);
  CHECK(rx->event.res == err);
  CHECK(rx->event.file.abspath == f);
  CHECK(rx->event.file.xattr_name == "security.capability");
  CHECK(RuleOutput(rx->event, "evt.type = removexattr and evt.arg.name = security.capability",
                   "%evt.type %fd.name %evt.arg.name %evt.arg.size") ==
        "removexattr " + f + " security.capability <NA>");

  // relative to the cwd, an attribute that is not there: -ENODATA (or
  // -EOPNOTSUPP where the file system has no user.* attributes)
  const std::string cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  r = syscall(SYS_lremovexattr, "bin", "user.vigil_absent");
  const long lerr = r == 0 ? 0 : -errno;
  std::filesystem::current_path(cwd);
  CHECK(r == -1);
  auto lx = WaitMine(EventType::lremovexattr, "bin");
  REQUIRE(lx);
  CHECK(lx->event.res == lerr);
  CHECK(lx->event.file.abspath == f);
  CHECK(lx->event.file.xattr_name == "user.vigil_absent");

  int fd = open(f.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  syscall(SYS_fsetxattr, fd, "security.capability", cap, sizeof(cap), 0);
  r = syscall(SYS_fremovexattr, fd, "security.capability");
  const long ferr = r == 0 ? 0 : -errno;
  auto fx = WaitFor([&](const Event& e) {
    return e.type == EventType::fremovexattr && e.proc.pid == static_cast<uint32_t>(getpid()) && e.file.fd == fd;
  });
  close(fd);
  REQUIRE(fx);
  CHECK(fx->event.res == ferr);
  CHECK(fx->event.file.abspath == f);  // the fd's own file
  CHECK(fx->event.file.xattr_name == "security.capability");
  CHECK(RuleOutput(fx->event, "evt.type = fremovexattr", "%fd.name %evt.arg.name") == f + " security.capability");
}

// Issue 18: evt.is_open_exec and evt.is_open_create, as libsinsp computes
// them, on real opens: is_open_create is the kernel's FMODE_CREATED (or a
// successful O_TMPFILE), is_open_exec an O_CREAT/O_TMPFILE open or a creat
// whose mode has an execute bit, created or not. Before, is_open_exec was
// always <NA> and Falco's "Container Drift Detected (open+create)" never fired.
TEST_CASE("evt.is_open_exec and evt.is_open_create on real open, openat, creat and O_TMPFILE calls", "[root]") {
  TheSensor();
  Drain();
  TempDir dir;
  const std::string out = "exec=%evt.is_open_exec create=%evt.is_open_create";
  auto fields = [&](EventType type, const std::string& path) {
    auto ev = WaitMine(type, path);
    REQUIRE(ev);
    return RuleOutput(ev->event, "evt.type in (open, openat, openat2, creat)", out);
  };
  const std::string exe = dir.path + "/new-exe";
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, exe.c_str(), O_WRONLY | O_CREAT, 0755));
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(fields(EventType::openat, exe) == "exec=true create=true");

  // The same open of the file that now exists: not created; libsinsp's
  // is_open_exec still holds (O_CREAT with an execute mode).
  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, exe.c_str(), O_WRONLY | O_CREAT, 0755));
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(fields(EventType::openat, exe) == "exec=true create=false");

  const std::string data = dir.path + "/new-data";
  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, data.c_str(), O_WRONLY | O_CREAT, 0644));
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(fields(EventType::openat, data) == "exec=false create=true");

  // A plain read open: neither, though the file is executable.
  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, exe.c_str(), O_RDONLY, 0755));
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(fields(EventType::openat, exe) == "exec=false create=false");

  const std::string crt = dir.path + "/creat-exe";
  fd = static_cast<int>(syscall(SYS_creat, crt.c_str(), 0700));
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(fields(EventType::creat, crt) == "exec=true create=false");  // libsinsp: creat is never is_open_create

  fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, dir.path.c_str(), O_TMPFILE | O_RDWR, 0700));
  if (fd < 0) {
    WARN("O_TMPFILE refused on " << dir.path << " (errno " << errno << "): not checked");
    return;
  }
  close(fd);
  CHECK(fields(EventType::openat, dir.path) == "exec=true create=true");
}
