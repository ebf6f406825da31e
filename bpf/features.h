/* SPDX-License-Identifier: Apache-2.0 */
// Kernel feature probes: what this kernel offers the sensor, decided before
// the BPF object is loaded, so programs for missing hooks are switched off
// (bpf_program__set_autoload(false)) and reported by name instead of failing
// the whole load.
//
// Contract:
// - Start-up only (file I/O, test program loads). Never throws.
// - Needs root for the program-load probes; without it those report false and
//   `is_root` says why.
// - ProbeFeatures() mounts tracefs (and securityfs) when they are not mounted
//   and it is root, because libbpf attaches tracepoints by their tracefs id.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::capture {

// 32-bit (ia32, `int 0x80`) syscalls. The kernel does not fire the
// syscalls/ tracepoints for them, so what a process does through them is not
// captured (exec, fork and exit are: they come from sched tracepoints).
enum class Ia32Syscalls {
  kUnknown,
  kOn,   // this kernel runs them: a blind spot
  kOff,  // refused (ia32_emulation=0, or not built in)
};
std::string_view Ia32SyscallsName(Ia32Syscalls s);

struct Features {
  bool is_root = false;
  bool btf = false;            // /sys/kernel/btf/vmlinux
  bool bpf_lsm = false;        // "bpf" in /sys/kernel/security/lsm and an LSM program loads
  std::string bpf_lsm_note;    // why bpf_lsm is false
  bool tp_btf = false;         // BTF-typed raw tracepoints load
  bool ringbuf = false;        // BPF_MAP_TYPE_RINGBUF
  bool bpf_loop = false;       // bpf_loop helper (dentry walks, insn scan)
  bool cgroup_sock_addr = false;  // cgroup connect4/6 hooks
  bool send_signal = false;    // bpf_send_signal from tracepoints
  bool rdonly_cast = false;    // bpf_rdonly_cast kfunc from tracepoints (6.2+): the typed BPF build
  std::string rdonly_cast_note;  // why rdonly_cast is false
  Ia32Syscalls ia32 = Ia32Syscalls::kUnknown;
  std::string ia32_note;       // how `ia32` was found
  std::string tracefs;         // mount point of tracefs ("" = none)
  std::string lsm_list;        // contents of /sys/kernel/security/lsm
  std::string kernel_release;  // uname -r
  unsigned thread_size = 16384;  // the kernel stack's size (x86-64 THREAD_SIZE: 32 KiB with CONFIG_KASAN)
};

Features ProbeFeatures();

// How the ia32 state was decided, exposed for tests. ProbeIa32Syscalls()
// makes a 32-bit getpid through `int 0x80` in a child; when this process may
// not (a seccomp filter that allows only native calls, as systemd's
// SystemCallArchitectures=native installs), Ia32FromConfig() decides from the
// kernel command line (ia32_emulation=) and the kernel's build config.
Ia32Syscalls ProbeIa32Syscalls(std::string* note);
Ia32Syscalls Ia32FromConfig(std::string_view cmdline, std::string_view config, std::string* note);

// True when tracepoint `category/name` exists under `tracefs`.
bool TracepointExists(const std::string& tracefs, std::string_view category, std::string_view name);

// True when vmlinux BTF has the tp_btf hook `name` (typedef btf_trace_<name>).
bool BtfTracepointExists(std::string_view name);

}  // namespace vigil::capture
