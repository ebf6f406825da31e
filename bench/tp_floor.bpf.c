/* SPDX-License-Identifier: GPL-2.0-only */
/* The floor of a sensor built on syscall tracepoints: programs that do
 * nothing, attached where vigil's openat capture attaches (sys_exit_openat)
 * plus one sys_enter tracepoint (with any sys_enter program attached, every
 * syscall's entry goes through the perf tracepoint hook, as under vigil).
 * They return 0, so the kernel stops after the program: no perf sample is
 * written (bpftrace's programs return 1 and pay for that as well). */
#include "../bpf/vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_enter_execve")
int floor_enter(void *ctx) {
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_exit_openat(void *ctx) {
  return 0;
}
