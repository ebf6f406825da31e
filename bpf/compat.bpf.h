/* SPDX-License-Identifier: GPL-2.0-only */
/* 32-bit syscalls on x86-64 (ia32 compat: int 0x80, sysenter, a 32-bit
 * `syscall`): the syscalls/ tracepoints never fire for them (the syscall
 * tracer maps a compat call to no event), so neither do the programs of the
 * other families. An i386 program makes every call this way, and a 64-bit
 * program can make any call this way to pass unseen by syscall-tracepoint
 * sensors.
 *
 * Two programs on the raw syscall tracepoints, which every call passes
 * through. Each returns at once unless the current task is in a compat call
 * (thread_info.status & TS_COMPAT, set by the ia32 entry and cleared on the
 * way back to user mode): for a task that never makes a 32-bit call that
 * load and test is their whole cost. A compat call's number is the ia32 one
 * (arch/x86/entry/syscalls/syscall_32.tbl); its arguments are in ebx, ecx,
 * edx, esi, edi, ebp, zero-extended here, and the same family handlers as
 * the 64-bit calls build the records (vg_fill_hdr marks them VG_HF_COMPAT).
 *
 * Captured: execve/execveat, open/openat/openat2/creat, unlink/unlinkat,
 * socket/connect/bind/listen/accept4 (direct and through socketcall),
 * ptrace, process_vm_readv/writev, pidfd_getfd, setuid/setgid/setreuid/setregid/setresuid/setresgid/setfsuid/
 * setfsgid (the 16-bit ones and the *32 ones), init_module/finit_module,
 * memfd_create, unshare, setns, bpf. Forks and exits are seen without them
 * (sched tracepoints). */
#pragma once

#include "common.bpf.h"
#include "process.bpf.h"
#include "file.bpf.h"
#include "net.bpf.h"
#include "bpf.bpf.h"
#include "escape.bpf.h"

/* ia32 syscall numbers */
#define VG_NR32_OPEN 5
#define VG_NR32_CREAT 8
#define VG_NR32_UNLINK 10
#define VG_NR32_EXECVE 11
#define VG_NR32_SETUID16 23
#define VG_NR32_PTRACE 26
#define VG_NR32_SETGID16 46
#define VG_NR32_SETREUID16 70
#define VG_NR32_SETREGID16 71
#define VG_NR32_SOCKETCALL 102
#define VG_NR32_INIT_MODULE 128
#define VG_NR32_SETFSUID16 138
#define VG_NR32_SETFSGID16 139
#define VG_NR32_SETRESUID16 164
#define VG_NR32_SETRESGID16 170
#define VG_NR32_SETREUID 203
#define VG_NR32_SETREGID 204
#define VG_NR32_SETRESUID 208
#define VG_NR32_SETRESGID 210
#define VG_NR32_SETUID 213
#define VG_NR32_SETGID 214
#define VG_NR32_SETFSUID 215
#define VG_NR32_SETFSGID 216
#define VG_NR32_OPENAT 295
#define VG_NR32_UNLINKAT 301
#define VG_NR32_UNSHARE 310
#define VG_NR32_SETNS 346
#define VG_NR32_FINIT_MODULE 350
#define VG_NR32_PROCESS_VM_READV 347
#define VG_NR32_PROCESS_VM_WRITEV 348
#define VG_NR32_MEMFD_CREATE 356
#define VG_NR32_BPF 357
#define VG_NR32_EXECVEAT 358
#define VG_NR32_SOCKET 359
#define VG_NR32_BIND 361
#define VG_NR32_CONNECT 362
#define VG_NR32_LISTEN 363
#define VG_NR32_ACCEPT4 364
#define VG_NR32_OPENAT2 437
#define VG_NR32_PIDFD_GETFD 438

/* socketcall(call, args): the call numbers (linux/net.h) */
#define VG_SYS_SOCKET 1
#define VG_SYS_BIND 2
#define VG_SYS_CONNECT 3
#define VG_SYS_LISTEN 4
#define VG_SYS_ACCEPT 5
#define VG_SYS_ACCEPT4 18

/* The call's six arguments from the ia32 registers. */
static __always_inline void vg_compat_args(struct vg_args *a, struct pt_regs *regs) {
  a->type = 0;
  a->pad[0] = a->pad[1] = a->pad[2] = 0;
  a->a[0] = (__u32)VG_LD(regs, bx);
  a->a[1] = (__u32)VG_LD(regs, cx);
  a->a[2] = (__u32)VG_LD(regs, dx);
  a->a[3] = (__u32)VG_LD(regs, si);
  a->a[4] = (__u32)VG_LD(regs, di);
  a->a[5] = (__u32)VG_LD(regs, bp);
}

/* A 16-bit id of the old set*id calls: 0xffff means "unchanged" as -1 does. */
static __always_inline __u32 vg_id16(__u64 v) {
  __u32 id = (__u32)v & 0xffff;
  return id == 0xffff ? VG_KEEP : id;
}

/* socketcall: `args` points to the call's arguments as 32-bit words. */
static __always_inline void vg_compat_socketcall(const struct vg_args *a, long ret) {
  __u32 w[3] = {};
  struct vg_args s = {};
  if (bpf_probe_read_user(w, sizeof(w), (const void *)a->a[1]) < 0) {
    vg_count(VG_C_READ_SOCKADDR);
    return;
  }
  s.a[0] = w[0];
  s.a[1] = w[1];
  s.a[2] = w[2];
  switch (a->a[0]) {
    case VG_SYS_SOCKET: vg_on_socket(&s, ret); break;
    case VG_SYS_BIND: vg_on_bind(&s, ret); break;
    case VG_SYS_CONNECT: vg_on_connect(&s, ret); break;
    case VG_SYS_LISTEN: vg_on_listen(&s, ret); break;
    case VG_SYS_ACCEPT: vg_on_accept(&s, ret); break;
    case VG_SYS_ACCEPT4: vg_on_accept4(&s, ret); break;
  }
}

/* exec's enter half (old comm, filename; the exit or sched_process_exec
 * takes it), marked as a compat call. */
SEC("tp_btf/sys_enter")
int BPF_PROG(vg_compat_enter, struct pt_regs *regs, long id) {
  struct task_struct *t = VG_TASK();
  if (!vg_in_compat(t)) return 0;
  if (id != VG_NR32_EXECVE && id != VG_NR32_EXECVEAT) return 0;
  struct vg_args a;
  vg_compat_args(&a, regs);
  __u16 hflags = (__u16)vg_compat_hflags(t);
  if (id == VG_NR32_EXECVE)
    vg_exec_enter(VG_T_EXECVE, VG_AT_FDCWD, (const char *)a.a[0], 0, hflags);
  else
    vg_exec_enter(VG_T_EXECVEAT, (int)a.a[0], (const char *)a.a[1], (__u32)a.a[4], hflags);
  return 0;
}

/* The exit program's work, one function per family: global functions, which
 * the verifier checks once each on their own. Inlined into one program, the
 * families' paths together pass the verifier's budget (1M instructions in
 * the compat build on 6.18; 5.10's verifier refuses the legacy build's).
 * Their arguments can only be scalars, so they find the saved registers
 * themselves: bpf_task_pt_regs (5.15+), or in the legacy build at the top of
 * the task's kernel stack, checked against the call number by
 * vg_legacy_regs (a wrong guess gives zero arguments and a counted read_task
 * failure, never another call's values). */
#ifdef VG_LEGACY
static __always_inline void vg_compat_args_at(struct vg_args *a, long nr) {
  __u64 w[12] = {}; /* bp bx r11 r10 r9 r8 ax cx dx si di orig_ax: the x86-64 layout */
  __builtin_memset(a, 0, sizeof(*a));
  if (vg_legacy_regs(w, 12, bpf_core_field_offset(struct pt_regs, bp), nr) < 0) return;
  a->a[0] = (__u32)w[1];
  a->a[1] = (__u32)w[7];
  a->a[2] = (__u32)w[8];
  a->a[3] = (__u32)w[9];
  a->a[4] = (__u32)w[10];
  a->a[5] = (__u32)w[0];
}
#define VG_CX_ARGS(a) vg_compat_args_at(a, nr)
#else
#define VG_CX_ARGS(a) vg_compat_args(a, (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()))
#endif
#define VG_CX_FN __noinline int
#define VG_CX_PARAMS long nr, long ret
#define VG_CX_CALL(fn) fn(nr, ret)

/* The open family through one instance of the open code (four inlined
 * copies of its path walks are what the compat build's verifier refuses). */
VG_CX_FN vg_cx_open(VG_CX_PARAMS) {
  struct vg_args a;
  VG_CX_ARGS(&a);
  __u16 type = VG_T_OPEN;
  int dirfd = VG_AT_FDCWD;
  __u64 upath = a.a[0];
  __u32 flags = a.a[1], mode = a.a[2];
  if (nr == VG_NR32_CREAT) {
    type = VG_T_CREAT;
    flags = VG_O_CREAT_WRONLY_TRUNC;
    mode = a.a[1];
  } else if (nr == VG_NR32_OPENAT || nr == VG_NR32_OPENAT2) {
    type = nr == VG_NR32_OPENAT ? VG_T_OPENAT : VG_T_OPENAT2;
    dirfd = (int)a.a[0];
    upath = a.a[1];
    flags = a.a[2];
    mode = a.a[3];
    if (nr == VG_NR32_OPENAT2) {
      struct open_how how = {};
      if (bpf_probe_read_user(&how, sizeof(how), (const void *)a.a[2]) < 0) vg_count(VG_C_READ_PATH);
      flags = (__u32)how.flags;
      mode = (__u32)how.mode;
    }
  }
  vg_file_open(type, ret, dirfd, upath, flags, mode);
  return 0;
}

VG_CX_FN vg_cx_unlink(VG_CX_PARAMS) {
  struct vg_args a;
  VG_CX_ARGS(&a);
  if (nr == VG_NR32_UNLINK) {
    a.a[2] = 0;
    a.a[1] = a.a[0];
    a.a[0] = (__u32)VG_AT_FDCWD;
  }
  struct vg_file *f = vg_file_begin(nr == VG_NR32_UNLINK ? VG_T_UNLINK : VG_T_UNLINKAT, ret);
  if (!f) return 0;
  if (nr != VG_NR32_UNLINK) f->fd = (int)a.a[0];
  f->flags = a.a[2];
  __u32 off = 0;
  vg_file_path(f, &off, (int)a.a[0], a.a[1]);
  vg_emit_file(f, off);
  return 0;
}

VG_CX_FN vg_cx_net(VG_CX_PARAMS) {
  struct vg_args a;
  VG_CX_ARGS(&a);
  switch (nr) {
    case VG_NR32_SOCKETCALL: vg_compat_socketcall(&a, ret); break;
    case VG_NR32_SOCKET: vg_on_socket(&a, ret); break;
    case VG_NR32_BIND: vg_on_bind(&a, ret); break;
    case VG_NR32_CONNECT: vg_on_connect(&a, ret); break;
    case VG_NR32_LISTEN: vg_on_listen(&a, ret); break;
    case VG_NR32_ACCEPT4: vg_on_accept4(&a, ret); break;
  }
  return 0;
}

VG_CX_FN vg_cx_bpf(VG_CX_PARAMS) {
  struct vg_args a;
  VG_CX_ARGS(&a);
  if (vg_bpf_interesting((int)a.a[0])) vg_on_bpf(&a, ret);
  return 0;
}

VG_CX_FN vg_cx_proc(VG_CX_PARAMS) {
  struct vg_args a;
  VG_CX_ARGS(&a);
  switch (nr) {
    case VG_NR32_EXECVE:
    case VG_NR32_EXECVEAT: vg_exec_exit(ret); break;
    case VG_NR32_PTRACE: vg_on_ptrace(&a, ret); break;
    case VG_NR32_PROCESS_VM_READV: vg_on_process_vm_readv(&a, ret); break;
    case VG_NR32_PROCESS_VM_WRITEV: vg_on_process_vm_writev(&a, ret); break;
    case VG_NR32_PIDFD_GETFD: vg_on_pidfd_getfd(&a, ret); break;
    case VG_NR32_INIT_MODULE: vg_on_init_module(&a, ret); break;
    case VG_NR32_FINIT_MODULE: vg_on_finit_module(&a, ret); break;
    case VG_NR32_MEMFD_CREATE: vg_on_memfd_create(&a, ret); break;
    case VG_NR32_UNSHARE: vg_on_unshare(&a, ret); break;
    case VG_NR32_SETNS: vg_on_setns(&a, ret); break;
    case VG_NR32_SETUID: vg_on_setuid(&a, ret); break;
    case VG_NR32_SETGID: vg_on_setgid(&a, ret); break;
    case VG_NR32_SETREUID: vg_on_setreuid(&a, ret); break;
    case VG_NR32_SETREGID: vg_on_setregid(&a, ret); break;
    case VG_NR32_SETRESUID: vg_on_setresuid(&a, ret); break;
    case VG_NR32_SETRESGID: vg_on_setresgid(&a, ret); break;
    case VG_NR32_SETFSUID: vg_on_setfsuid(&a, ret); break;
    case VG_NR32_SETFSGID: vg_on_setfsgid(&a, ret); break;
    case VG_NR32_SETUID16: vg_setid(VG_T_SETUID, ret, vg_id16(a.a[0]), VG_KEEP, VG_KEEP); break;
    case VG_NR32_SETGID16: vg_setid(VG_T_SETGID, ret, vg_id16(a.a[0]), VG_KEEP, VG_KEEP); break;
    case VG_NR32_SETREUID16: vg_setid(VG_T_SETREUID, ret, vg_id16(a.a[0]), vg_id16(a.a[1]), VG_KEEP); break;
    case VG_NR32_SETREGID16: vg_setid(VG_T_SETREGID, ret, vg_id16(a.a[0]), vg_id16(a.a[1]), VG_KEEP); break;
    case VG_NR32_SETRESUID16:
      vg_setid(VG_T_SETRESUID, ret, vg_id16(a.a[0]), vg_id16(a.a[1]), vg_id16(a.a[2]));
      break;
    case VG_NR32_SETRESGID16:
      vg_setid(VG_T_SETRESGID, ret, vg_id16(a.a[0]), vg_id16(a.a[1]), vg_id16(a.a[2]));
      break;
    case VG_NR32_SETFSUID16: vg_setid(VG_T_SETFSUID, ret, vg_id16(a.a[0]), VG_KEEP, VG_KEEP); break;
    case VG_NR32_SETFSGID16: vg_setid(VG_T_SETFSGID, ret, vg_id16(a.a[0]), VG_KEEP, VG_KEEP); break;
  }
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_compat_exit, struct pt_regs *regs, long ret_raw) {
  if (!vg_in_compat(VG_TASK())) return 0;
  long nr = VG_LD(regs, orig_ax);
  long ret = (int)ret_raw; /* a 32-bit call's result */
  switch (nr) {
    case VG_NR32_OPEN:
    case VG_NR32_OPENAT:
    case VG_NR32_OPENAT2:
    case VG_NR32_CREAT: VG_CX_CALL(vg_cx_open); break;
    case VG_NR32_UNLINK:
    case VG_NR32_UNLINKAT: VG_CX_CALL(vg_cx_unlink); break;
    case VG_NR32_SOCKETCALL:
    case VG_NR32_SOCKET:
    case VG_NR32_BIND:
    case VG_NR32_CONNECT:
    case VG_NR32_LISTEN:
    case VG_NR32_ACCEPT4: VG_CX_CALL(vg_cx_net); break;
    case VG_NR32_BPF: VG_CX_CALL(vg_cx_bpf); break;
    default: VG_CX_CALL(vg_cx_proc); break;
  }
  return 0;
}
