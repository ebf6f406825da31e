// SPDX-License-Identifier: Apache-2.0
// The shared event and alert contracts: names, reuse, priorities, uuids.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <regex>
#include <set>
#include <tuple>

#include "engine/alert.h"
#include "engine/event.h"
#include "engine/state/container_meta.h"

using vigil::Event;
using vigil::EventType;

TEST_CASE("event type names round-trip", "[unit]") {
  for (std::size_t i = 0; i < vigil::kEventTypeCount; ++i) {
    auto type = static_cast<EventType>(i);
    EventType back{};
    REQUIRE(vigil::EventTypeFromName(vigil::EventTypeName(type), &back));
    CHECK(back == type);
  }
  EventType t{};
  CHECK_FALSE(vigil::EventTypeFromName("no_such_syscall", &t));
  CHECK(vigil::EventTypeName(EventType::procexit) == "procexit");
  CHECK(vigil::EventTypeName(EventType::openat) == "openat");
}

TEST_CASE("Event::Reset clears fields and keeps capacity", "[unit]") {
  Event e;
  e.type = EventType::connect;
  e.res = -13;
  e.proc.pid = 42;
  e.proc.exepath.assign(200, 'x');
  e.proc.argv = {"a", "b"};
  e.file.path.assign(300, 'p');
  e.net.remote_port = 443;
  e.bpf.AddHelper(36);
  e.args.target_pid = 7;
  e.enforcement = "kill";
  e.compat = e.compat_from_64bit = true;
  const auto exe_cap = e.proc.exepath.capacity();
  const auto path_cap = e.file.path.capacity();

  e.Reset();
  CHECK(e.type == EventType::execve);
  CHECK(e.res == 0);
  CHECK(e.proc.pid == 0);
  CHECK(e.proc.exepath.empty());
  CHECK(e.proc.argv.empty());
  CHECK(e.proc.loginuid == vigil::kNoLoginUid);
  CHECK(e.file.path.empty());
  CHECK(e.net.remote_port == 0);
  CHECK_FALSE(e.bpf.HasHelper(36));
  CHECK(e.args.target_pid == 0);
  CHECK(e.enforcement.empty());
  CHECK_FALSE(e.compat);
  CHECK_FALSE(e.compat_from_64bit);
  CHECK(e.proc.exepath.capacity() == exe_cap);
  CHECK(e.file.path.capacity() == path_cap);
}

// Event::Reset clears member by member (engine/event.cpp). A member added to
// one of these structs changes its size and stops this file from compiling
// until it is cleared there, set below and compared below.
static_assert(sizeof(vigil::ProcessInfo) == 496, "ProcessInfo changed: update ResetProcess and this test");
static_assert(sizeof(vigil::FileArgs) == 304, "FileArgs changed: update ResetFile and this test");
static_assert(sizeof(vigil::NetArgs) == 152, "NetArgs changed: update ResetNet and this test");
static_assert(sizeof(vigil::BpfArgs) == 208, "BpfArgs changed: update ResetBpf and this test");
static_assert(sizeof(vigil::ProcArgs) == 112, "ProcArgs changed: update ResetArgs and this test");
static_assert(sizeof(vigil::Event) == 1368, "Event changed: update Event::Reset and this test");

TEST_CASE("Event::Reset returns every member to its default", "[unit]") {
  vigil::OwnedAncestors anc;
  Event e;
  e.type = EventType::bpf;
  e.ts_ns = e.wall_ns = 5;
  e.res = -1;
  auto& p = e.proc;
  p.pid = p.tid = p.ppid = p.vpid = p.pidns_level = 9;
  p.uid = p.gid = p.euid = p.egid = p.loginuid = 9;
  p.cap_effective = p.cap_permitted = p.start_ns = p.exec_ns = 9;
  p.name = p.exepath = p.cwd = p.cgroup = p.container_id = "x";
  p.argv = {"a"};
  p.argv_truncated = true;
  p.env = std::make_shared<const std::string>("A=1");
  p.env_truncated = true;
  p.exe_32bit = true;
  p.cgroup_id = 9;
  p.ns = {1, 2, 3, 4, 5, 6, 7};
  p.tty = 9;
  p.sid = p.pgid = p.vsid = p.vpgid = 9;
  p.session_known = true;
  p.stdio[0] = {vigil::StdioType::kPipe, 13, 99};
  p.stdio[2] = {vigil::StdioType::kFile, 8, 7};
  p.stdin_name = "passwd";
  p.exe_ino = 9;
  p.exe_ctime_ns = p.exe_mtime_ns = 9;
  p.exe_layer = vigil::ExeLayer::kUpper;
  p.pidns_start_ns = 9;
  e.ancestors = &anc;
  e.container = std::make_shared<vigil::ContainerMeta>();
  auto& f = e.file;
  f.fd = 3;
  f.path = f.abspath = f.resolved = f.target = f.target_abs = f.fstype = f.source = f.xattr_name = "y";
  f.flags = f.mode = f.owner_uid = f.owner_gid = 1;
  f.length = 1;
  f.atime = f.mtime = 1;
  auto& n = e.net;
  n.fd = 3;
  n.family = 2;
  n.type = n.protocol = 1;
  n.local_addr.bytes[0] = n.remote_addr.bytes[15] = 1;
  n.local_port = n.remote_port = 1;
  n.unix_path = "z";
  n.backlog = n.sockopt_level = n.sockopt_name = 1;
  n.size = 1;
  n.data = {"\xca\xfe", true, true};
  auto& b = e.bpf;
  b.cmd = 5;
  b.prog_type = b.expected_attach_type = b.attach_type = b.insn_cnt = b.prog_flags = b.attach_btf_id = 1;
  b.prog_name = b.license = b.map_name = b.target = "w";
  b.AddHelper(200);
  b.helpers_complete = true;
  b.map_type = b.id = 1;
  b.target_fd = 4;
  auto& a = e.args;
  a.flags = 1;
  a.target_pid = 1;
  a.request = 1;
  a.fd = a.oldfd = a.newfd = 1;
  a.ids[0] = a.ids[1] = a.ids[2] = 1;
  a.caps[0] = a.caps[1] = a.caps[2] = 1;
  a.name = "v";
  a.exit_code = a.exit_signal = 1;
  e.enforcement = "deny";

  e.Reset();
  const Event d;
  CHECK(e.type == d.type);
  CHECK(e.ts_ns == d.ts_ns);
  CHECK(e.wall_ns == d.wall_ns);
  CHECK(e.res == d.res);
  CHECK(e.ancestors == nullptr);
  CHECK(e.container == nullptr);
  CHECK(e.enforcement == d.enforcement);
  const auto &q = d.proc;
  CHECK(std::tie(p.pid, p.tid, p.ppid, p.vpid, p.pidns_level, p.uid, p.gid, p.euid, p.egid, p.loginuid) ==
        std::tie(q.pid, q.tid, q.ppid, q.vpid, q.pidns_level, q.uid, q.gid, q.euid, q.egid, q.loginuid));
  CHECK(std::tie(p.cap_effective, p.cap_permitted, p.start_ns, p.exec_ns, p.cgroup_id, p.tty, p.argv_truncated,
                 p.exe_32bit) ==
        std::tie(q.cap_effective, q.cap_permitted, q.start_ns, q.exec_ns, q.cgroup_id, q.tty, q.argv_truncated,
                 q.exe_32bit));
  CHECK(std::tie(p.sid, p.pgid, p.vsid, p.vpgid, p.session_known) ==
        std::tie(q.sid, q.pgid, q.vsid, q.vpgid, q.session_known));
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(std::tie(p.stdio[i].type, p.stdio[i].dev, p.stdio[i].ino) ==
          std::tie(q.stdio[i].type, q.stdio[i].dev, q.stdio[i].ino));
  CHECK(p.stdin_name.empty());
  CHECK(p.exe_ino == 0);
  CHECK(p.exe_ctime_ns == 0);
  CHECK(p.exe_mtime_ns == 0);
  CHECK(p.exe_layer == vigil::ExeLayer::kUnknown);
  CHECK(p.pidns_start_ns == 0);
  CHECK(p.env == nullptr);
  CHECK_FALSE(p.env_truncated);
  CHECK(std::tie(p.name, p.exepath, p.cwd, p.cgroup, p.container_id, p.argv) ==
        std::tie(q.name, q.exepath, q.cwd, q.cgroup, q.container_id, q.argv));
  CHECK(std::tie(p.ns.pid, p.ns.mnt, p.ns.net, p.ns.user, p.ns.uts, p.ns.ipc, p.ns.cgroup) ==
        std::tie(q.ns.pid, q.ns.mnt, q.ns.net, q.ns.user, q.ns.uts, q.ns.ipc, q.ns.cgroup));
  const auto& g = d.file;
  CHECK(std::tie(f.fd, f.path, f.abspath, f.resolved, f.target, f.target_abs, f.flags, f.mode, f.owner_uid, f.owner_gid,
                 f.fstype, f.source, f.length, f.xattr_name, f.atime, f.mtime) ==
        std::tie(g.fd, g.path, g.abspath, g.resolved, g.target, g.target_abs, g.flags, g.mode, g.owner_uid, g.owner_gid, g.fstype,
                 g.source, g.length, g.xattr_name, g.atime, g.mtime));
  const auto& m = d.net;
  CHECK(std::tie(n.fd, n.family, n.type, n.protocol, n.local_addr.bytes, n.local_port, n.remote_addr.bytes,
                 n.remote_port, n.unix_path, n.backlog, n.sockopt_level, n.sockopt_name, n.size) ==
        std::tie(m.fd, m.family, m.type, m.protocol, m.local_addr.bytes, m.local_port, m.remote_addr.bytes,
                 m.remote_port, m.unix_path, m.backlog, m.sockopt_level, m.sockopt_name, m.size));
  CHECK(n.data == m.data);
  const auto& c = d.bpf;
  CHECK(std::tie(b.cmd, b.prog_type, b.expected_attach_type, b.attach_type, b.insn_cnt, b.prog_flags,
                 b.attach_btf_id, b.prog_name, b.license, b.helpers, b.helpers_complete, b.map_type, b.map_name,
                 b.id, b.target_fd, b.target) ==
        std::tie(c.cmd, c.prog_type, c.expected_attach_type, c.attach_type, c.insn_cnt, c.prog_flags,
                 c.attach_btf_id, c.prog_name, c.license, c.helpers, c.helpers_complete, c.map_type, c.map_name,
                 c.id, c.target_fd, c.target));
  const auto& r = d.args;
  CHECK(std::tie(a.flags, a.target_pid, a.request, a.fd, a.oldfd, a.newfd, a.name, a.exit_code, a.exit_signal) ==
        std::tie(r.flags, r.target_pid, r.request, r.fd, r.oldfd, r.newfd, r.name, r.exit_code, r.exit_signal));
  CHECK(std::equal(std::begin(a.ids), std::end(a.ids), std::begin(r.ids)));
  CHECK(std::equal(std::begin(a.caps), std::end(a.caps), std::begin(r.caps)));
}

TEST_CASE("bpf helper set", "[unit]") {
  vigil::BpfArgs b;
  for (uint32_t id : {0u, 36u, 63u, 64u, 109u, 255u}) b.AddHelper(id);
  b.AddHelper(256);  // out of range: ignored
  for (uint32_t id : {0u, 36u, 63u, 64u, 109u, 255u}) CHECK(b.HasHelper(id));
  CHECK_FALSE(b.HasHelper(58));
  CHECK_FALSE(b.HasHelper(256));
}

TEST_CASE("priorities parse Falco's names", "[unit]") {
  struct Case {
    const char* text;
    bool ok;
    vigil::Priority want;
  };
  const Case cases[] = {
      {"Emergency", true, vigil::Priority::kEmergency}, {"CRITICAL", true, vigil::Priority::kCritical},
      {"warning", true, vigil::Priority::kWarning},     {"Informational", true, vigil::Priority::kInformational},
      {"info", true, vigil::Priority::kInformational},  {"debug", true, vigil::Priority::kDebug},
      {"severe", false, vigil::Priority::kDebug},       {"", false, vigil::Priority::kDebug},
  };
  for (const auto& c : cases) {
    vigil::Priority p = vigil::Priority::kDebug;
    INFO(c.text);
    CHECK(vigil::ParsePriority(c.text, &p) == c.ok);
    if (c.ok) CHECK(p == c.want);
  }
  CHECK(vigil::PriorityName(vigil::Priority::kNotice) == "Notice");
}

TEST_CASE("uuids are v4 and distinct", "[unit]") {
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto u = vigil::NewUuid();
    REQUIRE(std::regex_match(u, v4));
    seen.insert(u);
  }
  CHECK(seen.size() == 1000);
}
