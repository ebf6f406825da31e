/* SPDX-License-Identifier: GPL-2.0-only */
/* Escape and privilege indicators: setns, unshare, ptrace, init_module /
 * finit_module, memfd_create, userfaultfd, the set*id family, capset,
 * process_vm_readv/writev, pidfd_getfd (with the pidfd's process),
 * and dup/dup2/dup3 onto fds 0-2 (filtered in the kernel) with the old fd's
 * socket endpoints when it is a socket (a reverse shell's tell). */
#pragma once

#include "common.bpf.h"

static __always_inline struct vg_proc *vg_proc_begin(__u16 type, long ret) {
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_proc *p = &s->proc;
  vg_fill_hdr(&p->hdr, VG_KIND_PROC, type, sizeof(*p));
  p->hdr.res = ret;
  p->flags = 0;
  p->request = 0;
  p->caps[0] = p->caps[1] = p->caps[2] = 0;
  p->child_start_ns = 0;
  p->target_pid = 0;
  p->fd = p->oldfd = p->newfd = -1;
  p->ids[0] = p->ids[1] = p->ids[2] = 0xffffffffu;
  p->exit_code = p->exit_signal = 0;
  p->has_sock = 0;
  p->name[0] = 0;
  return p;
}

VG_SYSCALL(setns, VG_T_SETNS, 2) {
  struct vg_proc *p = vg_proc_begin(VG_T_SETNS, ret);
  if (!p) return;
  p->fd = (int)a->a[0];
  p->flags = a->a[1];
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(unshare, VG_T_UNSHARE, 1) {
  struct vg_proc *p = vg_proc_begin(VG_T_UNSHARE, ret);
  if (!p) return;
  p->flags = a->a[0];
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(ptrace, VG_T_PTRACE, 2) {
  struct vg_proc *p = vg_proc_begin(VG_T_PTRACE, ret);
  if (!p) return;
  p->request = (__s64)a->a[0];
  p->target_pid = (int)a->a[1];
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(process_vm_writev, VG_T_PROCESS_VM_WRITEV, 1) {
  struct vg_proc *p = vg_proc_begin(VG_T_PROCESS_VM_WRITEV, ret);
  if (!p) return;
  p->target_pid = (int)a->a[0];
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(process_vm_readv, VG_T_PROCESS_VM_READV, 1) {
  struct vg_proc *p = vg_proc_begin(VG_T_PROCESS_VM_READV, ret);
  if (!p) return;
  p->target_pid = (int)a->a[0];
  vg_emit(p, sizeof(*p));
}

/* The process a pidfd refers to (its pid number in the initial namespace), or
 * 0 when `f` is not a pidfd. Since 6.9 (commit cb12fd8e0dab, "pidfd: add
 * pidfs") a pidfd is a pidfs file and its struct pid hangs off the inode's
 * i_private; before, an anon inode "[pidfd]" with the struct pid as the
 * file's private_data. */
#define VG_PIDFS_MAGIC 0x50494446
#define VG_ANON_INODE_FS_MAGIC 0x09041934
static __always_inline __s32 vg_pidfd_pid(struct file *f) {
  if (!f) return 0;
  unsigned long magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
  struct pid *pid = 0;
  if (magic == VG_PIDFS_MAGIC) {
    pid = BPF_CORE_READ(f, f_inode, i_private);
  } else if (magic == VG_ANON_INODE_FS_MAGIC) {
    char name[8] = {};
    const unsigned char *n = BPF_CORE_READ(f, f_path.dentry, d_name.name);
    if (!n || bpf_probe_read_kernel(name, sizeof(name), n) != 0) return 0;
    if (name[0] != '[' || name[1] != 'p' || name[2] != 'i' || name[3] != 'd' || name[4] != 'f' || name[5] != 'd' ||
        name[6] != ']' || name[7] != 0)
      return 0;
    pid = BPF_CORE_READ(f, private_data);
  }
  if (!pid) return 0;
  return BPF_CORE_READ(pid, numbers[0].nr);
}

/* pidfd_getfd(pidfd, targetfd, flags): a copy of another process's fd (an
 * fd taken from vigil this way drained its ring buffer). The pidfd is still
 * the caller's at exit, so its process is read from it here. */
VG_SYSCALL(pidfd_getfd, VG_T_PIDFD_GETFD, 3) {
  struct vg_proc *p = vg_proc_begin(VG_T_PIDFD_GETFD, ret);
  if (!p) return;
  p->fd = (int)a->a[0];
  p->oldfd = (int)a->a[1];
  p->newfd = ret >= 0 ? (int)ret : -1;
  p->flags = (__u32)a->a[2];
  p->target_pid = vg_pidfd_pid(vg_fd_file(p->fd));
  vg_emit(p, sizeof(*p));
}

/* init_module(image, len, params): `name` holds the parameters string. */
VG_SYSCALL(init_module, VG_T_INIT_MODULE, 3) {
  struct vg_proc *p = vg_proc_begin(VG_T_INIT_MODULE, ret);
  if (!p) return;
  p->request = (__s64)a->a[1]; /* image length */
  vg_read_user_path(p->name, (const void *)a->a[2]);
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(finit_module, VG_T_FINIT_MODULE, 3) {
  struct vg_proc *p = vg_proc_begin(VG_T_FINIT_MODULE, ret);
  if (!p) return;
  p->fd = (int)a->a[0];
  p->flags = a->a[2];
  vg_read_user_path(p->name, (const void *)a->a[1]);
  vg_emit(p, sizeof(*p));
}

VG_SYSCALL(memfd_create, VG_T_MEMFD_CREATE, 2) {
  struct vg_proc *p = vg_proc_begin(VG_T_MEMFD_CREATE, ret);
  if (!p) return;
  p->flags = a->a[1];
  p->fd = ret >= 0 ? (int)ret : -1;
  vg_read_user_path(p->name, (const void *)a->a[0]);
  vg_emit(p, sizeof(*p));
}

/* userfaultfd: page faults handled by user space, an exploitation primitive
 * (a race window held open at will); flags as given, the new fd as result. */
VG_SYSCALL(userfaultfd, VG_T_USERFAULTFD, 1) {
  struct vg_proc *p = vg_proc_begin(VG_T_USERFAULTFD, ret);
  if (!p) return;
  p->flags = (__u32)a->a[0];
  p->fd = ret >= 0 ? (int)ret : -1;
  vg_emit(p, sizeof(*p));
}

/* set*id: ids[] = real, effective, saved (-1: not changed by the call). */
static __always_inline void vg_setid(__u16 type, long ret, __u32 r, __u32 e, __u32 s) {
  struct vg_proc *p = vg_proc_begin(type, ret);
  if (!p) return;
  p->ids[0] = r;
  p->ids[1] = e;
  p->ids[2] = s;
  vg_emit(p, sizeof(*p));
}
#define VG_KEEP 0xffffffffu
VG_SYSCALL(setuid, VG_T_SETUID, 1) { vg_setid(VG_T_SETUID, ret, a->a[0], VG_KEEP, VG_KEEP); }
VG_SYSCALL(setgid, VG_T_SETGID, 1) { vg_setid(VG_T_SETGID, ret, a->a[0], VG_KEEP, VG_KEEP); }
VG_SYSCALL(setreuid, VG_T_SETREUID, 2) { vg_setid(VG_T_SETREUID, ret, a->a[0], a->a[1], VG_KEEP); }
VG_SYSCALL(setregid, VG_T_SETREGID, 2) { vg_setid(VG_T_SETREGID, ret, a->a[0], a->a[1], VG_KEEP); }
VG_SYSCALL(setresuid, VG_T_SETRESUID, 3) { vg_setid(VG_T_SETRESUID, ret, a->a[0], a->a[1], a->a[2]); }
VG_SYSCALL(setresgid, VG_T_SETRESGID, 3) { vg_setid(VG_T_SETRESGID, ret, a->a[0], a->a[1], a->a[2]); }
VG_SYSCALL(setfsuid, VG_T_SETFSUID, 1) { vg_setid(VG_T_SETFSUID, ret, a->a[0], VG_KEEP, VG_KEEP); }
VG_SYSCALL(setfsgid, VG_T_SETFSGID, 1) { vg_setid(VG_T_SETFSGID, ret, a->a[0], VG_KEEP, VG_KEEP); }

/* capset(header, data): data is two __user_cap_data_struct (low and high
 * 32 bits of effective, permitted, inheritable). */
VG_SYSCALL(capset, VG_T_CAPSET, 2) {
  struct vg_proc *p = vg_proc_begin(VG_T_CAPSET, ret);
  if (!p) return;
  __u32 d[6] = {};
  if (a->a[1] && bpf_probe_read_user(d, sizeof(d), (const void *)a->a[1]) == 0) {
    p->caps[0] = d[0] | ((__u64)d[3] << 32);
    p->caps[1] = d[1] | ((__u64)d[4] << 32);
    p->caps[2] = d[2] | ((__u64)d[5] << 32);
  }
  vg_emit(p, sizeof(*p));
}

/* dup*: only new fds 0-2 are interesting (stdin/stdout/stderr redirected). */
static __always_inline void vg_dup(__u16 type, long ret, int oldfd, int newfd) {
  if (ret < 0 || ret > 2) return;
  if (!vg_interested(type)) return;
  struct vg_proc *p = vg_proc_begin(type, ret);
  if (!p) return;
  p->oldfd = oldfd;
  p->newfd = newfd;
  struct sock *sk = vg_file_sock(vg_fd_file(oldfd));
  if (sk) {
    vg_zero_sock(&p->sock);
    vg_read_sock(&p->sock, sk);
    p->has_sock = 1;
  }
  vg_emit(p, sizeof(*p));
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int vg_enter_dup2(struct trace_event_raw_sys_enter *ctx) {
  if (ctx->args[1] > 2) return 0;
  vg_enter(VG_T_DUP2, ctx, 2);
  return 0;
}
SEC("tracepoint/syscalls/sys_enter_dup3")
int vg_enter_dup3(struct trace_event_raw_sys_enter *ctx) {
  if (ctx->args[1] > 2) return 0;
  vg_enter(VG_T_DUP3, ctx, 3);
  return 0;
}
VG_SYS_EXIT(dup2, VG_T_DUP2, 0) { vg_dup(VG_T_DUP2, ret, (int)a->a[0], (int)a->a[1]); }
VG_SYS_EXIT(dup3, VG_T_DUP3, 0) { vg_dup(VG_T_DUP3, ret, (int)a->a[0], (int)a->a[1]); }
/* dup() picks the lowest free fd: filtered on the result. */
VG_SYSCALL(dup, VG_T_DUP, 1) { vg_dup(VG_T_DUP, ret, (int)a->a[0], (int)ret); }
