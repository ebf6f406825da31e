/* SPDX-License-Identifier: GPL-2.0-only */
/* Process family: exec (sched_process_exec + sys_enter/exit_execve*), fork
 * (tp_btf sched_process_fork, tracepoint fallback), exit (sched_process_exit). */
#pragma once

#include "common.bpf.h"

static __always_inline void vg_exec_enter(__u16 type, int dirfd, const char *filename, __u32 at_flags,
                                          __u16 hflags) {
  struct vg_exec_enter e = {};
  e.type = type;
  e.hflags = hflags;
  e.dirfd = dirfd;
  e.at_flags = at_flags;
  e.filename_ptr = (__u64)filename;
  bpf_get_current_comm(e.old_comm, sizeof(e.old_comm));
  /* May fail when the string's page is not faulted in yet; the exit half
   * reads it again from filename_ptr (the kernel has faulted it by then). */
  if (bpf_probe_read_user_str(e.filename, sizeof(e.filename), filename) < 0) e.filename[0] = 0;
  __u64 id = bpf_get_current_pid_tgid();
  if (bpf_map_update_elem(&vg_exec_pending, &id, &e, BPF_ANY) != 0) vg_count(VG_C_PENDING_FULL);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int vg_enter_execve(struct trace_event_raw_sys_enter *ctx) {
  vg_exec_enter(VG_T_EXECVE, VG_AT_FDCWD, (const char *)ctx->args[0], 0, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int vg_enter_execveat(struct trace_event_raw_sys_enter *ctx) {
  vg_exec_enter(VG_T_EXECVEAT, (int)ctx->args[0], (const char *)ctx->args[1], (__u32)ctx->args[4], 0);
  return 0;
}

static __always_inline struct vg_exec *vg_exec_scratch_get(void) {
  __u32 zero = 0;
  struct vg_exec *e = bpf_map_lookup_elem(&vg_exec_scratch, &zero);
  if (!e) vg_count(VG_C_SCRATCH);
  return e;
}

/* Copies the pending sys_enter half (if any) into the record; deletes it.
 * Returns the call's hdr flags (VG_HF_COMPAT: a 32-bit execve): at
 * sched_process_exec the task's compat state is the new image's. */
static __always_inline __u32 vg_exec_take_enter(struct vg_exec *e, int reread) {
  __u64 id = bpf_get_current_pid_tgid();
  struct vg_exec_enter *p = bpf_map_lookup_elem(&vg_exec_pending, &id);
  e->flags = 0;
  e->dirfd = VG_AT_FDCWD;
  e->at_flags = 0;
  e->old_comm[0] = 0;
  e->filename[0] = 0;
  e->hdr.type = VG_T_EXECVE;
  if (!p) return 0;
  __u32 hflags = p->hflags;
  e->hdr.type = p->type;
  e->dirfd = p->dirfd;
  e->at_flags = p->at_flags;
  __builtin_memcpy(e->old_comm, p->old_comm, sizeof(e->old_comm));
  bpf_probe_read_kernel(e->filename, sizeof(e->filename), p->filename);
  if (reread && e->filename[0] == 0 && p->filename_ptr &&
      bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const void *)p->filename_ptr) < 0) {
    e->filename[0] = 0;
    vg_count(VG_C_READ_PATH);
  }
  e->flags |= VG_EXEC_HAVE_ENTER;
  bpf_map_delete_elem(&vg_exec_pending, &id);
  return hflags;
}

/* The new image's environment (mm->env_start..env_end, NAME=value strings,
 * NUL-separated) into e->env, its first VG_ENV_LEN bytes when longer (flagged
 * VG_EXEC_ENV_TRUNC). Returns the bytes used. */
static __always_inline __u32 vg_exec_env(struct vg_exec *e, struct mm_struct *mm) {
  unsigned long start = mm ? VG_LD(mm, env_start) : 0;
  unsigned long end = mm ? VG_LD(mm, env_end) : 0;
  __u64 len = end - start;
  if (end < start) len = 0;
  e->flags |= VG_EXEC_ENV;
  if (len > VG_ENV_LEN) e->flags |= VG_EXEC_ENV_TRUNC;
  VG_CLAMP(len, VG_ENV_LEN);
  if (len == 0) return 0;
  if (bpf_probe_read_user(e->env, len, (const void *)start) != 0) {
    vg_count(VG_C_READ_ENV);
    e->flags &= ~VG_EXEC_ENV;
    return 0;
  }
  return (__u32)len;
}

/* A struct pid's number in the pid namespace `ns` at depth `level`, as the
 * kernel's pid_nr_ns() finds it: 0 when the pid was made in a namespace that
 * does not see it (a session begun outside the task's container). */
static __always_inline __u32 vg_pid_nr_ns(struct pid *p, unsigned int level, struct pid_namespace *ns) {
  if (!p) return 0;
  if (level == 0) return VG_LD(p, numbers[0].nr);
  if (VG_LD(p, level) < level) return 0;
  struct upid up = {};
  if (bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[level & 31]) != 0) { /* variable index: not a direct load */
    vg_count(VG_C_READ_TASK);
    return 0;
  }
  return up.ns == ns ? up.nr : 0;
}

/* The task's session and process group (signal->pids[], there since 4.19,
 * commit 2c4704756cab "pids: Move the pgrp and session pid pointers from
 * task_struct to signal_struct"): host numbers, and the task's own pid
 * namespace's (hdr.pidns_level deep, filled before). Direct loads in the
 * typed builds but for the namespace view of a nested task (one helper read
 * per id, plus one for the namespace). */
static __always_inline void vg_exec_session(struct vg_exec *e) {
  struct task_struct *t = VG_TASK();
  struct signal_struct *sig = VG_LD(t, signal);
  struct pid *sid = sig ? VG_LD(sig, pids[PIDTYPE_SID]) : 0;
  struct pid *pgid = sig ? VG_LD(sig, pids[PIDTYPE_PGID]) : 0;
  e->sid = vg_pid_nr_ns(sid, 0, 0);
  e->pgid = vg_pid_nr_ns(pgid, 0, 0);
  unsigned int level = e->hdr.pidns_level;
  if (level == 0) {
    e->vsid = e->sid;
    e->vpgid = e->pgid;
    return;
  }
  struct pid *tp = VG_LD(t, group_leader, thread_pid);
  struct upid own = {};
  if (bpf_probe_read_kernel(&own, sizeof(own), &tp->numbers[level & 31]) != 0) vg_count(VG_C_READ_TASK);
  e->vsid = vg_pid_nr_ns(sid, level, own.ns);
  e->vpgid = vg_pid_nr_ns(pgid, level, own.ns);
}

/* Descriptors 0-2 of the new image: type, device and inode of each (helper
 * reads from the fd slot on: three per descriptor, plus the name of a regular
 * file on fd 0). A descriptor the table does not have reads as VG_FD_NONE. */
static __always_inline __u16 vg_stdio_type(umode_t mode) {
  switch (mode & VG_S_IFMT) {
    case 0100000: return VG_FD_FILE;
    case 0010000: return VG_FD_PIPE;
    case VG_S_IFSOCK: return VG_FD_SOCK;
    case 0020000: return VG_FD_CHR;
    case 0040000: return VG_FD_DIR;
    case 0060000: return VG_FD_BLK;
  }
  return VG_FD_OTHER;
}

static __always_inline void vg_exec_stdio(struct vg_exec *e) {
  e->stdin_name[0] = 0;
#pragma unroll
  for (int i = 0; i < 3; i++) {
    struct vg_stdio *d = &e->stdio[i];
    d->ino = 0;
    d->dev = 0;
    d->type = VG_FD_NONE;
    d->pad = 0;
    struct file *f = vg_fd_file(i);
    if (!f) continue;
    struct inode *ino = BPF_CORE_READ(f, f_inode);
    if (!ino) continue;
    d->type = vg_stdio_type(BPF_CORE_READ(ino, i_mode));
    d->ino = BPF_CORE_READ(ino, i_ino);
    d->dev = BPF_CORE_READ(ino, i_sb, s_dev);
    if (i == 0 && d->type == VG_FD_FILE) {
      const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
      if (name && bpf_probe_read_kernel_str(e->stdin_name, sizeof(e->stdin_name), name) < 0) {
        e->stdin_name[0] = 0;
        vg_count(VG_C_READ_DENTRY);
      }
    }
  }
}

/* struct inode's times moved twice: 6.6 renamed i_ctime to __i_ctime (commit
 * 9b6304c1d537 "fs: add ctime accessors infrastructure"), 6.7 i_mtime to
 * __i_mtime (12cd44023651 "fs: rename i_atime and i_mtime fields to __i_atime
 * and __i_mtime"), and 6.11 split each into seconds and nanoseconds
 * (3aa63a569c64 "fs: switch timespec64 fields in inode to discrete
 * integers"), which vmlinux.h has. */
struct inode___ts_old {
  struct timespec64 i_ctime;
  struct timespec64 i_mtime;
} __attribute__((preserve_access_index));
struct inode___ts_66 {
  struct timespec64 __i_ctime;
  struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

#define VG_NSEC_PER_SEC 1000000000ll
static __always_inline __s64 vg_ts_ns(__s64 sec, __s64 nsec) { return sec * VG_NSEC_PER_SEC + nsec; }

/* Since 6.13 the top bit of i_ctime_nsec is I_CTIME_QUERIED (multigrain
 * timestamps, commit 4e40eff0b573 "fs: add infrastructure for multigrain
 * timestamps"): not part of the time. */
#define VG_CTIME_NSEC_MASK 0x7fffffffu
static __always_inline __s64 vg_inode_ctime_ns(struct inode *ino) {
  if (bpf_core_field_exists(ino->i_ctime_sec))
    return vg_ts_ns(BPF_CORE_READ(ino, i_ctime_sec), BPF_CORE_READ(ino, i_ctime_nsec) & VG_CTIME_NSEC_MASK);
  struct inode___ts_66 *n = (void *)ino;
  if (bpf_core_field_exists(n->__i_ctime))
    return vg_ts_ns(BPF_CORE_READ(n, __i_ctime.tv_sec), BPF_CORE_READ(n, __i_ctime.tv_nsec));
  struct inode___ts_old *o = (void *)ino;
  return vg_ts_ns(BPF_CORE_READ(o, i_ctime.tv_sec), BPF_CORE_READ(o, i_ctime.tv_nsec));
}

static __always_inline __s64 vg_inode_mtime_ns(struct inode *ino) {
  if (bpf_core_field_exists(ino->i_mtime_sec))
    return vg_ts_ns(BPF_CORE_READ(ino, i_mtime_sec), BPF_CORE_READ(ino, i_mtime_nsec));
  struct inode___ts_66 *n = (void *)ino;
  if (bpf_core_field_exists(n->__i_mtime))
    return vg_ts_ns(BPF_CORE_READ(n, __i_mtime.tv_sec), BPF_CORE_READ(n, __i_mtime.tv_nsec));
  struct inode___ts_old *o = (void *)ino;
  return vg_ts_ns(BPF_CORE_READ(o, i_mtime.tv_sec), BPF_CORE_READ(o, i_mtime.tv_nsec));
}

#define VG_OVERLAYFS_SUPER_MAGIC 0x794c7630
/* The executable's inode: number, times, and for an overlayfs file whether
 * its overlay inode has an upper dentry (struct ovl_inode embeds the VFS
 * inode; __upperdentry is set once the file exists in the upper layer: made
 * or copied up in the container). struct ovl_inode lives in the overlay
 * module's BTF on distribution kernels (libbpf searches module BTF for CO-RE
 * candidates; a kernel without module BTF, 5.10, or overlay not loaded at
 * load time has none): without it the layer stays unknown. Helper reads:
 * five for the inode, two more for an overlay file. */
static __always_inline void vg_exec_inode(struct vg_exec *e, struct file *exe) {
  e->exe_ino = 0;
  e->exe_ctime_ns = 0;
  e->exe_mtime_ns = 0;
  struct inode *ino = exe ? BPF_CORE_READ(exe, f_inode) : 0;
  if (!ino) return;
  e->exe_ino = BPF_CORE_READ(ino, i_ino);
  e->exe_ctime_ns = vg_inode_ctime_ns(ino);
  e->exe_mtime_ns = vg_inode_mtime_ns(ino);
  e->flags |= VG_EXEC_EXE_INODE;
  if (BPF_CORE_READ(ino, i_sb, s_magic) != VG_OVERLAYFS_SUPER_MAGIC) {
    e->flags |= VG_EXEC_LAYER_KNOWN; /* not overlayfs: no upper layer */
    return;
  }
  e->flags |= VG_EXEC_OVERLAY;
  if (!bpf_core_type_exists(struct ovl_inode) || !bpf_core_field_exists(struct ovl_inode, __upperdentry)) return;
  struct ovl_inode *oi = (void *)((char *)ino - bpf_core_field_offset(struct ovl_inode, vfs_inode));
  struct dentry *upper = 0;
  if (bpf_core_read(&upper, sizeof(upper), &oi->__upperdentry) != 0) {
    vg_count(VG_C_READ_TASK);
    return;
  }
  e->flags |= VG_EXEC_LAYER_KNOWN;
  if (upper) e->flags |= VG_EXEC_UPPER_LAYER;
}

/* start_boottime of the init of the task's own pid namespace (child_reaper
 * of the namespace at hdr.pidns_level): libsinsp's pidns_init_start_ts. */
static __always_inline void vg_exec_pidns_start(struct vg_exec *e) {
  e->pidns_start_ns = 0;
  struct pid *tp = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), thread_pid);
  if (!tp) return;
  struct upid own = {};
  if (bpf_probe_read_kernel(&own, sizeof(own), &tp->numbers[e->hdr.pidns_level & 31]) != 0 || !own.ns) {
    vg_count(VG_C_READ_TASK);
    return;
  }
  struct task_struct *reaper = BPF_CORE_READ(own.ns, child_reaper);
  if (reaper) e->pidns_start_ns = BPF_CORE_READ(reaper, start_boottime);
}

/* An exec record: its head and the used part of env (vigil_abi.h). */
static __always_inline void vg_emit_exec(struct vg_exec *e, __u32 env_len) {
  __u64 size = (__u64)env_len + VG_EXEC_HEAD_SIZE;
  VG_CLAMP(size, sizeof(struct vg_exec));
  e->env_len = env_len;
  e->pad2 = 0;
  e->hdr.size = size;
  vg_emit(e, size);
}

SEC("tracepoint/sched/sched_process_exec")
int vg_sched_exec(void *ctx) {
  struct vg_exec *e = vg_exec_scratch_get();
  if (!e) return 0;
  __u32 hflags = vg_exec_take_enter(e, 0); /* the old mm is gone: no re-read of user memory */
  if (!vg_interested(e->hdr.type)) return 0;
  vg_fill_hdr(&e->hdr, VG_KIND_EXEC, e->hdr.type, sizeof(*e));
  e->hdr.res = 0;
  e->hdr.flags = hflags | ((e->flags & VG_EXEC_HAVE_ENTER) ? 0 : VG_HF_NO_ENTER);
  vg_exec_session(e);

  /* the new image's mm, typed: argv bounds and exe by direct loads, and the
   * exe walk starts typed */
  struct mm_struct *mm = VG_LD(VG_TASK(), mm);
  unsigned long start = mm ? VG_LD(mm, arg_start) : 0;
  unsigned long end = mm ? VG_LD(mm, arg_end) : 0;
  unsigned long len = end - start;
  if (end < start) len = 0;
  if (len > VG_ARGV_LEN) {
    len = VG_ARGV_LEN;
    e->flags |= VG_EXEC_ARGV_TRUNC;
  }
  e->argv_len = 0;
  if (len > 0) {
    if (bpf_probe_read_user(e->argv, len, (const void *)start) == 0)
      e->argv_len = len;
    else
      vg_count(VG_C_READ_ARGV);
  }
  __u32 env_len = vg_want_env ? vg_exec_env(e, mm) : 0;
  /* A 32-bit image (i386 or x32 ELF) gets a 4 GiB address space at exec
   * (x86-64: TASK_SIZE is IA32_PAGE_OFFSET when TIF_ADDR32 is set): its
   * syscalls take the compat entry, which skips the syscalls/ tracepoints. */
  if (mm && VG_LD(mm, task_size) <= 0x100000000ull) e->flags |= VG_EXEC_ADDR32;
  struct file *exe = mm ? VG_LD(mm, exe_file) : 0;
  vg_walk_chain(&e->exe, exe ? &exe->f_path : 0, VG_EXEC_AT_EXE);
  vg_walk_cwd(&e->cwd, VG_EXEC_AT_CWD);
  vg_exec_stdio(e);
  vg_exec_inode(e, exe);
  vg_exec_pidns_start(e);
  vg_emit_exec(e, env_len);
  return 0;
}

/* Failed execs: the sys_enter half is still pending (sched_process_exec took
 * it on success). */
static __always_inline void vg_exec_exit(long ret) {
  if (ret == 0) return;
  __u64 id = bpf_get_current_pid_tgid();
  if (!bpf_map_lookup_elem(&vg_exec_pending, &id)) return;
  struct vg_exec *e = vg_exec_scratch_get();
  if (!e) return;
  __u32 hflags = vg_exec_take_enter(e, 1);
  if (!vg_interested(e->hdr.type)) return;
  vg_fill_hdr(&e->hdr, VG_KIND_EXEC, e->hdr.type, sizeof(*e));
  e->hdr.flags = hflags;
  e->hdr.res = ret;
  vg_exec_session(e);
  e->argv_len = 0;
  e->exe.depth = 0;
  e->exe.flags = 0;
  vg_walk_cwd(&e->cwd, VG_EXEC_AT_CWD);
  vg_exec_stdio(e);
  vg_exec_inode(e, 0);
  vg_exec_pidns_start(e);
  vg_emit_exec(e, 0);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int vg_exit_execve(struct trace_event_raw_sys_exit *ctx) {
  vg_exec_exit(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int vg_exit_execveat(struct trace_event_raw_sys_exit *ctx) {
  vg_exec_exit(ctx->ret);
  return 0;
}

/* fork/clone: which syscall created the child, and its flags. */
struct vg_clone_enter {
  __u16 type;
  __u16 pad[3];
  __u64 flags;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64);
  __type(value, struct vg_clone_enter);
} vg_clone_pending SEC(".maps");

static __always_inline void vg_clone_enter(__u16 type, __u64 flags) {
  struct vg_clone_enter c = {.type = type, .flags = flags};
  __u64 id = bpf_get_current_pid_tgid();
  if (bpf_map_update_elem(&vg_clone_pending, &id, &c, BPF_ANY) != 0) vg_count(VG_C_PENDING_FULL);
}

static __always_inline void vg_clone_exit(void) {
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_delete_elem(&vg_clone_pending, &id);
}

SEC("tracepoint/syscalls/sys_enter_clone")
int vg_enter_clone(struct trace_event_raw_sys_enter *ctx) {
  vg_clone_enter(VG_T_CLONE, ctx->args[0]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int vg_enter_clone3(struct trace_event_raw_sys_enter *ctx) {
  __u64 flags = 0;
  /* struct clone_args starts with __aligned_u64 flags */
  bpf_probe_read_user(&flags, sizeof(flags), (const void *)ctx->args[0]);
  vg_clone_enter(VG_T_CLONE3, flags);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_fork")
int vg_enter_fork(void *ctx) {
  vg_clone_enter(VG_T_FORK, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_vfork")
int vg_enter_vfork(void *ctx) {
  vg_clone_enter(VG_T_VFORK, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int vg_exit_clone(void *ctx) {
  vg_clone_exit();
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_clone3")
int vg_exit_clone3(void *ctx) {
  vg_clone_exit();
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_fork")
int vg_exit_fork(void *ctx) {
  vg_clone_exit();
  return 0;
}
SEC("tracepoint/syscalls/sys_exit_vfork")
int vg_exit_vfork(void *ctx) {
  vg_clone_exit();
  return 0;
}

/* Emits the parent-side fork record for `child` (threads are not reported). */
static __always_inline void vg_fork(struct task_struct *child) {
  __u32 child_tgid = BPF_CORE_READ(child, tgid);
  __u32 child_pid = BPF_CORE_READ(child, pid);
  if (child_tgid != child_pid) return; /* a new thread, not a process */
  __u16 type = VG_T_CLONE;
  __u64 id = bpf_get_current_pid_tgid();
  struct vg_clone_enter *c = bpf_map_lookup_elem(&vg_clone_pending, &id);
  if (c) type = c->type;
  if (!vg_interested(type)) return;
  union vg_record *s = vg_scratch_get();
  if (!s) return;
  struct vg_proc *p = &s->proc;
  __builtin_memset(p, 0, sizeof(*p));
  if (c) p->flags = c->flags;
  vg_fill_hdr(&p->hdr, VG_KIND_PROC, type, sizeof(*p));
  if (!c) p->hdr.flags |= VG_HF_NO_ENTER;
  p->hdr.res = child_tgid;
  p->target_pid = child_tgid;
  p->child_start_ns = BPF_CORE_READ(child, start_boottime);
  p->fd = p->oldfd = p->newfd = -1;
  p->ids[0] = p->ids[1] = p->ids[2] = 0xffffffffu;
  vg_emit(p, sizeof(*p));
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork_btf, struct task_struct *parent, struct task_struct *child) {
  vg_fork(child);
  return 0;
}

/* Fallback when tp_btf is missing: the classic tracepoint carries the child's pid. */
SEC("tracepoint/sched/sched_process_fork")
int vg_fork_tp(struct trace_event_raw_sched_process_fork *ctx) {
  __u32 child_pid = BPF_CORE_READ(ctx, child_pid);
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  if (!vg_interested(VG_T_CLONE)) return 0;
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_proc *p = &s->proc;
  __builtin_memset(p, 0, sizeof(*p));
  vg_fill_hdr(&p->hdr, VG_KIND_PROC, VG_T_CLONE, sizeof(*p));
  (void)t;
  p->hdr.flags |= VG_HF_NO_ENTER;
  p->hdr.res = child_pid;
  p->target_pid = child_pid;
  p->fd = p->oldfd = p->newfd = -1;
  p->ids[0] = p->ids[1] = p->ids[2] = 0xffffffffu;
  vg_emit(p, sizeof(*p));
  return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int vg_sched_exit(void *ctx) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  /* drop anything this thread left in flight */
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_delete_elem(&vg_exec_pending, &id); /* vg_pending is task storage: freed with the task */
#ifdef VG_LEGACY
  bpf_map_delete_elem(&vg_pending, &id); /* a hash there */
#endif
  bpf_map_delete_elem(&vg_clone_pending, &id);
  /* Report the process once, when its last thread goes. */
  struct signal_struct *sig = BPF_CORE_READ(t, signal);
  int live = BPF_CORE_READ(sig, live.counter);
  if (live != 0) return 0;
  if (!vg_interested(VG_T_EXIT)) return 0;
  union vg_record *s = vg_scratch_get();
  if (!s) return 0;
  struct vg_proc *p = &s->proc;
  __builtin_memset(p, 0, sizeof(*p));
  vg_fill_hdr(&p->hdr, VG_KIND_PROC, VG_T_EXIT, sizeof(*p));
  int code = BPF_CORE_READ(sig, group_exit_code);
  if (code == 0) code = BPF_CORE_READ(t, exit_code);
  p->exit_code = (code >> 8) & 0xff;
  p->exit_signal = code & 0x7f;
  p->hdr.res = code;
  p->fd = p->oldfd = p->newfd = -1;
  p->ids[0] = p->ids[1] = p->ids[2] = 0xffffffffu;
  vg_emit(p, sizeof(*p));
  return 0;
}
