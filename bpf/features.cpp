#include "bpf/features.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::capture {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string FindTracefs(bool may_mount) {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    if (Exists(std::string(dir) + "/events")) return dir;
  }
  if (may_mount && mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 &&
      Exists("/sys/kernel/tracing/events"))
    return "/sys/kernel/tracing";
  return {};
}

std::string ReadLsmList(bool may_mount) {
  const char* kLsm = "/sys/kernel/security/lsm";
  if (!Exists(kLsm) && may_mount) mount("securityfs", "/sys/kernel/security", "securityfs", 0, nullptr);
  std::ifstream in(kLsm);
  std::string s;
  std::getline(in, s);
  return s;
}

// Loads a tracepoint program that calls the bpf_rdonly_cast kfunc (cast of
// NULL to task_struct): the kfunc is in this kernel's BTF and the verifier
// lets a tracepoint program call it. When not, *why says which.
bool ProbeRdonlyCast(std::string* why) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    *why = "no vmlinux BTF";
    return false;
  }
  int func = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC);
  int task = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
  btf__free(vmlinux);
  if (func <= 0) {
    *why = "bpf_rdonly_cast is not in this kernel's BTF";
    return false;
  }
  if (task <= 0) {
    *why = "task_struct not in BTF";
    return false;
  }
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, task},
      {BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, func},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "vg_probe", "GPL", insns, 5, nullptr);
  if (fd < 0) {
    *why = std::string("a tracepoint program calling it was refused: ") + std::strerror(errno);
    return false;
  }
  close(fd);
  return true;
}

// Loads "r0 = 0; exit" as a tp_btf program on sched_process_fork.
bool ProbeTpBtf() {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_fork", BTF_KIND_TYPEDEF);
  btf__free(vmlinux);
  if (id <= 0) return false;
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = static_cast<__u32>(id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "vg_probe", "GPL", insns, 2, &opts);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// Loads "r0 = 0; exit" as a BPF LSM program on file_open: "bpf" in the LSM
// list is not enough (a kernel may list it and still refuse the load, e.g.
// without CONFIG_BPF_LSM's trampolines).
bool ProbeLsmLoad(std::string* why) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    *why = "no vmlinux BTF";
    return false;
  }
  int id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id <= 0) {
    *why = "bpf_lsm_file_open not in BTF";
    return false;
  }
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC,
              .attach_btf_id = static_cast<__u32>(id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_LSM, "vg_lsm_probe", "GPL", insns, 2, &opts);
  if (fd < 0) {
    *why = std::string("LSM program load refused: ") + strerror(errno);
    return false;
  }
  close(fd);
  return true;
}

}  // namespace

bool TracepointExists(const std::string& tracefs, std::string_view category, std::string_view name) {
  if (tracefs.empty()) return false;
  std::string p = tracefs + "/events/";
  p.append(category);
  p.push_back('/');
  p.append(name);
  return Exists(p);
}

bool BtfTracepointExists(std::string_view name) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  std::string t = "btf_trace_" + std::string(name);
  int id = btf__find_by_name_kind(vmlinux, t.c_str(), BTF_KIND_TYPEDEF);
  btf__free(vmlinux);
  return id > 0;
}

Features ProbeFeatures() {
  Features f;
  f.is_root = geteuid() == 0;
  struct utsname u;
  if (uname(&u) == 0) f.kernel_release = u.release;
  f.btf = Exists("/sys/kernel/btf/vmlinux");
  f.tracefs = FindTracefs(f.is_root);
  f.lsm_list = ReadLsmList(f.is_root);
  bool listed = false;
  std::stringstream ss(f.lsm_list);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item == "bpf") listed = true;
  }
  if (!listed) f.bpf_lsm_note = "bpf not in the active LSM list";
  if (!f.is_root) return f;  // the load probes below need privileges
  f.bpf_lsm = listed && f.btf && ProbeLsmLoad(&f.bpf_lsm_note);
  f.ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
  f.bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nullptr) == 1;
  f.send_signal = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_send_signal, nullptr) == 1;
  f.rdonly_cast = ProbeRdonlyCast(&f.rdonly_cast_note);
  f.cgroup_sock_addr = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr) == 1;
  f.tp_btf = f.btf && ProbeTpBtf();
  return f;
}

}  // namespace vigil::capture
