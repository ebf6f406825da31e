// SPDX-License-Identifier: Apache-2.0
#include "bpf/features.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <zlib.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
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

// The kernel's build config: /boot/config-<release> (Debian, Fedora), else
// /proc/config.gz (CONFIG_IKCONFIG_PROC). "" when neither is readable.
std::string ReadKernelConfig(const std::string& release, std::string* from) {
  std::ifstream in("/boot/config-" + release);
  if (in) {
    *from = "/boot/config-" + release;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  gzFile gz = gzopen("/proc/config.gz", "rb");
  if (!gz) return {};
  std::string text;
  char buf[16384];
  for (int n; (n = gzread(gz, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  *from = "/proc/config.gz";
  return text;
}

bool HasLine(std::string_view text, std::string_view line) {
  for (std::size_t at = 0; (at = text.find(line, at)) != std::string_view::npos; at += line.size()) {
    bool starts = at == 0 || text[at - 1] == '\n';
    bool ends = at + line.size() == text.size() || text[at + line.size()] == '\n';
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

std::string_view Ia32SyscallsName(Ia32Syscalls s) {
  switch (s) {
    case Ia32Syscalls::kOn: return "yes";
    case Ia32Syscalls::kOff: return "no";
    case Ia32Syscalls::kUnknown: break;
  }
  return "unknown";
}

Ia32Syscalls Ia32FromConfig(std::string_view cmdline, std::string_view config, std::string* note) {
  // ia32_emulation= on the command line (Linux 6.7+) overrides the built-in
  // default; the last one given counts, as for the kernel.
  int from_cmdline = -1;  // -1 none, 0 off, 1 on
  std::string given;
  for (std::size_t at = 0; (at = cmdline.find("ia32_emulation=", at)) != std::string_view::npos; ++at) {
    if (at > 0 && cmdline[at - 1] != ' ') continue;
    std::string_view v = cmdline.substr(at + 15);
    v = v.substr(0, v.find_first_of(" \n"));
    if (v == "0" || v == "false" || v == "off" || v == "n" || v == "no") from_cmdline = 0;
    else if (v == "1" || v == "true" || v == "on" || v == "y" || v == "yes") from_cmdline = 1;
    else continue;
    given = v;
  }
  if (from_cmdline >= 0) {
    *note = "ia32_emulation=" + given + " on the kernel command line";
    return from_cmdline ? Ia32Syscalls::kOn : Ia32Syscalls::kOff;
  }
  if (config.empty()) {
    *note = "the kernel's build config is not readable";
    return Ia32Syscalls::kUnknown;
  }
  if (!HasLine(config, "CONFIG_IA32_EMULATION=y")) {
    *note = "CONFIG_IA32_EMULATION is not set";
    return Ia32Syscalls::kOff;
  }
  if (HasLine(config, "CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y")) {
    *note = "CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y";
    return Ia32Syscalls::kOff;
  }
  *note = "CONFIG_IA32_EMULATION=y, enabled by default";
  return Ia32Syscalls::kOn;
}

Ia32Syscalls ProbeIa32Syscalls(std::string* note) {
#if defined(__x86_64__)
  pid_t pid = fork();
  if (pid < 0) {
    *note = std::string("fork: ") + std::strerror(errno);
    return Ia32Syscalls::kUnknown;
  }
  if (pid == 0) {
    // A refused int 0x80 is a SIGSEGV; handlers inherited from the parent
    // (ASan's, a test framework's) would turn it into an exit status.
    signal(SIGSEGV, SIG_DFL);
    // ia32 getpid is 20; the 32-bit entry clobbers r8-r11.
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
    if (r == static_cast<long>(syscall(SYS_getpid))) _exit(0);
    _exit(r == -EPERM || r == -EACCES ? 2 : 3);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    *note = "a 32-bit getpid through int 0x80 ran";
    return Ia32Syscalls::kOn;
  }
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
    *note = "int 0x80 raised SIGSEGV: ia32 emulation is off or not built in";
    return Ia32Syscalls::kOff;
  }
  std::string why;
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) why = "killed by SIGSYS";
  else if (WIFEXITED(st) && WEXITSTATUS(st) == 2) why = "refused with EPERM";
  else if (WIFSIGNALED(st)) why = std::string("killed by signal ") + std::to_string(WTERMSIG(st));
  else why = "returned an unexpected value";
  // This process may not make 32-bit calls (a seccomp filter): decide from
  // the kernel's configuration instead.
  struct utsname u {};
  uname(&u);
  std::string from;
  std::string config = ReadKernelConfig(u.release, &from);
  std::ifstream cl("/proc/cmdline");
  std::string cmdline;
  std::getline(cl, cmdline);
  std::string decided;
  Ia32Syscalls s = Ia32FromConfig(cmdline, config, &decided);
  *note = "this process may not test it (int 0x80 " + why + ", e.g. a seccomp filter for native calls only); " +
          decided + (from.empty() || decided.find("CONFIG_") == std::string::npos ? "" : " (" + from + ")");
  return s;
#else
  *note = "not an x86-64 kernel";
  return Ia32Syscalls::kUnknown;
#endif
}

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
  f.ia32 = ProbeIa32Syscalls(&f.ia32_note);
  if (!f.is_root) return f;  // the load probes below need privileges
  f.bpf_lsm = listed && f.btf && ProbeLsmLoad(&f.bpf_lsm_note);
  f.ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
  f.bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nullptr) == 1;
  f.send_signal = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_send_signal, nullptr) == 1;
  f.rdonly_cast = ProbeRdonlyCast(&f.rdonly_cast_note);
  f.cgroup_sock_addr = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr) == 1;
  f.tp_btf = f.btf && ProbeTpBtf();
  // KASAN doubles x86-64's kernel stack (KASAN_STACK_ORDER); the legacy BPF
  // build finds a syscall's saved registers at the stack's top.
  std::string from;
  if (HasLine(ReadKernelConfig(f.kernel_release, &from), "CONFIG_KASAN=y")) f.thread_size = 32768;
  return f;
}

}  // namespace vigil::capture
