// SPDX-License-Identifier: Apache-2.0
// Layout of every struct crossing the kernel/user boundary (bpf/vigil_abi.h):
// fixed sizes and offsets as the C++ compiler sees them (static_assert), and
// the same members as the BPF compiler laid them out, read back from the BTF
// of both built objects (VIGIL_BPF_OBJECT, the typed build, and
// VIGIL_COMPAT_BPF_OBJECT), so the two compilers must agree.
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>

#include "bpf/vigil_abi.h"

// Sizes: a change here is an ABI change (bump VG_ABI_VERSION).
static_assert(sizeof(vg_hdr) == 184);
static_assert(sizeof(vg_chain) == 4104);
static_assert(sizeof(vg_sock) == 160);
static_assert(sizeof(vg_exec) == 9872 + VG_ENV_LEN);
static_assert(sizeof(vg_stdio) == 16);
static_assert(sizeof(vg_proc) == 688);
static_assert(sizeof(vg_names) == 8);
static_assert(sizeof(vg_file) == 17200);
static_assert(sizeof(vg_net) == 376 + VG_DATA_LEN);
static_assert(sizeof(vg_bpf) == 616);

static_assert(offsetof(vg_hdr, size) == 0);
static_assert(offsetof(vg_hdr, kind) == 4);
static_assert(offsetof(vg_hdr, type) == 6);
static_assert(offsetof(vg_hdr, ts_ns) == 8);
static_assert(offsetof(vg_hdr, res) == 16);
static_assert(offsetof(vg_hdr, pid) == 24);
static_assert(offsetof(vg_hdr, abi_version) == 68);
static_assert(offsetof(vg_hdr, cap_effective) == 72);
static_assert(offsetof(vg_hdr, start_ns) == 88);
static_assert(offsetof(vg_hdr, cgroup_id) == 96);
static_assert(offsetof(vg_hdr, ns_pid) == 104);
static_assert(offsetof(vg_hdr, ns_cgroup) == 152);
static_assert(offsetof(vg_hdr, comm) == 160);
static_assert(offsetof(vg_hdr, tty) == 176);
static_assert(offsetof(vg_chain, comp) == 8);
static_assert(offsetof(vg_exec, flags) == 184);
static_assert(offsetof(vg_exec, old_comm) == 200);
static_assert(offsetof(vg_exec, filename) == 216);
static_assert(offsetof(vg_exec, exe) == 472);
static_assert(offsetof(vg_exec, cwd) == 4576);
static_assert(offsetof(vg_exec, argv) == 8680);
static_assert(offsetof(vg_exec, env_len) == 9704);
static_assert(offsetof(vg_exec, sid) == 9708);
static_assert(offsetof(vg_exec, pgid) == 9712);
static_assert(offsetof(vg_exec, vsid) == 9716);
static_assert(offsetof(vg_exec, vpgid) == 9720);
static_assert(offsetof(vg_exec, stdio) == 9728);
static_assert(offsetof(vg_exec, stdin_name) == 9776);
static_assert(offsetof(vg_exec, exe_ino) == 9840);
static_assert(offsetof(vg_exec, exe_ctime_ns) == 9848);
static_assert(offsetof(vg_exec, exe_mtime_ns) == 9856);
static_assert(offsetof(vg_exec, pidns_start_ns) == 9864);
static_assert(offsetof(vg_exec, env) == 9872);
static_assert(VG_EXEC_HEAD_SIZE == 9872);
static_assert(offsetof(vg_stdio, dev) == 8);
static_assert(offsetof(vg_stdio, type) == 12);
static_assert(offsetof(vg_sock, type) == 8);
static_assert(offsetof(vg_sock, laddr) == 16);
static_assert(offsetof(vg_sock, raddr) == 32);
static_assert(offsetof(vg_sock, unix_path) == 48);
static_assert(offsetof(vg_proc, flags) == 184);
static_assert(offsetof(vg_proc, caps) == 200);
static_assert(offsetof(vg_proc, target_pid) == 232);
static_assert(offsetof(vg_proc, ids) == 248);
static_assert(offsetof(vg_proc, has_sock) == 268);
static_assert(offsetof(vg_proc, sock) == 272);
static_assert(offsetof(vg_proc, name) == 432);
static_assert(offsetof(vg_file, fd) == 184);
static_assert(offsetof(vg_file, length) == 216);
static_assert(offsetof(vg_file, path_len) == 212);
static_assert(offsetof(vg_file, fstype_len) == 214);
static_assert(offsetof(vg_file, atime_sec) == 224);
static_assert(offsetof(vg_file, mtime_sec) == 232);
static_assert(offsetof(vg_file, atime_nsec) == 240);
static_assert(offsetof(vg_file, mtime_nsec) == 244);
static_assert(offsetof(vg_file, target_len) == 248);
static_assert(offsetof(vg_file, base) == 256);
static_assert(offsetof(vg_file, target_base) == 264);
static_assert(offsetof(vg_file, tail) == 272 && VG_FILE_HEAD_SIZE == 272);
static_assert(VG_FILE_TAIL_MAX == 16928);
static_assert(offsetof(vg_names, len) == 4);
static_assert(offsetof(vg_net, fd) == 184);
static_assert(offsetof(vg_net, sock) == 200);
static_assert(offsetof(vg_net, size) == 360);
static_assert(offsetof(vg_net, data_len) == 368);
static_assert(offsetof(vg_net, data_flags) == 372);
static_assert(offsetof(vg_net, data) == 376 && VG_NET_HEAD_SIZE == 376);
static_assert(offsetof(vg_bpf, cmd) == 184);
static_assert(offsetof(vg_bpf, helpers) == 232);
static_assert(offsetof(vg_bpf, prog_name) == 264);
static_assert(offsetof(vg_bpf, license) == 296);
static_assert(offsetof(vg_bpf, target) == 360);
static_assert(sizeof(vg_filter_count) == 16 && offsetof(vg_filter_count, filtered) == 8);
// The open path filter's LPM key: the generation byte right after prefixlen,
// so it is the first data byte the trie compares, and the path 8-aligned
// (bpf/file.bpf.h reads it as words).
static_assert(sizeof(vg_open_key) == 136 && offsetof(vg_open_key, gen) == 4 && offsetof(vg_open_key, cls) == 5 &&
              offsetof(vg_open_key, kind) == 6 && offsetof(vg_open_key, pad) == 7 &&
              offsetof(vg_open_key, path) == 8 &&
              offsetof(vg_open_key, words) == 8);

namespace {

struct Member {
  const char* type;
  const char* member;
  std::size_t offset;  // as g++ lays it out
  std::size_t size;    // of the whole struct
};

#define VG_M(T, m) Member{#T, #m, offsetof(T, m), sizeof(T)}

const Member kMembers[] = {
    VG_M(vg_hdr, size),          VG_M(vg_hdr, kind),          VG_M(vg_hdr, type),
    VG_M(vg_hdr, ts_ns),         VG_M(vg_hdr, res),           VG_M(vg_hdr, pid),
    VG_M(vg_hdr, tid),           VG_M(vg_hdr, ppid),          VG_M(vg_hdr, vpid),
    VG_M(vg_hdr, pidns_level),   VG_M(vg_hdr, uid),           VG_M(vg_hdr, gid),
    VG_M(vg_hdr, euid),          VG_M(vg_hdr, egid),          VG_M(vg_hdr, loginuid),
    VG_M(vg_hdr, flags),         VG_M(vg_hdr, abi_version),   VG_M(vg_hdr, cap_effective),
    VG_M(vg_hdr, cap_permitted), VG_M(vg_hdr, start_ns),      VG_M(vg_hdr, cgroup_id),
    VG_M(vg_hdr, ns_pid),        VG_M(vg_hdr, ns_mnt),        VG_M(vg_hdr, ns_net),
    VG_M(vg_hdr, ns_user),       VG_M(vg_hdr, ns_uts),        VG_M(vg_hdr, ns_ipc),
    VG_M(vg_hdr, ns_cgroup),     VG_M(vg_hdr, comm),          VG_M(vg_hdr, tty),
    VG_M(vg_chain, depth),
    VG_M(vg_chain, flags),       VG_M(vg_chain, comp),        VG_M(vg_exec, hdr),
    VG_M(vg_exec, flags),        VG_M(vg_exec, argv_len),     VG_M(vg_exec, dirfd),
    VG_M(vg_exec, at_flags),     VG_M(vg_exec, old_comm),     VG_M(vg_exec, filename),
    VG_M(vg_exec, exe),          VG_M(vg_exec, cwd),          VG_M(vg_exec, argv),
    VG_M(vg_exec, env_len),      VG_M(vg_exec, sid),          VG_M(vg_exec, pgid),
    VG_M(vg_exec, vsid),         VG_M(vg_exec, vpgid),        VG_M(vg_exec, stdio),
    VG_M(vg_exec, stdin_name),   VG_M(vg_exec, exe_ino),      VG_M(vg_exec, exe_ctime_ns),
    VG_M(vg_exec, exe_mtime_ns), VG_M(vg_exec, pidns_start_ns), VG_M(vg_exec, env),   VG_M(vg_stdio, ino),
    VG_M(vg_stdio, dev),         VG_M(vg_stdio, type),
    VG_M(vg_sock, family),       VG_M(vg_sock, lport),        VG_M(vg_sock, rport),
    VG_M(vg_sock, unix_len),     VG_M(vg_sock, type),         VG_M(vg_sock, protocol),
    VG_M(vg_sock, laddr),        VG_M(vg_sock, raddr),        VG_M(vg_sock, unix_path),
    VG_M(vg_proc, flags),        VG_M(vg_proc, request),      VG_M(vg_proc, caps),
    VG_M(vg_proc, child_start_ns), VG_M(vg_proc, target_pid), VG_M(vg_proc, fd),
    VG_M(vg_proc, oldfd),        VG_M(vg_proc, newfd),        VG_M(vg_proc, ids),
    VG_M(vg_proc, exit_code),    VG_M(vg_proc, exit_signal),  VG_M(vg_proc, has_sock),
    VG_M(vg_proc, sock),         VG_M(vg_proc, name),         VG_M(vg_file, fd),
    VG_M(vg_file, fd2),          VG_M(vg_file, flags),        VG_M(vg_file, mode),
    VG_M(vg_file, owner_uid),    VG_M(vg_file, owner_gid),    VG_M(vg_file, file_flags),
    VG_M(vg_file, path_len),     VG_M(vg_file, fstype_len),   VG_M(vg_file, length),
    VG_M(vg_file, atime_sec),    VG_M(vg_file, mtime_sec),    VG_M(vg_file, atime_nsec),
    VG_M(vg_file, mtime_nsec),
    VG_M(vg_file, target_len),   VG_M(vg_file, base),         VG_M(vg_file, target_base),
    VG_M(vg_file, tail),         VG_M(vg_names, depth),       VG_M(vg_names, flags),
    VG_M(vg_names, len),
    VG_M(vg_net, fd),            VG_M(vg_net, backlog),       VG_M(vg_net, sockopt_level),
    VG_M(vg_net, sockopt_name),  VG_M(vg_net, sock),          VG_M(vg_net, size),          VG_M(vg_net, data_len),
    VG_M(vg_net, data_flags),    VG_M(vg_net, data),          VG_M(vg_bpf, cmd),
    VG_M(vg_bpf, prog_type),     VG_M(vg_bpf, expected_attach_type), VG_M(vg_bpf, attach_type),
    VG_M(vg_bpf, insn_cnt),      VG_M(vg_bpf, prog_flags),    VG_M(vg_bpf, attach_btf_id),
    VG_M(vg_bpf, map_type),      VG_M(vg_bpf, id),            VG_M(vg_bpf, target_fd),
    VG_M(vg_bpf, flags),         VG_M(vg_bpf, helpers),       VG_M(vg_bpf, prog_name),
    VG_M(vg_bpf, map_name),      VG_M(vg_bpf, license),       VG_M(vg_bpf, target),
};

}  // namespace

TEST_CASE("both BPF builds lay out every ABI struct as the C++ compiler does", "[unit]") {
  const char* object = GENERATE(VIGIL_BPF_OBJECT, VIGIL_COMPAT_BPF_OBJECT);
  INFO(object);
  btf* b = btf__parse_elf(object, nullptr);
  REQUIRE(b != nullptr);
  for (const Member& m : kMembers) {
    INFO(m.type << "." << m.member);
    int id = btf__find_by_name_kind(b, m.type, BTF_KIND_STRUCT);
    REQUIRE(id > 0);
    const btf_type* t = btf__type_by_id(b, id);
    CHECK(t->size == m.size);
    const btf_member* mem = btf_members(t);
    bool found = false;
    for (int i = 0; i < btf_vlen(t); ++i) {
      if (std::string(btf__name_by_offset(b, mem[i].name_off)) == m.member) {
        found = true;
        CHECK(btf_member_bit_offset(t, static_cast<__u32>(i)) == m.offset * 8);
      }
    }
    CHECK(found);
  }
  btf__free(b);
}

TEST_CASE("every ABI struct member is covered by the layout table", "[unit]") {
  // Counting BTF members per struct against the table catches a field added
  // to vigil_abi.h but not here.
  btf* b = btf__parse_elf(VIGIL_BPF_OBJECT, nullptr);
  REQUIRE(b != nullptr);
  for (const char* type : {"vg_hdr", "vg_chain", "vg_names", "vg_exec", "vg_sock", "vg_proc", "vg_file", "vg_net", "vg_bpf"}) {
    INFO(type);
    int id = btf__find_by_name_kind(b, type, BTF_KIND_STRUCT);
    REQUIRE(id > 0);
    const btf_type* t = btf__type_by_id(b, id);
    int listed = 0;
    for (const Member& m : kMembers) listed += std::string(m.type) == type;
    int pads = 0;
    const btf_member* mem = btf_members(t);
    for (int i = 0; i < btf_vlen(t); ++i) {
      std::string name = btf__name_by_offset(b, mem[i].name_off);
      if (name.rfind("pad", 0) == 0) ++pads;
    }
    // vg_exec..vg_bpf: `hdr` is listed only for vg_exec
    int hdr = std::string(type) != "vg_exec" && std::string(type).rfind("vg_", 0) == 0 &&
                      std::string(type) != "vg_hdr" && std::string(type) != "vg_chain" && std::string(type) != "vg_sock" &&
                      std::string(type) != "vg_names"
                  ? 1
                  : 0;
    CHECK(listed + pads + hdr == btf_vlen(t));
  }
  btf__free(b);
}
