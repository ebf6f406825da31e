// SPDX-License-Identifier: Apache-2.0
// Record decoder (bpf/decoder.h) on synthetic ring-buffer records: each family
// decoded into the Event fields, malformed records rejected and counted, and
// the path helpers.
#include <catch2/catch.hpp>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "bpf/decoder.h"
#include "bpf/vigil_abi.h"

using vigil::Event;
using vigil::EventType;
using vigil::capture::DecodeStatus;
using vigil::capture::Decoder;

namespace {

template <typename T>
T Make(uint16_t kind, uint16_t type) {
  T r;
  std::memset(&r, 0, sizeof(r));
  // An exec record ends after the env bytes it uses (none here), a net
  // record after its data bytes (none here).
  r.hdr.size = kind == VG_KIND_EXEC ? VG_EXEC_HEAD_SIZE : kind == VG_KIND_NET ? VG_NET_HEAD_SIZE : sizeof(T);
  r.hdr.kind = kind;
  r.hdr.type = type;
  r.hdr.abi_version = VG_ABI_VERSION;
  r.hdr.ts_ns = 1000;
  r.hdr.pid = 42;
  r.hdr.tid = 43;
  r.hdr.ppid = 1;
  r.hdr.uid = 1000;
  r.hdr.euid = 0;
  r.hdr.loginuid = 1000;
  r.hdr.cap_effective = 0x1ff;
  r.hdr.start_ns = 77;
  r.hdr.cgroup_id = 9;
  r.hdr.ns_mnt = 4026531841ull;
  std::strcpy(r.hdr.comm, "bash");
  return r;
}

// chain of names, root-most last: {"c", "b", "a"} is /a/b/c
void SetChain(vg_chain* c, std::vector<const char*> leaf_first, bool complete = true) {
  std::memset(c, 0, sizeof(*c));
  c->depth = static_cast<uint16_t>(leaf_first.size());
  c->flags = complete ? VG_CHAIN_COMPLETE : 0;
  for (std::size_t i = 0; i < leaf_first.size(); ++i) std::strcpy(c->comp[i], leaf_first[i]);
}

// `len` 0: the record's own hdr.size.
template <typename T>
DecodeStatus Decode(Decoder& d, const T& r, Event* e, std::size_t len = 0) {
  return d.Decode(&r, len == 0 ? r.hdr.size : len, e);
}

// A file record as the kernel writes it: the head, then the strings packed in
// the order of vigil_abi.h, each with its NUL (an empty string: absent).
struct FileRec {
  vg_file head;
  std::string path, fstype, target;
  std::vector<std::string> base, target_base;  // leaf first
  bool base_complete = true, target_base_complete = true;

  FileRec(uint16_t type) : head(Make<vg_file>(VG_KIND_FILE, type)) {}

  std::vector<unsigned char> Pack() const {
    vg_file h = head;
    std::string tail;
    auto str = [&tail](const std::string& v) -> uint16_t {
      if (v.empty()) return 0;
      tail.append(v);
      tail.push_back('\0');
      return static_cast<uint16_t>(v.size() + 1);
    };
    auto names = [&tail](const std::vector<std::string>& v, bool complete, vg_names* n) {
      std::size_t at = tail.size();
      for (const std::string& name : v) {
        tail.append(name);
        tail.push_back('\0');
      }
      n->depth = static_cast<uint16_t>(v.size());
      n->flags = complete ? VG_CHAIN_COMPLETE : 0;
      n->len = static_cast<uint16_t>(tail.size() - at);
    };
    h.path_len = str(path);
    names(base, base_complete, &h.base);
    h.fstype_len = str(fstype);
    h.target_len = str(target);
    names(target_base, target_base_complete, &h.target_base);
    h.hdr.size = static_cast<uint32_t>(VG_FILE_HEAD_SIZE + tail.size());
    std::vector<unsigned char> out(VG_FILE_HEAD_SIZE + tail.size());
    std::memcpy(out.data(), &h, VG_FILE_HEAD_SIZE);
    std::memcpy(out.data() + VG_FILE_HEAD_SIZE, tail.data(), tail.size());
    return out;
  }
};

DecodeStatus Decode(Decoder& d, const FileRec& r, Event* e) {
  std::vector<unsigned char> bytes = r.Pack();
  return d.Decode(bytes.data(), bytes.size(), e);
}

}  // namespace

TEST_CASE("exec record: header, argv, exe, cwd, pre-exec comm", "[unit]") {
  auto r = Make<vg_exec>(VG_KIND_EXEC, VG_T_EXECVE);
  static const char kArgv[] = "/bin/ls\0-la\0/tmp";
  std::memcpy(r.argv, kArgv, sizeof(kArgv));
  r.argv_len = sizeof(kArgv);
  r.flags = VG_EXEC_HAVE_ENTER | VG_EXEC_ARGV_TRUNC | VG_EXEC_ADDR32;
  std::strcpy(r.old_comm, "sh");
  std::strcpy(r.filename, "ls");
  SetChain(&r.exe, {"ls", "bin", "usr"});
  SetChain(&r.cwd, {"work", "home"});
  r.sid = 40;
  r.pgid = 41;
  r.vsid = 4;
  r.vpgid = 0;  // the group leader is outside the task's pid namespace
  r.stdio[0] = {4242, 13, VG_FD_PIPE, 0};
  r.stdio[1] = {7, 5, VG_FD_FILE, 0};
  r.stdio[2] = {0, 0, 99, 0};  // an unknown type from a newer kernel side
  std::strcpy(r.stdin_name, "not-a-file-so-ignored");
  Decoder d(5000);
  Event e;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::execve);
  // issue 17: descriptors 0-2 (type + 1 is the StdioType; the name as sent)
  CHECK(e.proc.stdio[0].type == vigil::StdioType::kPipe);
  CHECK(e.proc.stdio[0].ino == 4242);
  CHECK(e.proc.stdio[0].dev == 13);
  CHECK(e.proc.stdio[1].type == vigil::StdioType::kFile);
  CHECK(e.proc.stdio[2].type == vigil::StdioType::kOther);
  CHECK(e.proc.stdin_name == "not-a-file-so-ignored");
  // issue 18: session and process group, both views
  CHECK(e.proc.session_known);
  CHECK(std::tie(e.proc.sid, e.proc.pgid, e.proc.vsid, e.proc.vpgid) == std::make_tuple(40u, 41u, 4u, 0u));
  CHECK(e.ts_ns == 1000);
  CHECK(e.wall_ns == 6000);
  CHECK(e.proc.pid == 42);
  CHECK(e.proc.tid == 43);
  CHECK(e.proc.ppid == 1);
  CHECK(e.proc.uid == 1000);
  CHECK(e.proc.loginuid == 1000);
  CHECK(e.proc.cap_effective == 0x1ff);
  CHECK(e.proc.start_ns == 77);
  CHECK(e.proc.exec_ns == 1000);
  CHECK(e.proc.cgroup_id == 9);
  CHECK(e.proc.ns.mnt == 4026531841ull);
  CHECK(e.proc.name == "bash");
  CHECK(e.proc.exepath == "/usr/bin/ls");
  CHECK(e.proc.cwd == "/home/work");
  CHECK(e.proc.argv == std::vector<std::string>{"/bin/ls", "-la", "/tmp"});
  CHECK(e.proc.argv_truncated);
  CHECK(e.proc.exe_32bit);
  CHECK(e.args.name == "sh");
  CHECK(e.file.path == "ls");
  r.flags = VG_EXEC_HAVE_ENTER;
  r.stdio[0] = {0, 0, VG_FD_NONE, 0};
  std::memset(r.stdin_name, 'x', sizeof(r.stdin_name));  // no NUL: bounded by the array
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.proc.stdio[0].type == vigil::StdioType::kNone);
  CHECK(e.proc.stdin_name.size() == VG_STDIN_NAME_LEN);
  CHECK_FALSE(e.proc.exe_32bit);
  CHECK_FALSE(e.proc.argv_truncated);
  CHECK(e.file.abspath == "/home/work/ls");
}

// proc.env: the record ends after env_len bytes; a cut last entry (the
// capture's bound) is dropped, not passed on as a whole variable.
TEST_CASE("exec record: environment, whole and truncated; a length that disagrees is rejected", "[unit]") {
  auto r = Make<vg_exec>(VG_KIND_EXEC, VG_T_EXECVE);
  SetChain(&r.exe, {"id", "bin", "usr"});
  SetChain(&r.cwd, {});
  Decoder d;
  Event e;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.proc.env == nullptr);  // not captured: <NA>, not empty

  static const char kEnv[] = "HOME=/root\0LD_PRELOAD=/tmp/x.so\0PATH=/usr/bin";  // last NUL added by the literal
  std::memcpy(r.env, kEnv, sizeof(kEnv));
  r.env_len = sizeof(kEnv);
  r.flags = VG_EXEC_ENV;
  r.hdr.size = static_cast<uint32_t>(VG_EXEC_HEAD_SIZE + sizeof(kEnv));
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  REQUIRE(e.proc.env != nullptr);
  CHECK(*e.proc.env == std::string(kEnv, sizeof(kEnv)));
  CHECK_FALSE(e.proc.env_truncated);
  std::string joined;
  vigil::JoinEnv(*e.proc.env, &joined);
  CHECK(joined == "HOME=/root LD_PRELOAD=/tmp/x.so PATH=/usr/bin");

  // the bound cut "PATH=/usr/bin" after "PATH=/us": that entry is dropped
  r.env_len = static_cast<uint32_t>(sizeof(kEnv) - 6);
  r.flags = VG_EXEC_ENV | VG_EXEC_ENV_TRUNC;
  r.hdr.size = static_cast<uint32_t>(VG_EXEC_HEAD_SIZE + r.env_len);
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  REQUIRE(e.proc.env != nullptr);
  CHECK(e.proc.env_truncated);
  vigil::JoinEnv(*e.proc.env, &joined);
  CHECK(joined == "HOME=/root LD_PRELOAD=/tmp/x.so");

  // and from an unaligned buffer
  std::vector<unsigned char> buf(r.hdr.size + 1);
  std::memcpy(buf.data() + 1, &r, r.hdr.size);
  REQUIRE(d.Decode(buf.data() + 1, r.hdr.size, &e) == DecodeStatus::kOk);
  vigil::JoinEnv(*e.proc.env, &joined);
  CHECK(joined == "HOME=/root LD_PRELOAD=/tmp/x.so");

  // env_len must be exactly the bytes after the head
  r.env_len += 1;
  CHECK(Decode(d, r, &e) == DecodeStatus::kBadSize);
  r.env_len = VG_ENV_LEN + 1;
  r.hdr.size = static_cast<uint32_t>(sizeof(vg_exec));
  CHECK(Decode(d, r, &e) == DecodeStatus::kBadSize);
  CHECK(Decode(d, r, &e, VG_EXEC_HEAD_SIZE - 1) == DecodeStatus::kBadSize);
}

// Issue 18: the executable's inode, its times and overlay layer; the flags
// say which parts the kernel read (an overlay file without the overlay
// inode's BTF: layer unknown).
TEST_CASE("exec record: executable inode, times, overlay layer and pid namespace start", "[unit]") {
  auto r = Make<vg_exec>(VG_KIND_EXEC, VG_T_EXECVE);
  SetChain(&r.exe, {"dropped", "tmp"});
  SetChain(&r.cwd, {});
  r.exe_ino = 4242;
  r.exe_ctime_ns = 1700000000000000001ll;
  r.exe_mtime_ns = 1600000000000000002ll;
  r.pidns_start_ns = 99;
  Decoder d;
  Event e;
  struct Row {
    uint32_t flags;
    uint64_t ino;
    vigil::ExeLayer layer;
  };
  const Row rows[] = {
      {0, 0, vigil::ExeLayer::kUnknown},  // not read: nothing taken from the record
      {VG_EXEC_EXE_INODE | VG_EXEC_LAYER_KNOWN, 4242, vigil::ExeLayer::kNotUpper},
      {VG_EXEC_EXE_INODE | VG_EXEC_OVERLAY | VG_EXEC_LAYER_KNOWN | VG_EXEC_UPPER_LAYER, 4242, vigil::ExeLayer::kUpper},
      {VG_EXEC_EXE_INODE | VG_EXEC_OVERLAY, 4242, vigil::ExeLayer::kUnknown},  // overlay, no BTF for its inode
  };
  for (const auto& row : rows) {
    INFO("flags " << row.flags);
    r.flags = row.flags;
    REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
    CHECK(e.proc.exe_ino == row.ino);
    CHECK(e.proc.exe_ctime_ns == (row.ino ? 1700000000000000001ll : 0));
    CHECK(e.proc.exe_mtime_ns == (row.ino ? 1600000000000000002ll : 0));
    CHECK(e.proc.exe_layer == row.layer);
    CHECK(e.proc.pidns_start_ns == 99);
  }
}

TEST_CASE("failed exec keeps the image and reports the path", "[unit]") {
  auto r = Make<vg_exec>(VG_KIND_EXEC, VG_T_EXECVEAT);
  r.hdr.res = -2;
  r.dirfd = 3;
  r.at_flags = 0x1000;
  std::strcpy(r.filename, "/nonexistent");
  SetChain(&r.cwd, {});
  Decoder d;
  Event e;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::execveat);
  CHECK(e.res == -2);
  CHECK(e.proc.exepath.empty());
  CHECK(e.proc.exec_ns == 0);
  CHECK(e.file.path == "/nonexistent");
  CHECK(e.file.fd == 3);
  CHECK(e.file.flags == 0x1000);
}

TEST_CASE("file record: relative path joined to its base, target, fd-based call", "[unit]") {
  Decoder d;
  Event e;
  FileRec r(VG_T_RENAMEAT2);
  r.path = "../x/./a.txt";
  r.base = {"sub", "tmp"};
  r.target = "/etc//b.txt";
  r.head.flags = 1;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::renameat2);
  CHECK(e.file.path == "../x/./a.txt");
  CHECK(e.file.abspath == "/tmp/x/a.txt");
  CHECK(e.file.target_abs == "/etc/b.txt");
  CHECK(e.file.flags == 1);

  // a relative target joined to its own base
  FileRec l(VG_T_LINKAT);
  l.path = "/etc/passwd";
  l.target = "p2";
  l.target_base = {"home", "root"};  // leaf first: /root/home
  REQUIRE(Decode(d, l, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/etc/passwd");
  CHECK(e.file.target_abs == "/root/home/p2");

  FileRec f(VG_T_FCHMOD);
  f.head.fd = 5;
  f.head.mode = 0755;
  f.head.file_flags = VG_FF_BASE_IS_FILE;
  f.base = {"passwd", "etc"};
  REQUIRE(Decode(d, f, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/etc/passwd");
  CHECK(e.file.fd == 5);
  CHECK(e.file.mode == 0755);

  FileRec m(VG_T_MOUNT);
  m.path = "/mnt/x";
  m.target = "/dev/sda1";
  m.fstype = "ext4";
  REQUIRE(Decode(d, m, &e) == DecodeStatus::kOk);
  CHECK(e.file.source == "/dev/sda1");
  CHECK(e.file.fstype == "ext4");
  CHECK(e.file.target == "/mnt/x");

  // an incomplete base chain gives no absolute path rather than a wrong one
  FileRec u(VG_T_OPENAT);
  u.path = "rel";
  u.base = {"deep"};
  u.base_complete = false;
  REQUIRE(Decode(d, u, &e) == DecodeStatus::kOk);
  CHECK(e.file.path == "rel");
  CHECK(e.file.abspath.empty());
}

// issue 18: fd.name of an open is libsinsp's (the path as given, made
// absolute against cwd/dirfd, lexically normalised, symlinks not followed);
// the opened file's own path (ABI 10: target_base, VG_FF_OPENED_FILE) is
// fd.name.resolved.
TEST_CASE("open record: fd.name as given and absolute, the opened file's path as resolved", "[unit]") {
  Decoder d;
  Event e;
  // open("../lnk//./shadow-link") in /home/u/sub, a symlink to /etc/shadow
  FileRec r(VG_T_OPENAT);
  r.head.hdr.res = 3;
  r.head.fd = 3;
  r.path = "../lnk//./shadow-link";
  r.base = {"sub", "u", "home"};
  r.head.file_flags = VG_FF_OPENED_FILE;
  r.target_base = {"shadow", "etc"};
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.file.path == "../lnk//./shadow-link");
  CHECK(e.file.abspath == "/home/u/lnk/shadow-link");
  CHECK(e.file.resolved == "/etc/shadow");
  CHECK(e.file.target.empty());
  CHECK(e.file.target_abs.empty());  // target_base is no rename target here
  // /proc/self/fd/1: stays as written; resolved is what fd 1 is
  FileRec p(VG_T_OPENAT);
  p.path = "/proc/self/fd/1";
  p.head.file_flags = VG_FF_OPENED_FILE;
  p.target_base = {"0", "pts", "dev"};
  REQUIRE(Decode(d, p, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/proc/self/fd/1");
  CHECK(e.file.resolved == "/dev/pts/0");
  // a failed open has no opened file
  FileRec f(VG_T_OPENAT);
  f.path = "missing";
  f.base = {"tmp"};
  REQUIRE(Decode(d, f, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/tmp/missing");
  CHECK(e.file.resolved.empty());
  // fd-based call: both are the file's own path
  FileRec c(VG_T_FCHMOD);
  c.head.file_flags = VG_FF_BASE_IS_FILE;
  c.base = {"passwd", "etc"};
  REQUIRE(Decode(d, c, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/etc/passwd");
  CHECK(e.file.resolved == "/etc/passwd");
}

TEST_CASE("file record: the times a utimensat-family call set", "[unit]") {
  Decoder d;
  Event e;
  FileRec r(VG_T_UTIMENSAT);
  r.path = "x";
  r.base = {"tmp"};
  r.head.atime_sec = 1546300800;  // 2019-01-01T00:00:00Z
  r.head.atime_nsec = 5;
  r.head.mtime_sec = -1;  // 1969-12-31T23:59:59Z
  r.head.mtime_nsec = 500000000;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::utimensat);
  CHECK(e.file.abspath == "/tmp/x");
  CHECK(e.file.atime == 1546300800000000005);
  CHECK(e.file.mtime == -500000000);

  r.head.atime_nsec = VG_UTIME_NOW;
  r.head.mtime_nsec = VG_UTIME_OMIT;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.file.atime == vigil::kFileTimeNow);
  CHECK(e.file.mtime == vigil::kFileTimeOmit);

  // out of range (the kernel answered EINVAL): no time rather than a wrong one
  r.head.atime_nsec = VG_NSEC_INVALID;
  r.head.mtime_nsec = 0;
  r.head.mtime_sec = INT64_MAX;  // saturates at the end of the ns range
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.file.atime == vigil::kFileTimeUnset);
  CHECK(e.file.mtime == INT64_MAX);
  r.head.mtime_sec = INT64_MIN;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.file.mtime == vigil::kFileTimeMin);

  FileRec n(VG_T_UTIMES);  // times NULL: both now
  n.path = "/etc/hosts";
  n.head.file_flags = VG_FF_TIMES_NOW;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::utimes);
  CHECK(e.file.atime == vigil::kFileTimeNow);
  CHECK(e.file.mtime == vigil::kFileTimeNow);

  n.head.file_flags = VG_FF_TIMES_UNREAD;  // the user array could not be read
  n.head.mtime_sec = 1;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK(e.file.atime == vigil::kFileTimeUnset);
  CHECK(e.file.mtime == vigil::kFileTimeUnset);

  // other file calls never carry times, whatever those fields hold
  FileRec o(VG_T_OPENAT);
  o.path = "/etc/hosts";
  o.head.mtime_sec = 7;
  REQUIRE(Decode(d, o, &e) == DecodeStatus::kOk);
  CHECK(e.file.mtime == vigil::kFileTimeUnset);
}

// The kernel sends the head and only the bytes its strings use (vigil_abi.h).
TEST_CASE("file record tail: packed strings decoded; a tail that disagrees with its head is rejected", "[unit]") {
  FileRec r(VG_T_OPENAT);
  r.path = "hostname";
  r.head.fd = 3;
  r.head.flags = 0101;
  r.base = {"etc"};
  std::vector<unsigned char> good = r.Pack();
  CHECK(good.size() == VG_FILE_HEAD_SIZE + 9 + 4);
  Decoder d;
  Event e;
  REQUIRE(d.Decode(good.data(), good.size(), &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::openat);
  CHECK(e.file.path == "hostname");
  CHECK(e.file.abspath == "/etc/hostname");
  CHECK(e.file.target.empty());
  CHECK(e.file.target_abs.empty());
  CHECK(e.file.fstype.empty());
  CHECK(e.file.flags == 0101);

  // also from an unaligned buffer
  std::vector<unsigned char> buf(good.size() + 1);
  std::memcpy(buf.data() + 1, good.data(), good.size());
  REQUIRE(d.Decode(buf.data() + 1, good.size(), &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/etc/hostname");

  // the head's fields, as offsets into a packed record
  auto u16_at = [](std::vector<unsigned char>& b, std::size_t off, uint16_t v) { std::memcpy(b.data() + off, &v, 2); };
  auto resize = [](std::vector<unsigned char>& b, std::size_t n) {
    b.resize(n);
    uint32_t size = static_cast<uint32_t>(n);
    std::memcpy(b.data(), &size, 4);
  };
  const std::size_t path_len = offsetof(vg_file, path_len);
  const std::size_t base_depth = offsetof(vg_file, base) + offsetof(vg_names, depth);
  const std::size_t base_len = offsetof(vg_file, base) + offsetof(vg_names, len);
  const std::size_t tail = VG_FILE_HEAD_SIZE;
  struct Case {
    const char* what;
    std::function<void(std::vector<unsigned char>&)> mutate;
    DecodeStatus want;
  };
  const std::vector<Case> bad = {
      {"ends inside the head", [&](auto& b) { resize(b, VG_FILE_HEAD_SIZE - 1); }, DecodeStatus::kBadSize},
      {"longer than any file record", [&](auto& b) { resize(b, sizeof(vg_file) + 1); }, DecodeStatus::kBadSize},
      {"ends inside the base's names", [&](auto& b) { resize(b, b.size() - 1); }, DecodeStatus::kBadTail},
      {"a byte past the last string", [&](auto& b) { resize(b, b.size() + 1); }, DecodeStatus::kBadTail},
      {"path length without its NUL", [&](auto& b) { u16_at(b, path_len, 8); }, DecodeStatus::kBadTail},
      {"NUL inside the path", [&](auto& b) { b[tail + 3] = 0; }, DecodeStatus::kBadTail},
      {"path longer than VG_FILE_PATH_LEN", [&](auto& b) { u16_at(b, path_len, VG_FILE_PATH_LEN + 1); }, DecodeStatus::kBadTail},
      {"depth says 2 names, tail holds 1", [&](auto& b) { u16_at(b, base_depth, 2); }, DecodeStatus::kBadTail},
      {"depth 0 with names left over", [&](auto& b) { u16_at(b, base_depth, 0); }, DecodeStatus::kBadTail},
      {"depth past VG_CHAIN_DEPTH", [&](auto& b) { u16_at(b, base_depth, VG_CHAIN_DEPTH + 1); }, DecodeStatus::kBadTail},
      {"names length past the record", [&](auto& b) { u16_at(b, base_len, 60000); }, DecodeStatus::kBadTail},
  };
  uint64_t before = d.stats().TotalRejected();
  for (const auto& c : bad) {
    INFO(c.what);
    std::vector<unsigned char> b = good;
    c.mutate(b);
    e.file.path = "stale";
    CHECK(d.Decode(b.data(), b.size(), &e) == c.want);
    CHECK(e.file.path.empty());
  }
  CHECK(d.stats().TotalRejected() == before + bad.size());
  CHECK(d.stats().rejected[static_cast<std::size_t>(DecodeStatus::kBadTail)] == bad.size() - 2);

  // a name of VG_NAME_LEN bytes or more cannot come from the kernel
  FileRec longname(VG_T_UNLINK);
  longname.path = "x";
  longname.base = {std::string(VG_NAME_LEN, 'n')};
  CHECK(Decode(d, longname, &e) == DecodeStatus::kBadTail);
  longname.base = {std::string(VG_NAME_LEN - 1, 'n')};
  REQUIRE(Decode(d, longname, &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == "/" + std::string(VG_NAME_LEN - 1, 'n') + "/x");
}

TEST_CASE("net record: inet endpoints, abstract unix path", "[unit]") {
  Decoder d;
  Event e;
  auto r = Make<vg_net>(VG_KIND_NET, VG_T_CONNECT);
  r.fd = 7;
  r.sock.family = 2;
  r.sock.type = 1;
  r.sock.protocol = 6;
  const uint8_t lo[4] = {127, 0, 0, 1};
  std::memcpy(r.sock.raddr, lo, 4);
  r.sock.rport = 8080;
  r.sock.lport = 40000;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::connect);
  CHECK(e.net.fd == 7);
  CHECK(e.net.family == 2);
  CHECK(e.net.remote_addr.bytes[0] == 127);
  CHECK(e.net.remote_addr.bytes[3] == 1);
  CHECK(e.net.remote_port == 8080);
  CHECK(e.net.local_port == 40000);

  auto u = Make<vg_net>(VG_KIND_NET, VG_T_BIND);
  u.sock.family = 1;
  std::memcpy(u.sock.unix_path, "\0sock", 5);
  u.sock.unix_len = 5;
  REQUIRE(Decode(d, u, &e) == DecodeStatus::kOk);
  CHECK(e.net.unix_path == "@sock");
  // a unix_len past the array is bounded, not trusted
  u.sock.unix_len = 60000;
  std::memset(u.sock.unix_path, 'a', sizeof(u.sock.unix_path));
  REQUIRE(Decode(d, u, &e) == DecodeStatus::kOk);
  CHECK(e.net.unix_path.size() == VG_UNIX_PATH_LEN);
}

TEST_CASE("bpf record: prog load with helper set", "[unit]") {
  Decoder d;
  Event e;
  auto r = Make<vg_bpf>(VG_KIND_BPF, VG_T_BPF);
  r.cmd = 5;
  r.prog_type = 1;
  r.insn_cnt = 4;
  r.helpers[0] = (1ull << 7) | (1ull << 1);
  r.flags = VG_BPF_HELPERS_COMPLETE;
  std::memcpy(r.prog_name, "0123456789abcdef", 16);  // no NUL: bounded by the array
  std::strcpy(r.license, "GPL");
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.bpf.cmd == 5);
  CHECK(e.bpf.prog_type == 1);
  CHECK(e.bpf.HasHelper(7));
  CHECK(e.bpf.HasHelper(1));
  CHECK_FALSE(e.bpf.HasHelper(2));
  CHECK(e.bpf.helpers_complete);
  CHECK(e.bpf.prog_name == "0123456789abcdef");
  CHECK(e.bpf.license == "GPL");
}

TEST_CASE("proc records: fork child, exit code and signal, dup of a socket", "[unit]") {
  Decoder d;
  Event e;
  auto f = Make<vg_proc>(VG_KIND_PROC, VG_T_CLONE);
  f.hdr.res = 100;
  f.target_pid = 100;
  f.flags = 0x11;
  REQUIRE(Decode(d, f, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::clone);
  CHECK(e.args.target_pid == 100);
  CHECK(e.args.flags == 0x11);

  auto x = Make<vg_proc>(VG_KIND_PROC, VG_T_EXIT);
  x.exit_code = 3;
  x.exit_signal = 0;
  REQUIRE(Decode(d, x, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::procexit);
  CHECK(e.args.exit_code == 3);

  auto u = Make<vg_proc>(VG_KIND_PROC, VG_T_DUP2);
  u.oldfd = 4;
  u.newfd = 1;
  u.has_sock = 1;
  u.sock.family = 2;
  u.sock.rport = 4444;
  REQUIRE(Decode(d, u, &e) == DecodeStatus::kOk);
  CHECK(e.args.oldfd == 4);
  CHECK(e.args.newfd == 1);
  CHECK(e.net.family == 2);
  CHECK(e.net.remote_port == 4444);
  CHECK(e.net.fd == 4);
}

TEST_CASE("header flags: a compat call, from a 64-bit or an i386 image", "[unit]") {
  struct Row {
    const char* what;
    uint16_t kind;
    uint32_t hflags;
    uint32_t exec_flags;
    bool compat, from64, exe32;
  } rows[] = {
      {"a 64-bit call", VG_KIND_PROC, 0, 0, false, false, false},
      {"int 0x80 from a 64-bit image", VG_KIND_PROC, VG_HF_COMPAT, 0, true, true, false},
      {"an i386 program's call: the record says its image is 32-bit", VG_KIND_PROC, VG_HF_COMPAT | VG_HF_ADDR32, 0,
       true, false, true},
      {"ADDR32 without COMPAT means nothing", VG_KIND_PROC, VG_HF_ADDR32, 0, false, false, false},
      {"NO_ENTER alone", VG_KIND_PROC, VG_HF_NO_ENTER, 0, false, false, false},
      // an exec: the flags describe the caller, proc.is_exe_32bit the new image
      {"i386 program execs a 64-bit one", VG_KIND_EXEC, VG_HF_COMPAT | VG_HF_ADDR32, 0, true, false, false},
      {"64-bit program execs through int 0x80", VG_KIND_EXEC, VG_HF_COMPAT, VG_EXEC_ADDR32, true, true, true},
  };
  Decoder d;
  Event e;
  for (const auto& r : rows) {
    INFO(r.what);
    DecodeStatus st;
    if (r.kind == VG_KIND_EXEC) {
      auto x = Make<vg_exec>(VG_KIND_EXEC, VG_T_EXECVE);
      x.hdr.flags = r.hflags;
      x.flags = r.exec_flags;
      SetChain(&x.exe, {"true", "bin"});
      SetChain(&x.cwd, {});
      st = Decode(d, x, &e);
    } else {
      auto p = Make<vg_proc>(VG_KIND_PROC, VG_T_SETUID);
      p.hdr.flags = r.hflags;
      st = Decode(d, p, &e);
    }
    REQUIRE(st == DecodeStatus::kOk);
    CHECK(e.compat == r.compat);
    CHECK(e.compat_from_64bit == r.from64);
    CHECK(e.proc.exe_32bit == r.exe32);
  }
}

TEST_CASE("malformed records are rejected, counted, and leave a reset event", "[unit]") {
  auto good = Make<vg_net>(VG_KIND_NET, VG_T_SOCKET);
  struct Case {
    const char* what;
    std::function<void(vg_net&)> mutate;
    std::size_t len;
    DecodeStatus want;
  };
  const std::vector<Case> cases = {
      {"shorter than a header", [](vg_net&) {}, sizeof(vg_hdr) - 1, DecodeStatus::kTooShort},
      {"empty", [](vg_net&) {}, 0, DecodeStatus::kTooShort},
      {"length below the kind's size", [](vg_net& r) { r.hdr.size = sizeof(vg_hdr); }, sizeof(vg_hdr),
       DecodeStatus::kBadSize},
      {"header size disagrees with length", [](vg_net& r) { r.hdr.size = 9999; }, VG_NET_HEAD_SIZE,
       DecodeStatus::kBadSize},
      {"unknown kind", [](vg_net& r) { r.hdr.kind = 99; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadKind},
      {"type 0", [](vg_net& r) { r.hdr.type = 0; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadType},
      {"type out of range", [](vg_net& r) { r.hdr.type = 60000; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadType},
      {"type of another kind", [](vg_net& r) { r.hdr.type = VG_T_OPENAT; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadType},
      {"other ABI version", [](vg_net& r) { r.hdr.abi_version = 77; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadVersion},
      // ABI 15: a net record is its head and data_len bytes of payload
      {"data_len past the record", [](vg_net& r) { r.data_len = 4; }, VG_NET_HEAD_SIZE, DecodeStatus::kBadSize},
      {"data_len short of the record",
       [](vg_net& r) {
         r.hdr.size = VG_NET_HEAD_SIZE + 8;
         r.data_len = 4;
       },
       VG_NET_HEAD_SIZE + 8, DecodeStatus::kBadSize},
      {"data longer than VG_DATA_LEN",
       [](vg_net& r) {
         r.hdr.size = sizeof(vg_net) + 8;
         r.data_len = VG_DATA_LEN + 8;
       },
       sizeof(vg_net) + 8, DecodeStatus::kBadSize},
  };
  Decoder d;
  uint64_t rejected = 0;
  for (const Case& c : cases) {
    INFO(c.what);
    vg_net r = good;
    c.mutate(r);
    Event e;
    e.proc.pid = 5;
    CHECK(d.Decode(&r, c.len, &e) == c.want);
    CHECK(e.proc.pid == 0);
    CHECK(d.stats().rejected[static_cast<std::size_t>(c.want)] >= 1);
    ++rejected;
  }
  CHECK(d.stats().TotalRejected() == rejected);
  CHECK(d.stats().decoded == 0);
  Event e;
  CHECK(d.Decode(nullptr, 100, &e) == DecodeStatus::kTooShort);
  // a good record still decodes afterwards, also from an unaligned buffer
  std::vector<unsigned char> buf(sizeof(good) + 16);
  std::memcpy(buf.data() + 1, &good, sizeof(good));
  CHECK(d.Decode(buf.data() + 1, good.hdr.size, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::socket);
  CHECK(d.stats().decoded == 1);
}

TEST_CASE("ResolvePath normalises lexically", "[unit]") {
  struct Case {
    const char* base;
    const char* path;
    const char* want;
  };
  const Case cases[] = {
      {"/home/u", "a.txt", "/home/u/a.txt"},
      {"/home/u", "/etc/passwd", "/etc/passwd"},
      {"/home/u", "../../../../etc", "/etc"},
      {"/", "x", "/x"},
      {"/a/./b//", "./c/../d", "/a/b/d"},
      {"", "rel", ""},
      {"relative/base", "rel", ""},
      {"/a", "", ""},
      {"/a", "..", "/"},
      {"/a/b/../c", "d", "/a/c/d"},
      // a base that lost its leading directories stays marked; ".." stops at the marker
      {".../d5/d6", "x", ".../d5/d6/x"},
      {".../d5/d6", "../../../x", ".../x"},
      {".../d5", "/etc/passwd", "/etc/passwd"},
      {"/...", "x", "/.../x"},  // a directory really named "..." is no marker
  };
  for (const Case& c : cases) {
    INFO(c.base << " + " << c.path);
    std::string out = "junk";
    vigil::capture::ResolvePath(c.base, c.path, &out);
    CHECK(out == c.want);
  }
}

TEST_CASE("JoinChain refuses an incomplete chain and bounds the depth", "[unit]") {
  vg_chain c;
  SetChain(&c, {"b", "a"});
  std::string out;
  CHECK(vigil::capture::JoinChain(c, &out));
  CHECK(out == "/a/b");
  SetChain(&c, {"b", "a"}, false);
  CHECK_FALSE(vigil::capture::JoinChain(c, &out));
  CHECK(out.empty());
  SetChain(&c, {});
  CHECK(vigil::capture::JoinChain(c, &out));
  CHECK(out == "/");
  SetChain(&c, {"x"});
  c.depth = 60000;  // lies: bounded by VG_CHAIN_DEPTH
  CHECK(vigil::capture::JoinChain(c, &out));
}

// Issue 18: names were cut at 63 bytes and the path came out wrong, unmarked.
TEST_CASE("JoinChain: names up to NAME_MAX whole; a cut chain marked, a cut name refused", "[unit]") {
  vg_chain c;
  std::string n64(64, 'a'), n255(255, 'b');
  SetChain(&c, {n255.c_str(), n64.c_str(), "tmp"});
  std::string out;
  CHECK(vigil::capture::JoinChain(c, &out));
  CHECK(out == "/tmp/" + n64 + "/" + n255);
  // out of depth: the leaf end, after the marker
  SetChain(&c, {"leaf", "d19", "d18"}, false);
  c.flags = VG_CHAIN_CUT;
  CHECK(vigil::capture::JoinChain(c, &out));
  CHECK(out == std::string(vigil::capture::kTruncatedPathPrefix) + "/d18/d19/leaf");
  // a cut name would name another file: no path, even with the chain complete
  SetChain(&c, {"leaf", "tmp"});
  c.flags = VG_CHAIN_COMPLETE | VG_CHAIN_NAME_CUT;
  CHECK_FALSE(vigil::capture::JoinChain(c, &out));
  CHECK(out.empty());
  // cut with no name at all: nothing known
  SetChain(&c, {}, false);
  c.flags = VG_CHAIN_CUT;
  CHECK_FALSE(vigil::capture::JoinChain(c, &out));
}

TEST_CASE("file record: a PATH_MAX-long path and a cut base decode as such", "[unit]") {
  Decoder d;
  Event e;
  FileRec r(VG_T_OPENAT);
  std::string dir;
  std::vector<std::string> leaf_first;
  for (int i = 0; i < 15; ++i) leaf_first.insert(leaf_first.begin(), std::string(255, static_cast<char>('a' + i)));
  for (auto it = leaf_first.rbegin(); it != leaf_first.rend(); ++it) dir += "/" + *it;
  r.path = dir + "/f";
  REQUIRE(r.path.size() + 1 <= VG_FILE_PATH_LEN);
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.file.path == r.path);
  CHECK(e.file.abspath == r.path);
  // relative to a base the walk cut: marked, joined
  FileRec rel(VG_T_OPENAT);
  rel.path = "x/../y";
  rel.base = {"d19", "d18"};
  rel.base_complete = false;
  auto b = rel.Pack();
  vg_names* nh = reinterpret_cast<vg_names*>(b.data() + offsetof(vg_file, base));
  nh->flags = VG_CHAIN_CUT;
  REQUIRE(d.Decode(b.data(), b.size(), &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath == std::string(vigil::capture::kTruncatedPathPrefix) + "/d18/d19/y");
  // an incomplete base that is not marked cut (a failed read): no absolute path
  nh->flags = 0;
  REQUIRE(d.Decode(b.data(), b.size(), &e) == DecodeStatus::kOk);
  CHECK(e.file.abspath.empty());
}

// The fuzzer's seeds are records of the current ABI (a stale seed would only
// exercise the version and size checks): each one but short.bin decodes.
TEST_CASE("every decoder fuzz seed is a valid record of this ABI", "[unit]") {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VIGIL_DECODER_SEEDS)) {
    if (entry.path().filename() == "short.bin") continue;
    INFO(entry.path().filename().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Decoder d;
    Event e;
    CHECK(d.Decode(bytes.data(), bytes.size(), &e) == DecodeStatus::kOk);
    ++seen;
  }
  CHECK(seen >= 15);
}

TEST_CASE("setxattr family, rmdir, send/recv and userfaultfd records (issues 17, 18)", "[unit]") {
  Decoder d;
  Event e;
  // setxattr: the attribute name rides in `target` and is a name, not a path
  // (no target_abs); the value's size in `length`.
  FileRec x(VG_T_SETXATTR);
  x.path = "bin/ping";
  x.base = {"tmp"};
  x.target = "security.capability";
  x.head.length = 20;
  x.head.flags = 0;
  REQUIRE(Decode(d, x, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::setxattr);
  CHECK(e.file.abspath == "/tmp/bin/ping");
  CHECK(e.file.xattr_name == "security.capability");
  CHECK(e.file.target.empty());
  CHECK(e.file.target_abs.empty());
  CHECK(e.file.length == 20);

  FileRec fx(VG_T_FSETXATTR);
  fx.head.fd = 3;
  fx.head.file_flags = VG_FF_BASE_IS_FILE;
  fx.base = {"f", "tmp"};
  fx.path = "user.x";  // fsetxattr: the name rides in `path`
  REQUIRE(Decode(d, fx, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::fsetxattr);
  CHECK(e.file.abspath == "/tmp/f");
  CHECK(e.file.fd == 3);
  CHECK(e.file.xattr_name == "user.x");
  CHECK(e.file.path.empty());

  // issue 18: the removexattr family, records as the setxattr family's
  FileRec rx(VG_T_REMOVEXATTR);
  rx.path = "bin/ping";
  rx.base = {"tmp"};
  rx.target = "security.capability";
  REQUIRE(Decode(d, rx, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::removexattr);
  CHECK(e.file.abspath == "/tmp/bin/ping");
  CHECK(e.file.xattr_name == "security.capability");
  CHECK(e.file.target.empty());
  FileRec lrx(VG_T_LREMOVEXATTR);
  lrx.path = "/tmp/lnk";
  lrx.target = "user.y";
  REQUIRE(Decode(d, lrx, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::lremovexattr);
  CHECK(e.file.abspath == "/tmp/lnk");
  CHECK(e.file.xattr_name == "user.y");
  FileRec frx(VG_T_FREMOVEXATTR);
  frx.head.fd = 4;
  frx.head.file_flags = VG_FF_BASE_IS_FILE;
  frx.base = {"f", "tmp"};
  frx.path = "user.z";  // as fsetxattr: the name rides in `path`
  REQUIRE(Decode(d, frx, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::fremovexattr);
  CHECK(e.file.abspath == "/tmp/f");
  CHECK(e.file.fd == 4);
  CHECK(e.file.xattr_name == "user.z");
  CHECK(e.file.path.empty());

  FileRec rd(VG_T_RMDIR);
  rd.path = "/tmp/d";
  REQUIRE(Decode(d, rd, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::rmdir);
  CHECK(e.file.abspath == "/tmp/d");
  CHECK(e.file.xattr_name.empty());

  struct NetRow {
    uint16_t abi;
    EventType type;
  };
  for (const NetRow& row : {NetRow{VG_T_SENDTO, EventType::sendto}, NetRow{VG_T_SENDMSG, EventType::sendmsg},
                            NetRow{VG_T_RECVFROM, EventType::recvfrom}, NetRow{VG_T_RECVMSG, EventType::recvmsg},
                            NetRow{VG_T_SENDMMSG, EventType::sendmmsg}, NetRow{VG_T_RECVMMSG, EventType::recvmmsg}}) {
    auto n = Make<vg_net>(VG_KIND_NET, row.abi);
    n.fd = 4;
    n.size = 512;
    n.sock.family = 2;
    n.sock.type = 2;
    n.sock.rport = 53;
    n.sock.lport = 41000;
    REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
    CHECK(e.type == row.type);
    CHECK(e.net.fd == 4);
    CHECK(e.net.size == 512);
    CHECK(e.net.remote_port == 53);
  }

  auto u = Make<vg_proc>(VG_KIND_PROC, VG_T_USERFAULTFD);
  u.flags = 02000000;  // O_CLOEXEC
  u.fd = 5;
  u.hdr.res = 5;
  REQUIRE(Decode(d, u, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::userfaultfd);
  CHECK(e.args.flags == 02000000);
  CHECK(e.res == 5);
}

// Issue 24 item 2: the means of taking vigil's fds or memory are events with
// their target (self-protection alerts on them).
TEST_CASE("pidfd_getfd and process_vm_readv records", "[unit]") {
  Decoder d;
  Event e;
  auto g = Make<vg_proc>(VG_KIND_PROC, VG_T_PIDFD_GETFD);
  g.fd = 3;
  g.oldfd = 9;
  g.newfd = 4;
  g.target_pid = 812;
  g.hdr.res = 4;
  REQUIRE(Decode(d, g, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::pidfd_getfd);
  CHECK(vigil::EventTypeName(e.type) == "pidfd_getfd");
  CHECK(e.args.fd == 3);
  CHECK(e.args.oldfd == 9);
  CHECK(e.args.newfd == 4);
  CHECK(e.args.target_pid == 812);

  auto r = Make<vg_proc>(VG_KIND_PROC, VG_T_PROCESS_VM_READV);
  r.target_pid = 77;
  r.hdr.res = -1;
  REQUIRE(Decode(d, r, &e) == DecodeStatus::kOk);
  CHECK(e.type == EventType::process_vm_readv);
  CHECK(e.args.target_pid == 77);
  CHECK(e.res == -1);
}

TEST_CASE("interest words: one bit per ABI type across both words", "[unit]") {
  using vigil::capture::InterestWords;
  std::bitset<vigil::kEventTypeCount> none;
  CHECK(InterestWords(none) == std::array<uint64_t, 2>{0, 0});
  struct Row {
    EventType type;
    uint32_t abi;
  };
  // The first type, the last one of word 0, the first of word 1 and the last.
  for (const Row& row : {Row{EventType::execve, VG_T_EXECVE}, Row{EventType::utime, VG_T_UTIME},
                         Row{EventType::setxattr, VG_T_SETXATTR}, Row{EventType::pidfd_getfd, VG_T_PIDFD_GETFD},
                         Row{EventType::userfaultfd, VG_T_USERFAULTFD},
                         Row{EventType::sendto, VG_T_SENDTO}, Row{EventType::fremovexattr, VG_T_FREMOVEXATTR}}) {
    INFO(vigil::EventTypeName(row.type));
    std::bitset<vigil::kEventTypeCount> one;
    one.set(static_cast<std::size_t>(row.type));
    auto w = InterestWords(one);
    std::array<uint64_t, 2> want{};
    want[(row.abi - 1) / 64] = uint64_t{1} << ((row.abi - 1) % 64);
    CHECK(w == want);
  }
  CHECK(VG_T_UTIME == 64);  // the types added after it need the second word
  std::bitset<vigil::kEventTypeCount> all;
  all.set();
  auto w = InterestWords(all);
  CHECK(w[0] == ~uint64_t{0});
  CHECK(w[1] == (uint64_t{1} << (VG_T_MAX - 1 - 64)) - 1);
}

// ABI 15 (issue 18): a data call's record carries the payload's first bytes
// (evt.buffer) after its head, only while the capture copies them.
TEST_CASE("net records: the payload after the head is evt.buffer", "[unit]") {
  Decoder d;
  Event e;
  auto n = Make<vg_net>(VG_KIND_NET, VG_T_RECVFROM);
  n.hdr.res = 6;
  n.size = 1024;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK_FALSE(e.net.data.captured);  // capture off: no data, <NA>

  const unsigned char bytes[] = {0xca, 0xfe, 0xba, 0xbe, 0x00, 0x41};
  std::memcpy(n.data, bytes, sizeof(bytes));
  n.data_len = sizeof(bytes);
  n.data_flags = VG_ND_CAPTURED;
  n.hdr.size = VG_NET_HEAD_SIZE + sizeof(bytes);
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK(e.net.data.captured);
  CHECK_FALSE(e.net.data.cut);
  CHECK(e.net.data.bytes == std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  CHECK(e.net.size == 1024);

  n.data_flags = VG_ND_CAPTURED | VG_ND_CUT;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK(e.net.data.cut);

  // a received datagram of 0 bytes: captured, empty
  n.data_len = 0;
  n.hdr.size = VG_NET_HEAD_SIZE;
  n.data_flags = VG_ND_CAPTURED;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK(e.net.data.captured);
  CHECK(e.net.data.bytes.empty());
  // the caller's buffer could not be read: unknown, not empty
  n.data_flags = VG_ND_CAPTURED | VG_ND_UNREAD;
  REQUIRE(Decode(d, n, &e) == DecodeStatus::kOk);
  CHECK_FALSE(e.net.data.captured);

  // a full record, from an unaligned buffer (copied before it is read)
  std::memset(n.data, 'x', VG_DATA_LEN);
  n.data_len = VG_DATA_LEN;
  n.hdr.size = sizeof(vg_net);
  n.data_flags = VG_ND_CAPTURED | VG_ND_CUT;
  std::vector<unsigned char> buf(sizeof(n) + 1);
  std::memcpy(buf.data() + 1, &n, sizeof(n));
  REQUIRE(d.Decode(buf.data() + 1, sizeof(n), &e) == DecodeStatus::kOk);
  CHECK(e.net.data.bytes == std::string(VG_DATA_LEN, 'x'));
}
