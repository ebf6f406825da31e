/* Shared BPF-side pieces: maps (ring buffer, counters, enter/exit pairing),
 * the common record header, dentry-chain walks and socket readers.
 * Included once, by vigil.bpf.c. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil_abi.h"

#define VG_AT_FDCWD -100
#define VG_AF_UNIX 1
#define VG_AF_INET 2
#define VG_AF_INET6 10
#define VG_S_IFMT 00170000
#define VG_S_IFSOCK 0140000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Ring buffer size, set by the loader before load (power of two, pages). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024);
} vg_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, VG_C_MAX);
  __type(key, __u32);
  __type(value, __u64);
} vg_counters SEC(".maps");

/* One in-flight syscall per thread: its type and raw arguments, from
 * sys_enter to sys_exit. User memory is read at exit, when the kernel has
 * faulted the pages in (a read at enter fails on a page not yet touched).
 * Task-local storage rather than a hash keyed by tid: no hashing, no element
 * allocation and deletion per syscall, and it goes away with the task. */
struct vg_args {
  __u16 type; /* 0: nothing in flight */
  __u16 pad[3];
  __u64 a[6];
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct vg_args);
} vg_pending SEC(".maps");

/* Scratch large enough for any record but exec. */
union vg_record {
  struct vg_hdr hdr;
  struct vg_proc proc;
  struct vg_file file;
  struct vg_net net;
  struct vg_bpf bpf;
};

struct vg_exec_enter {
  __u16 type;
  __u16 pad;
  __s32 dirfd;
  __u32 at_flags;
  __u32 pad2;
  __u64 filename_ptr; /* user pointer, re-read at exit when the enter read failed */
  char old_comm[VG_COMM_LEN];
  char filename[VG_PATH_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64);
  __type(value, struct vg_exec_enter);
} vg_exec_pending SEC(".maps");

/* Per-CPU scratch: records are built here before they go into
 * the ring buffer (the BPF stack is 512 bytes). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, union vg_record);
} vg_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct vg_exec);
} vg_exec_scratch SEC(".maps");

static __always_inline void vg_count(__u32 site) {
  __u64 *v = bpf_map_lookup_elem(&vg_counters, &site);
  if (v) *v += 1;
}

static __always_inline union vg_record *vg_scratch_get(void) {
  __u32 zero = 0;
  union vg_record *p = bpf_map_lookup_elem(&vg_scratch, &zero);
  if (!p) vg_count(VG_C_SCRATCH);
  return p;
}

/* Wake the consumer only once this much is waiting: a wakeup per record
 * costs more than the record. The loader polls with a timeout, so a quiet
 * host still sees its events within that timeout. */
#define VG_WAKEUP_BYTES (256 * 1024)
#define VG_RINGBUF_HDR 8 /* BPF_RINGBUF_HDR_SZ */

/* The consumer is woken when the waiting data crosses a multiple of
 * VG_WAKEUP_BYTES, not on every record above it: a forced wakeup raises an
 * irq_work (a self-IPI; an APIC write that traps to the hypervisor in a VM),
 * and while the consumer is catching up a wakeup per record was a fifth of
 * an openat's capture cost. Producers on other CPUs may race on the same
 * crossing (an extra wakeup, or none for this one: the next crossing wakes,
 * and the consumer's poll timeout bounds the wait either way). */
static __always_inline void vg_emit(void *rec, __u64 size) {
  __u64 before = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
  __u64 after = before + size + VG_RINGBUF_HDR;
  __u64 flags = before / VG_WAKEUP_BYTES != after / VG_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&vg_events, rec, size, flags) != 0) vg_count(VG_C_RINGBUF_DROP);
}

/* `v` (a 64-bit variable) made at most `max`, with the compare and the use
 * in one register: clang may otherwise test a copy (or the 32-bit half) and
 * use the original, a bound older verifiers (6.1) do not carry over. */
#define VG_CLAMP(v, max) asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(v) : "i"(max))

/* A file record: its head and the used part of its tail (vigil_abi.h). */
static __always_inline void vg_emit_file(struct vg_file *f, __u32 tail_used) {
  __u64 size = (__u64)tail_used + VG_FILE_HEAD_SIZE;
  VG_CLAMP(size, sizeof(struct vg_file));
  f->hdr.size = size;
  vg_emit(f, size);
}

/* sys_enter half: remembers the call's type and arguments. */
/* Reads exactly `nargs` arguments: a syscall tracepoint's record only holds
 * the call's own arguments, and attaching a program that reads past it fails
 * with EACCES (max_ctx_offset). */
static __always_inline void vg_enter(__u16 type, struct trace_event_raw_sys_enter *ctx, int nargs) {
  struct vg_args *a =
      bpf_task_storage_get(&vg_pending, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!a) {
    vg_count(VG_C_PENDING_FULL);
    return;
  }
  a->type = type;
  /* unrolled by hand: the verifier refuses a modified ctx pointer */
  if (nargs > 0) a->a[0] = ctx->args[0];
  if (nargs > 1) a->a[1] = ctx->args[1];
  if (nargs > 2) a->a[2] = ctx->args[2];
  if (nargs > 3) a->a[3] = ctx->args[3];
  if (nargs > 4) a->a[4] = ctx->args[4];
  if (nargs > 5) a->a[5] = ctx->args[5];
}

/* sys_exit half: takes this thread's in-flight call of `type` into *out.
 * False when there is none (vigil started mid-call, or no storage). */
static __always_inline int vg_exit_take(__u16 type, struct vg_args *out, int count_missing) {
  struct vg_args *p = bpf_task_storage_get(&vg_pending, bpf_get_current_task_btf(), 0, 0);
  if (!p || p->type == 0) {
    if (count_missing) vg_count(VG_C_EXIT_UNPAIRED);
    return 0;
  }
  int ok = p->type == type;
  if (ok) __builtin_memcpy(out, p, sizeof(*out));
  else vg_count(VG_C_EXIT_UNPAIRED); /* stale entry from a call whose exit we never saw */
  p->type = 0;
  return ok;
}

static __always_inline __u64 vg_read_caps(const kernel_cap_t *cap) {
  /* kernel_cap_t is a u64 since 6.3 and u32[2] (same bytes, little endian)
   * before (commit f122a08b197d "capability: just use a 'u64' instead of a
   * 'u32[2]' array"): read 8 raw bytes either way. */
  __u64 v = 0;
  bpf_probe_read_kernel(&v, sizeof(v), cap);
  return v;
}

/* Fills the common header from the current task. The task comes from
 * bpf_get_current_task_btf(), so its fields are read by direct (BTF-typed,
 * fault-safe) loads instead of one bpf_probe_read_kernel call each: this runs
 * for every record, and the helper calls were most of its cost. */
static __always_inline void vg_fill_hdr(struct vg_hdr *h, __u16 kind, __u16 type, __u32 size) {
  struct task_struct *t = bpf_get_current_task_btf();

  h->size = size;
  h->kind = kind;
  h->type = type;
  h->ts_ns = bpf_ktime_get_boot_ns();
  /* what bpf_get_current_pid_tgid/uid_gid/comm return, by direct loads: the
   * ids in the initial namespaces are the kernel's own (kuid_t.val) */
  h->pid = t->tgid;
  h->tid = t->pid;
  h->abi_version = VG_ABI_VERSION;
  h->ppid = t->real_parent->tgid;

  const struct cred *cred = t->cred;
  h->uid = cred->uid.val;
  h->gid = cred->gid.val;
  h->euid = cred->euid.val;
  h->egid = cred->egid.val;
  if (bpf_core_field_exists(cred->cap_effective.val)) { /* 6.3+: a u64, read directly */
    h->cap_effective = cred->cap_effective.val;
    h->cap_permitted = cred->cap_permitted.val;
  } else {
    h->cap_effective = vg_read_caps(&cred->cap_effective);
    h->cap_permitted = vg_read_caps(&cred->cap_permitted);
  }
  h->ns_user = cred->user_ns->ns.inum;
  if (bpf_core_field_exists(t->loginuid))
    h->loginuid = t->loginuid.val;
  else
    h->loginuid = 0xffffffffu;

  struct task_struct *leader = t->group_leader;
  h->start_ns = leader->start_boottime;
  struct pid *tp = leader->thread_pid;
  unsigned int level = tp->level;
  h->pidns_level = level;
  if (level == 0) { /* the initial pid namespace: a constant index, direct loads */
    h->vpid = tp->numbers[0].nr;
    h->ns_pid = tp->numbers[0].ns->ns.inum;
  } else {
    struct upid up = {};
    bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]); /* variable index: not a direct load */
    h->vpid = up.nr;
    h->ns_pid = BPF_CORE_READ(up.ns, ns.inum);
  }

  struct nsproxy *nsp = t->nsproxy;
  if (nsp) {
    h->ns_mnt = nsp->mnt_ns->ns.inum;
    h->ns_net = nsp->net_ns->ns.inum;
    h->ns_uts = nsp->uts_ns->ns.inum;
    h->ns_ipc = nsp->ipc_ns->ns.inum;
    h->ns_cgroup = nsp->cgroup_ns->ns.inum;
  } else {
    /* exiting task: nsproxy already released */
    h->ns_mnt = h->ns_net = h->ns_uts = h->ns_ipc = h->ns_cgroup = 0;
  }
  h->cgroup_id = bpf_get_current_cgroup_id();
  /* comm as two 8-byte loads (a concurrent rename may tear it; the decoder
   * bounds it by its size, NUL or not) */
  __u64 comm0 = *(const __u64 *)&t->comm[0];
  __u64 comm1 = *(const __u64 *)&t->comm[8];
  __builtin_memcpy(&h->comm[0], &comm0, 8);
  __builtin_memcpy(&h->comm[8], &comm1, 8);

  /* controlling terminal, encoded like tty_nr in /proc/PID/stat (Falco's
   * proc.tty): device MKDEV(driver major, minor_start + index) in the kernel's
   * new_encode_dev() form */
  h->tty = 0;
  h->pad = 0;
  struct tty_struct *tty = t->signal->tty;
  if (tty) {
    struct tty_driver *drv = tty->driver;
    __u32 major = drv->major;
    __u32 minor = drv->minor_start + tty->index;
    h->tty = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
  }
}

struct vg_walk_ctx {
  char *names;  /* name n goes to names + off */
  __u32 off;    /* bytes used from `names` */
  __u32 stride; /* fixed slots of this many bytes (struct vg_chain); 0: packed, each name right after the last NUL */
  __u16 depth;
  __u16 flags; /* VG_CHAIN_* */
  __u32 pad;
  struct dentry *d;
  struct dentry *root; /* mnt_root of the mount being walked */
  struct mount *mnt;
};

/* One step of the walk (a bpf_loop callback, so the verifier checks it once
 * rather than once per unrolled step). Three helper calls per name: parent,
 * name pointer, name bytes. */
static long vg_walk_step(__u32 i, void *arg) {
  struct vg_walk_ctx *w = arg;
  struct dentry *d = w->d;
  struct mount *mnt = w->mnt;
  if (d == w->root) {
    struct mount *pm = BPF_CORE_READ(mnt, mnt_parent);
    if (pm == mnt || !pm) {
      w->flags |= VG_CHAIN_COMPLETE;
      return 1;
    }
    w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = pm;
    w->root = BPF_CORE_READ(pm, mnt.mnt_root);
    return 0;
  }
  /* d_parent and d_name.name in one read when this kernel lays them out
   * within 24 bytes of each other (every kernel vigil supports does: d_parent
   * is followed by the d_name qstr); else two reads. */
  struct dentry *parent;
  const unsigned char *name;
  __u32 off_parent = bpf_core_field_offset(struct dentry, d_parent);
  __u32 off_name = bpf_core_field_offset(struct dentry, d_name.name);
  if (off_name > off_parent && off_name - off_parent <= 16 && ((off_name - off_parent) & 7) == 0) {
    __u64 window[3] = {};
    if (bpf_probe_read_kernel(window, sizeof(window), (const char *)d + off_parent) < 0) {
      vg_count(VG_C_READ_DENTRY);
      return 1;
    }
    parent = (struct dentry *)window[0];
    name = (const unsigned char *)window[((off_name - off_parent) >> 3) & 3];
  } else {
    parent = BPF_CORE_READ(d, d_parent);
    name = BPF_CORE_READ(d, d_name.name);
  }
  /* d == parent: a pseudo file (memfd, pipe, socket) or a detached tree,
   * named by its own dentry: take the name, then stop. */
  int last = d == parent || !parent;
  __u32 n = w->depth;
  __u32 off = w->off;
  if (n >= VG_CHAIN_DEPTH || off > VG_NAMES_MAX - VG_NAME_LEN) return 1;
  long got = bpf_probe_read_kernel_str(w->names + off, VG_NAME_LEN, name);
  if (got <= 0) {
    vg_count(VG_C_READ_DENTRY);
    return 1;
  }
  /* a name that filled the slot may have been cut: only then read its length */
  if (got >= VG_NAME_LEN && BPF_CORE_READ(d, d_name.len) >= VG_NAME_LEN) w->flags |= VG_CHAIN_NAME_CUT;
  w->off = off + (w->stride ? w->stride : (__u32)got);
  w->depth = n + 1;
  w->d = parent;
  if (last) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  return 0;
}

/* Walks `path` (a kernel struct path *) up to the root, crossing mounts,
 * writing the names from `w->names` (depth, flags and off start at 0). */
static __always_inline void vg_walk_path_into(struct vg_walk_ctx *w, const struct path *path) {
  struct path p = {};
  bpf_probe_read_kernel(&p, sizeof(p), path); /* mnt and dentry in one read */
  struct vfsmount *vm = p.mnt;
  w->d = p.dentry;
  w->mnt = container_of(vm, struct mount, mnt);
  if (!w->d || !vm) return;
  w->root = BPF_CORE_READ(vm, mnt_root);
  /* mount crossings take a step each, hence the slack over the depth */
  bpf_loop(VG_CHAIN_DEPTH + 8, vg_walk_step, w, 0);
}

/* Into a fixed-slot chain (exec records). */
static __always_inline void vg_walk_path(struct vg_chain *c, const struct path *path) {
  struct vg_walk_ctx w = {};
  w.names = c->comp[0];
  w.stride = VG_NAME_LEN;
  vg_walk_path_into(&w, path);
  c->depth = w.depth;
  c->flags = w.flags;
}

static __always_inline const struct path *vg_cwd_path(void) {
  struct task_struct *t = bpf_get_current_task_btf();
  struct fs_struct *fs = t->fs;
  return fs ? &fs->pwd : 0;
}

static __always_inline void vg_walk_cwd(struct vg_chain *c) {
  c->depth = 0;
  c->flags = 0;
  const struct path *pwd = vg_cwd_path();
  if (pwd) vg_walk_path(c, pwd);
}

/* The struct file of descriptor `fd` of the current task, or NULL. The fd
 * table is reached by direct BTF loads; the slot itself (a variable index)
 * by one read. */
static __always_inline struct file *vg_fd_file(int fd) {
  if (fd < 0) return 0;
  struct task_struct *t = bpf_get_current_task_btf();
  struct files_struct *files = t->files;
  if (!files) return 0;
  struct fdtable *fdt = files->fdt;
  if (!fdt) return 0;
  if ((unsigned int)fd >= fdt->max_fds) return 0;
  struct file **fda = fdt->fd;
  struct file *f = 0;
  bpf_probe_read_kernel(&f, sizeof(f), &fda[fd]);
  return f;
}

/* Packed names into a file record's tail at *off (see struct vg_file):
 * the chain of `path` (NULL: none) into `hd`, *off advanced past them. */
static __always_inline void vg_tail_walk(struct vg_file *f, __u32 *off, struct vg_names *hd, const struct path *path) {
  hd->depth = 0;
  hd->flags = 0;
  hd->len = 0;
  hd->pad = 0;
  __u32 o = *off;
  if (!path || o > VG_FILE_TAIL_MAX - VG_NAMES_MAX) return;
  struct vg_walk_ctx w = {};
  w.names = &f->tail[o];
  vg_walk_path_into(&w, path);
  __u32 used = w.off;
  if (used > VG_NAMES_MAX) used = VG_NAMES_MAX;
  hd->depth = w.depth;
  hd->flags = w.flags;
  hd->len = used;
  *off = o + used;
}

/* The base of a path given relative to `dirfd`, starting at tail byte
 * `path_at`: nothing when the path is absolute (first byte '/') or absent. */
static __always_inline void vg_tail_walk_base(struct vg_file *f, __u32 *off, struct vg_names *hd, int dirfd,
                                              __u32 path_at, __u32 path_len) {
  const struct path *base = 0;
  if (path_len > 0 && path_at < VG_FILE_TAIL_MAX && f->tail[path_at] != '/') {
    if (dirfd == VG_AT_FDCWD) {
      base = vg_cwd_path();
    } else {
      struct file *file = vg_fd_file(dirfd);
      if (file) base = &file->f_path;
    }
  }
  vg_tail_walk(f, off, hd, base);
}

/* A user string (at most VG_PATH_LEN bytes with its NUL) appended to the
 * tail at *off; returns its length with the NUL, 0 when absent (NULL) or
 * unreadable (counted). The mount fstype is read inline in file.bpf.h:
 * with the size made a parameter so the fstype could use this helper too,
 * the 6.1 and 6.12 verifiers refused every file program (vm_capture_load;
 * the host's 6.18 accepted them). */
static __always_inline __u16 vg_tail_user_str(struct vg_file *f, __u32 *off, const void *src) {
  __u32 o = *off;
  if (!src || o > VG_FILE_TAIL_MAX - VG_PATH_LEN) return 0;
  long n = bpf_probe_read_user_str(&f->tail[o], VG_PATH_LEN, src);
  if (n <= 0 || n > VG_PATH_LEN) {
    vg_count(VG_C_READ_PATH);
    return 0;
  }
  *off = o + n;
  return n;
}

static __always_inline void vg_read_user_path(char *dst, const void *src) {
  dst[0] = 0;
  if (!src) return;
  if (bpf_probe_read_user_str(dst, VG_PATH_LEN, src) < 0) {
    dst[0] = 0;
    vg_count(VG_C_READ_PATH);
  }
}

/* The socket behind `file`, or NULL when it is not a socket. */
static __always_inline struct sock *vg_file_sock(struct file *f) {
  if (!f) return 0;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & VG_S_IFMT) != VG_S_IFSOCK) return 0;
  struct socket *so = BPF_CORE_READ(f, private_data);
  if (!so) return 0;
  return BPF_CORE_READ(so, sk);
}

/* Endpoints, type and protocol of a kernel socket. */
static __always_inline void vg_read_sock(struct vg_sock *s, struct sock *sk) {
  if (!sk) return;
  s->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  s->type = BPF_CORE_READ(sk, sk_type);
  s->protocol = BPF_CORE_READ(sk, sk_protocol);
  if (s->family == VG_AF_INET) {
    __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(s->laddr, &l, 4);
    __builtin_memcpy(s->raddr, &r, 4);
  } else if (s->family == VG_AF_INET6) {
    BPF_CORE_READ_INTO(&s->laddr, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(&s->raddr, sk, __sk_common.skc_v6_daddr);
  }
  if (s->family == VG_AF_INET || s->family == VG_AF_INET6) {
    s->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
    s->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
  } else if (s->family == VG_AF_UNIX) {
    struct unix_sock *us = (struct unix_sock *)sk;
    struct unix_address *ua = BPF_CORE_READ(us, addr);
    if (ua) {
      int len = BPF_CORE_READ(ua, len);
      len -= 2; /* sun_family */
      if (len > VG_UNIX_PATH_LEN) len = VG_UNIX_PATH_LEN;
      if (len > 0) {
        s->unix_len = len;
        bpf_probe_read_kernel(s->unix_path, sizeof(s->unix_path), &ua->name[0].sun_path);
      }
    }
  }
}

/* Parses a user sockaddr into the remote (remote != 0) or local endpoint. */
static __always_inline void vg_read_user_sockaddr(struct vg_sock *s, const void *uaddr, int addrlen, int remote) {
  if (!uaddr || addrlen < 2) return;
  __u16 family = 0;
  if (bpf_probe_read_user(&family, sizeof(family), uaddr) < 0) {
    vg_count(VG_C_READ_SOCKADDR);
    return;
  }
  s->family = family;
  if (family == VG_AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
    struct sockaddr_in in = {};
    if (bpf_probe_read_user(&in, sizeof(in), uaddr) < 0) {
      vg_count(VG_C_READ_SOCKADDR);
      return;
    }
    __builtin_memcpy(remote ? s->raddr : s->laddr, &in.sin_addr.s_addr, 4);
    if (remote)
      s->rport = __builtin_bswap16(in.sin_port);
    else
      s->lport = __builtin_bswap16(in.sin_port);
  } else if (family == VG_AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 in6 = {};
    if (bpf_probe_read_user(&in6, sizeof(in6), uaddr) < 0) {
      vg_count(VG_C_READ_SOCKADDR);
      return;
    }
    __builtin_memcpy(remote ? s->raddr : s->laddr, &in6.sin6_addr, 16);
    if (remote)
      s->rport = __builtin_bswap16(in6.sin6_port);
    else
      s->lport = __builtin_bswap16(in6.sin6_port);
  } else if (family == VG_AF_UNIX) {
    int len = addrlen - 2;
    if (len > VG_UNIX_PATH_LEN) len = VG_UNIX_PATH_LEN;
    if (len > 0) {
      s->unix_len = len;
      if (bpf_probe_read_user(s->unix_path, len & 0x7f, (const char *)uaddr + 2) < 0) vg_count(VG_C_READ_SOCKADDR);
    }
  }
}

static __always_inline void vg_zero_sock(struct vg_sock *s) {
  __builtin_memset(s, 0, sizeof(*s));
}

/* The current thread's syscall arguments, read at sys_exit from the user
 * registers the kernel saved at syscall entry (x86-64: rdi, rsi, rdx, r10,
 * r8, r9): the values the syscall itself was given (after any change by a
 * ptrace tracer at the entry stop, as the syscall saw them). The kernel does
 * not write these registers back during a call; execve replaces them, which
 * is why exec pairs its enter and exit halves instead. Compat (32-bit)
 * syscalls do not fire the syscalls/ tracepoints on x86-64 at all. */
static __always_inline void vg_regs_args(struct vg_args *a, int nargs) {
  struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  a->type = 0;
  a->a[0] = nargs > 0 ? r->di : 0;
  a->a[1] = nargs > 1 ? r->si : 0;
  a->a[2] = nargs > 2 ? r->dx : 0;
  a->a[3] = nargs > 3 ? r->r10 : 0;
  a->a[4] = nargs > 4 ? r->r8 : 0;
  a->a[5] = nargs > 5 ? r->r9 : 0;
}

/* Declares one sys_exit program for the call, whose body sees `a` (struct
 * vg_args *: the arguments, from vg_regs_args) and `ret`. No sys_enter half:
 * one tracepoint program per call instead of two, no per-thread slot to fill
 * and take, and a call already in flight when vigil starts is still seen
 * whole. */
#define VG_SYSCALL(name, TYPE, NARGS)                                        \
  static __always_inline void vg_on_##name(const struct vg_args *a, long ret); \
  SEC("tracepoint/syscalls/sys_exit_" #name)                               \
  int vg_exit_##name(struct trace_event_raw_sys_exit *ctx) {               \
    struct vg_args a;                                                      \
    vg_regs_args(&a, NARGS);                                               \
    vg_on_##name(&a, ctx->ret);                                            \
    return 0;                                                              \
  }                                                                        \
  static __always_inline void vg_on_##name(const struct vg_args *a, long ret)

/* The sys_exit half of a call paired through vg_pending (calls whose enter
 * half filters in the kernel, so most exits have no enter half by design:
 * COUNT_MISSING 0). */
#define VG_SYS_EXIT(name, TYPE, COUNT_MISSING)                              \
  static __always_inline void vg_on_##name(const struct vg_args *a, long ret); \
  SEC("tracepoint/syscalls/sys_exit_" #name)                               \
  int vg_exit_##name(struct trace_event_raw_sys_exit *ctx) {               \
    struct vg_args a;                                                      \
    if (!vg_exit_take(TYPE, &a, COUNT_MISSING)) return 0;                                 \
    vg_on_##name(&a, ctx->ret);                                            \
    return 0;                                                              \
  }                                                                        \
  static __always_inline void vg_on_##name(const struct vg_args *a, long ret)

