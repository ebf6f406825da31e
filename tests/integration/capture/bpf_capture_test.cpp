// SPDX-License-Identifier: Apache-2.0
// bpf() family on the real kernel: a socket-filter program calling
// bpf_get_prandom_u32 (helper 7) loaded with the raw syscall, a map created,
// a program too long to scan fully, and a raw tracepoint open.
#include <linux/bpf.h>
#include <sys/syscall.h>

#include <cstring>
#include <vector>

#include "bpf/vigil_abi.h"
#include "capture_fixture.h"
#include "tests/support/bpf_insn.h"

using namespace vigil;
using namespace vigil::capture::testing;

namespace {

using vigil::testing::Bpf;
using vigil::testing::Insn;

std::optional<Seen> WaitBpf(int cmd) {
  uint32_t me = static_cast<uint32_t>(getpid());
  return WaitFor([&](const Event& e) { return e.type == EventType::bpf && e.proc.pid == me && e.bpf.cmd == cmd; });
}

}  // namespace

TEST_CASE("BPF_PROG_LOAD: type, name, license, insn count and helper set", "[root]") {
  TheSensor();
  Drain();
  std::vector<bpf_insn> prog = {
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.insns = reinterpret_cast<uint64_t>(prog.data());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  std::strncpy(attr.prog_name, "vg_test_prog", sizeof(attr.prog_name) - 1);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  REQUIRE(fd >= 0);
  auto ev = WaitBpf(BPF_PROG_LOAD);
  REQUIRE(ev);
  const BpfArgs& b = ev->event.bpf;
  CHECK(ev->event.res == fd);
  CHECK(b.prog_type == BPF_PROG_TYPE_SOCKET_FILTER);
  CHECK(b.insn_cnt == 4);
  CHECK(b.prog_name == "vg_test_prog");
  CHECK(b.license == "GPL");
  CHECK(b.HasHelper(7));  // bpf_get_prandom_u32
  CHECK(b.HasHelper(BPF_FUNC_ktime_get_ns));
  CHECK_FALSE(b.HasHelper(BPF_FUNC_map_lookup_elem));
  CHECK(b.helpers_complete);
  CHECK(ev->event.proc.container_id == "host");
  close(static_cast<int>(fd));
}

TEST_CASE("a program longer than the scan bound is flagged incomplete", "[root]") {
  TheSensor();
  Drain();
  std::vector<bpf_insn> prog(VG_INSN_CHUNK * VG_INSN_CHUNKS + 100, Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
  prog[10] = Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32);
  prog.back() = Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.insns = reinterpret_cast<uint64_t>(prog.data());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  auto ev = WaitBpf(BPF_PROG_LOAD);
  REQUIRE(ev);
  CHECK(ev->event.bpf.insn_cnt == prog.size());
  CHECK_FALSE(ev->event.bpf.helpers_complete);
  CHECK(ev->event.bpf.HasHelper(7));  // seen within the scanned part
  if (fd >= 0) close(static_cast<int>(fd));
}

TEST_CASE("BPF_MAP_CREATE: map type and name; raw tracepoint open: name and error", "[root]") {
  TheSensor();
  Drain();
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 1;
  std::strncpy(attr.map_name, "vg_test_map", sizeof(attr.map_name) - 1);
  long fd = Bpf(BPF_MAP_CREATE, &attr);
  REQUIRE(fd >= 0);
  auto ev = WaitBpf(BPF_MAP_CREATE);
  REQUIRE(ev);
  CHECK(ev->event.bpf.map_type == BPF_MAP_TYPE_ARRAY);
  CHECK(ev->event.bpf.map_name == "vg_test_map");
  CHECK(ev->event.res == fd);
  close(static_cast<int>(fd));

  static const char kTp[] = "sched_switch";
  bpf_attr rt{};
  rt.raw_tracepoint.name = reinterpret_cast<uint64_t>(kTp);
  rt.raw_tracepoint.prog_fd = 999999;  // not a program: the call fails
  REQUIRE(Bpf(BPF_RAW_TRACEPOINT_OPEN, &rt) < 0);
  auto r = WaitBpf(BPF_RAW_TRACEPOINT_OPEN);
  REQUIRE(r);
  CHECK(r->event.bpf.target == "sched_switch");
  CHECK(r->event.res < 0);
}

TEST_CASE("map element operations are filtered out in the kernel", "[root]") {
  TheSensor();
  Drain();
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 1;
  long fd = Bpf(BPF_MAP_CREATE, &attr);
  REQUIRE(fd >= 0);
  uint32_t key = 0;
  uint64_t value = 0;
  bpf_attr l{};
  l.map_fd = static_cast<uint32_t>(fd);
  l.key = reinterpret_cast<uint64_t>(&key);
  l.value = reinterpret_cast<uint64_t>(&value);
  REQUIRE(Bpf(BPF_MAP_LOOKUP_ELEM, &l) == 0);
  auto none = WaitFor(
      [&](const Event& e) {
        return e.type == EventType::bpf && e.proc.pid == uint32_t(getpid()) && e.bpf.cmd == BPF_MAP_LOOKUP_ELEM;
      },
      std::chrono::milliseconds(300));
  CHECK_FALSE(none);
  close(static_cast<int>(fd));
}
