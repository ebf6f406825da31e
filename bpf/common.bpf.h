/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared BPF-side pieces: maps (ring buffer, counters, enter/exit pairing),
 * the common record header, dentry-chain walks and socket readers.
 * Included once, by vigil.bpf.c. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/maps.bpf.h"
#include "vigil_abi.h"

#define VG_AT_FDCWD -100
#define VG_AT_EMPTY_PATH 0x1000
#define VG_AF_UNIX 1
#define VG_AF_INET 2
#define VG_AF_INET6 10
#define VG_S_IFMT 00170000
#define VG_S_IFSOCK 0140000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Three builds of this object (bpf/CMakeLists.txt). VG_RDONLY_CAST: Linux 6.2+,
 * whose bpf_rdonly_cast kfunc (inlined by the verifier to a register move)
 * types any address as a read-only BTF pointer, so a descriptor in a grown fd
 * table and the parents of a mount are reached by direct loads. Without it
 * (the compat build, for 5.17-6.1), those go through helper reads.
 * VG_LEGACY (the legacy build, 5.8-5.16): no bpf_loop (5.17), no
 * bpf_get_current_task_btf (5.11), no task-local storage (5.11), no
 * bpf_task_pt_regs (5.15). Every kernel read is a helper read (VG_LD), walks
 * are bounded loops, paired calls use a hash keyed by thread, and a call's
 * saved registers are found from the task's stack. */
#ifdef VG_LEGACY
#define VG_TASK() ((struct task_struct *)bpf_get_current_task())
/* `VG_LD(p, a, b)` is p->a->b: a helper read per step here, a direct load in
 * the BTF-typed builds */
#define VG_LD(...) BPF_CORE_READ(__VA_ARGS__)
#else
#define VG_TASK() bpf_get_current_task_btf()
#define VG_LD(...) (___arrow(__VA_ARGS__))
#endif

#ifdef VG_RDONLY_CAST
extern void *bpf_rdonly_cast(void *obj, __u32 btf_id) __ksym;
#define VG_CAST(type, addr) ((type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)))
#endif

/* Ring buffer size, set by the loader before load (power of two, pages). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024);
} vg_events SEC(".maps");

VG_PERCPU_ARRAY(vg_counters, VG_C_MAX, __u64);

/* The priority lane (docs/capture.md): security-relevant records (process
 * lifecycle, bpf(), modules, ptrace, the set*id family, mount and namespace
 * changes, opens of a priority path) go to a ring of their own, so a flood of
 * bulk opens that fills vg_events cannot make them drop. Sized by the loader
 * (capture.priority_ringbuf_kb); vg_lane_on is 0 when that is 0 (the ring is
 * then left at its smallest and never written: the verifier prunes the
 * branch). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 512 * 1024);
} vg_events_hi SEC(".maps");

const volatile __u32 vg_lane_on = 1;

/* capture.priority_paths, filled by the loader (struct vg_prio_key). */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, VG_PRIO_PATHS_MAX);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct vg_prio_key);
  __type(value, __u8);
} vg_prio_paths SEC(".maps");

VG_PERCPU_ARRAY(vg_lane_counts, VG_L_MAX, __u64);

/* The lookup key, built per CPU (68 bytes: kept off the 512-byte stack that
 * the callers already use for their own scratch pointers and arguments). */
VG_PERCPU_ARRAY(vg_prio_scratch, 1, struct vg_prio_key);

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

#ifdef VG_LEGACY
/* before 5.11 (no task storage): keyed by pid_tgid, taken out at sys_exit and
 * at thread exit; LRU so a thread that died mid-call cannot fill it */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct vg_args);
} vg_pending SEC(".maps");
#else
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct vg_args);
} vg_pending SEC(".maps");
#endif

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
  __u16 hflags; /* VG_HF_COMPAT / VG_HF_ADDR32 of the execve call */
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
VG_PERCPU_ARRAY(vg_scratch, 1, union vg_record);

VG_PERCPU_ARRAY(vg_exec_scratch, 1, struct vg_exec);

static __always_inline void vg_count(__u32 site) {
  __u64 *v = bpf_map_lookup_elem(&vg_counters, &site);
  if (v) *v += 1;
}

/* Interest filter (engine/interest.h, docs/capture.md): bit (type - 1) % 64
 * of word (type - 1) / 64 of vg_interest set = events of that vg_type are
 * sent. Every bit is set at load, so `vigil events` and any sensor nobody
 * narrows send everything. The loader narrows it with one aligned 64-bit
 * store per word into this object's mmapped .data (first the union of the
 * old and new sets, then the new set, so no type both need is ever off). It
 * is checked at the top of each capture program, before the arguments, user
 * strings and dentry names are read and before the ring buffer write: the
 * type is a constant there, so the word is one load at a fixed offset. */
volatile __u64 vg_interest[VG_INTEREST_WORDS] = {~0ull, ~0ull};
_Static_assert(VG_T_MAX - 1 <= 64 * VG_INTEREST_WORDS, "vg_interest holds one bit per event type");
/* Environment capture at exec (proc.env): 1 = an exec record carries the new
 * image's environment (VG_ENV_LEN bytes at most). On at load, so `vigil
 * events` records it; the loader turns it off unless a loaded rule or output
 * reads proc.env (engine/interest.h). One aligned 32-bit word, read once per
 * exec. */
volatile __u32 vg_want_env = 1;
/* Payload capture (evt.buffer): 1 = the send/recv family's records carry the
 * first VG_DATA_LEN bytes of the data. On at load, like vg_want_env; the
 * loader turns it off unless a loaded rule reads evt.buffer
 * (engine/interest.h). Read once per data call. */
volatile __u32 vg_want_data = 1;
/* The agent's own tgid: its events pass whatever the mask (its capture
 * heartbeat opens a path no rule needs to see). 0: none. */
volatile __u32 vg_self_tgid = 0;

/* Per type (index = enum vg_type): events that passed the filter (sent to
 * the ring buffer; a full ring still counts in ringbuf_drop) and events it
 * left in the kernel. */
VG_PERCPU_ARRAY(vg_filter_counts, VG_T_MAX, struct vg_filter_count);

static __always_inline int vg_interested(__u16 type) {
  int want = (vg_interest[((__u32)(type - 1) >> 6) & (VG_INTEREST_WORDS - 1)] >> ((type - 1) & 63)) & 1;
  if (!want && vg_self_tgid != 0 && (__u32)(bpf_get_current_pid_tgid() >> 32) == vg_self_tgid) want = 1;
  __u32 key = type;
  struct vg_filter_count *c = bpf_map_lookup_elem(&vg_filter_counts, &key);
  if (c) {
    if (want)
      c->sent += 1;
    else
      c->filtered += 1;
  }
  return want;
}

/* dup, dup2, dup3 are filtered on their result first (only new fds 0-2 are
 * events at all): vg_dup asks vg_interested() after that, so the counts are
 * of events that would have been sent. */
#define VG_FILTER_AT_TOP(TYPE) ((TYPE) != VG_T_DUP && (TYPE) != VG_T_DUP2 && (TYPE) != VG_T_DUP3)

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
/* The priority ring wakes its consumer sooner: it is small, and what it
 * carries is what an alert waits for. */
#define VG_WAKEUP_BYTES_HI (64 * 1024)

/* Record types that always take the priority lane: the rows of
 * vigil_events.def with VG_EF_PRIO (the process lifecycle, which the engine's
 * process table is built from; bpf(), modules, ptrace and process_vm_writev,
 * the set*id family and capset, mount, namespace changes, memfd_create), as
 * two constant words: bit (type - 1) % 64 of word (type - 1) / 64. */
#define VG_PRIO_BIT(num, families, word) \
  ((((families) & VG_EF_PRIO) && ((num) - 1) / 64 == (word)) ? 1ull << (((num) - 1) % 64) : 0ull)
static __always_inline int vg_prio_type(__u16 type) {
  const __u64 lo = 0
#define VG_EVENT(num, TYPE, name, kind, hook, families) | VG_PRIO_BIT(num, families, 0)
#include "vigil_events.def"
      ;
  const __u64 hi = 0
#define VG_EVENT(num, TYPE, name, kind, hook, families) | VG_PRIO_BIT(num, families, 1)
#include "vigil_events.def"
      ;
  __u32 bit = (__u32)type - 1;
  if (type == 0 || bit >= 128) return 0;
  return ((bit < 64 ? lo : hi) >> (bit & 63)) & 1;
}

static __always_inline void vg_emit_lane(void *rec, __u64 size, int hi) {
  if (vg_lane_on && hi) {
    __u64 before = bpf_ringbuf_query(&vg_events_hi, BPF_RB_AVAIL_DATA);
    __u64 after = before + size + VG_RINGBUF_HDR;
    __u64 flags = before / VG_WAKEUP_BYTES_HI != after / VG_WAKEUP_BYTES_HI ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
    if (bpf_ringbuf_output(&vg_events_hi, rec, size, flags) != 0) {
      vg_count(VG_C_PRIO_DROP);
    } else {
      __u32 key = VG_L_PRIO_RECEIVED;
      __u64 *v = bpf_map_lookup_elem(&vg_lane_counts, &key);
      if (v) *v += 1;
    }
    return;
  }
  __u64 before = bpf_ringbuf_query(&vg_events, BPF_RB_AVAIL_DATA);
  __u64 after = before + size + VG_RINGBUF_HDR;
  __u64 flags = before / VG_WAKEUP_BYTES != after / VG_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&vg_events, rec, size, flags) != 0) vg_count(VG_C_RINGBUF_DROP);
}

/* A record whose lane follows from its type alone. */
static __always_inline void vg_emit(void *rec, __u64 size) {
  vg_emit_lane(rec, size, vg_prio_type(((struct vg_hdr *)rec)->type));
}

/* `v` (a 64-bit variable) made at most `max`, with the compare and the use
 * in one register: clang may otherwise test a copy (or the 32-bit half) and
 * use the original, a bound older verifiers (6.1) do not carry over. */
#define VG_CLAMP(v, max) asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(v) : "i"(max))

/* A file record: its head and the used part of its tail (vigil_abi.h). */
/* An open of a priority path (capture.priority_paths): the path as given,
 * its first VG_PRIO_PATH_LEN bytes looked up in the LPM trie (exact entries
 * carry their NUL, so bytes after it never matter; a relative path does not
 * match). */
static __always_inline int vg_prio_open(struct vg_file *f) {
  __u16 t = f->hdr.type;
  if (t != VG_T_OPEN && t != VG_T_OPENAT && t != VG_T_OPENAT2 && t != VG_T_CREAT) return 0;
  if (f->path_len == 0 || f->tail[0] != '/') return 0;
  __u32 zero = 0;
  struct vg_prio_key *k = bpf_map_lookup_elem(&vg_prio_scratch, &zero);
  if (!k) return 0;
  k->prefixlen = VG_PRIO_PATH_LEN * 8;
  __builtin_memcpy(k->path, f->tail, VG_PRIO_PATH_LEN);
  return bpf_map_lookup_elem(&vg_prio_paths, k) != 0;
}

static __always_inline void vg_emit_file(struct vg_file *f, __u32 tail_used) {
  __u64 size = (__u64)tail_used + VG_FILE_HEAD_SIZE;
  VG_CLAMP(size, sizeof(struct vg_file));
  f->hdr.size = size;
  vg_emit_lane(f, size, vg_lane_on && (vg_prio_type(f->hdr.type) || vg_prio_open(f)));
}

/* sys_enter half: remembers the call's type and arguments. */
/* Reads exactly `nargs` arguments: a syscall tracepoint's record only holds
 * the call's own arguments, and attaching a program that reads past it fails
 * with EACCES (max_ctx_offset). */
static __always_inline void vg_enter(__u16 type, struct trace_event_raw_sys_enter *ctx, int nargs) {
#ifdef VG_LEGACY
  __u64 id = bpf_get_current_pid_tgid();
  struct vg_args *a = bpf_map_lookup_elem(&vg_pending, &id);
  if (!a) {
    struct vg_args zero = {};
    bpf_map_update_elem(&vg_pending, &id, &zero, BPF_NOEXIST);
    a = bpf_map_lookup_elem(&vg_pending, &id);
  }
#else
  struct vg_args *a =
      bpf_task_storage_get(&vg_pending, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
#endif
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
#ifdef VG_LEGACY
  __u64 id = bpf_get_current_pid_tgid();
  struct vg_args *p = bpf_map_lookup_elem(&vg_pending, &id);
#else
  struct vg_args *p = bpf_task_storage_get(&vg_pending, bpf_get_current_task_btf(), 0, 0);
#endif
  if (!p || p->type == 0) {
    if (count_missing) vg_count(VG_C_EXIT_UNPAIRED);
    return 0;
  }
  int ok = p->type == type;
  if (ok) __builtin_memcpy(out, p, sizeof(*out));
  else vg_count(VG_C_EXIT_UNPAIRED); /* stale entry from a call whose exit we never saw */
  p->type = 0;
#ifdef VG_LEGACY
  bpf_map_delete_elem(&vg_pending, &id);
#endif
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

/* x86-64: thread_info.status bit the ia32 syscall entry sets for the call
 * (arch/x86/include/asm/thread_info.h; cleared on the way back to user mode,
 * after the sys_exit tracepoint). in_ia32_syscall() tests it. */
#define VG_TS_COMPAT 0x0002

/* True while the current task is in a 32-bit (compat) syscall. A kernel
 * without thread_info.status (not x86-64) never is. */
static __always_inline int vg_in_compat(struct task_struct *t) {
  if (!bpf_core_field_exists(t->thread_info.status)) return 0;
  return (VG_LD(t, thread_info.status) & VG_TS_COMPAT) != 0;
}

/* hdr.flags for a record made in the current call: VG_HF_COMPAT (and
 * VG_HF_ADDR32 for an i386 image, 4 GiB address space) in a compat call. */
static __always_inline __u32 vg_compat_hflags(struct task_struct *t) {
  if (!vg_in_compat(t)) return 0;
  struct mm_struct *mm = VG_LD(t, mm);
  return VG_HF_COMPAT | (mm && VG_LD(mm, task_size) <= 0x100000000ull ? VG_HF_ADDR32 : 0);
}

/* The credentials: ids in the initial namespaces, capabilities, user
 * namespace and login uid. */
static __always_inline void vg_hdr_creds(struct vg_hdr *h, struct task_struct *t) {
  const struct cred *cred = VG_LD(t, cred);
  h->uid = VG_LD(cred, uid.val);
  h->gid = VG_LD(cred, gid.val);
  h->euid = VG_LD(cred, euid.val);
  h->egid = VG_LD(cred, egid.val);
  if (bpf_core_field_exists(cred->cap_effective.val)) { /* 6.3+: a u64, read directly */
    h->cap_effective = VG_LD(cred, cap_effective.val);
    h->cap_permitted = VG_LD(cred, cap_permitted.val);
  } else {
    h->cap_effective = vg_read_caps(&cred->cap_effective);
    h->cap_permitted = vg_read_caps(&cred->cap_permitted);
  }
  h->ns_user = VG_LD(cred, user_ns, ns.inum);
  if (bpf_core_field_exists(t->loginuid))
    h->loginuid = VG_LD(t, loginuid.val);
  else
    h->loginuid = 0xffffffffu;
}

/* The process start time and its pid in its own pid namespace. */
static __always_inline void vg_hdr_pidns(struct vg_hdr *h, struct task_struct *t) {
  struct task_struct *leader = VG_LD(t, group_leader);
  h->start_ns = VG_LD(leader, start_boottime);
  struct pid *tp = VG_LD(leader, thread_pid);
  unsigned int level = VG_LD(tp, level);
  h->pidns_level = level;
  if (level == 0) { /* the initial pid namespace: a constant index, direct loads */
    h->vpid = VG_LD(tp, numbers[0].nr);
    h->ns_pid = VG_LD(tp, numbers[0].ns, ns.inum);
  } else {
    struct upid up = {};
    bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level & 31]); /* variable index: not a direct load */
    h->vpid = up.nr;
    h->ns_pid = BPF_CORE_READ(up.ns, ns.inum);
  }
}

/* The namespace inode numbers and the cgroup v2 id. */
static __always_inline void vg_hdr_ns(struct vg_hdr *h, struct task_struct *t) {
  struct nsproxy *nsp = VG_LD(t, nsproxy);
  if (nsp) {
    h->ns_mnt = VG_LD(nsp, mnt_ns, ns.inum);
    h->ns_net = VG_LD(nsp, net_ns, ns.inum);
    h->ns_uts = VG_LD(nsp, uts_ns, ns.inum);
    h->ns_ipc = VG_LD(nsp, ipc_ns, ns.inum);
    h->ns_cgroup = VG_LD(nsp, cgroup_ns, ns.inum);
  } else {
    /* exiting task: nsproxy already released */
    h->ns_mnt = h->ns_net = h->ns_uts = h->ns_ipc = h->ns_cgroup = 0;
  }
  /* what bpf_get_current_cgroup_id() returns (the cgroup v2 id), by direct loads */
  struct cgroup *cg = VG_LD(t, cgroups, dfl_cgrp);
  h->cgroup_id = cg ? VG_LD(cg, kn, id) : 0;
}

static __always_inline void vg_hdr_comm(struct vg_hdr *h, struct task_struct *t) {
#ifdef VG_LEGACY
  (void)t;
  bpf_get_current_comm(h->comm, sizeof(h->comm));
#else
  /* comm as two 8-byte loads (a concurrent rename may tear it; the decoder
   * bounds it by its size, NUL or not) */
  __u64 comm0 = *(const __u64 *)&t->comm[0];
  __u64 comm1 = *(const __u64 *)&t->comm[8];
  __builtin_memcpy(&h->comm[0], &comm0, 8);
  __builtin_memcpy(&h->comm[8], &comm1, 8);
#endif
}

/* The controlling terminal, encoded like tty_nr in /proc/PID/stat (Falco's
 * proc.tty): device MKDEV(driver major, minor_start + index) in the kernel's
 * new_encode_dev() form */
static __always_inline void vg_hdr_tty(struct vg_hdr *h, struct task_struct *t) {
  h->tty = 0;
  h->pad = 0;
  struct tty_struct *tty = VG_LD(t, signal, tty);
  if (tty) {
    struct tty_driver *drv = VG_LD(tty, driver);
    __u32 major = VG_LD(drv, major);
    __u32 minor = VG_LD(drv, minor_start) + VG_LD(tty, index);
    h->tty = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
  }
}

/* Fills the common header from the current task. The task comes from
 * bpf_get_current_task_btf(), so its fields are read by direct (BTF-typed,
 * fault-safe) loads instead of one bpf_probe_read_kernel call each: this runs
 * for every record, and the helper calls were most of its cost. */
static __always_inline void vg_fill_hdr(struct vg_hdr *h, __u16 kind, __u16 type, __u32 size) {
  struct task_struct *t = VG_TASK();

  h->size = size;
  h->kind = kind;
  h->type = type;
  h->ts_ns = bpf_ktime_get_boot_ns();
  /* what bpf_get_current_pid_tgid/uid_gid/comm return, by direct loads: the
   * ids in the initial namespaces are the kernel's own (kuid_t.val) */
  h->pid = VG_LD(t, tgid);
  h->tid = VG_LD(t, pid);
  h->abi_version = VG_ABI_VERSION;
  h->flags = vg_compat_hflags(t);
  h->ppid = VG_LD(t, real_parent, tgid);
  vg_hdr_creds(h, t);
  vg_hdr_pidns(h, t);
  vg_hdr_ns(h, t);
  vg_hdr_comm(h, t);
  vg_hdr_tty(h, t);
}

/* A dentry's inline name storage: d_iname until 6.14, d_shortname after.
 * Names shorter than VG_DNAME_INLINE bytes are kept there unless a rename
 * moved an external name in, so it is checked, not assumed. */
struct dentry___iname {
  unsigned char d_iname[32];
} __attribute__((preserve_access_index));
#define VG_DNAME_INLINE 32 /* the inline size on every kernel vigil supports (40 from 6.14) */

/* A path walk, from a file up to the root. It runs typed while it can: the
 * dentry and vfsmount are BTF pointers, read by direct loads (no helper
 * call). A mount crossing needs the struct mount around the vfsmount, which
 * BTF cannot reach on older kernels (container_of is a negative offset), so
 * from the first crossing on the walk reads with helpers ("raw"). The walk
 * stops at the root of the process's root mount: for a process on the host
 * that is the root filesystem's root, for one in a container the container's
 * root; a process chrooted into a plain directory still gets the whole path
 * from its mount's root. */
struct vg_walk_ctx {
  char *names;  /* name n goes to names + off */
  __u32 off;    /* bytes used from `names` */
  __u32 stride; /* fixed slots of this many bytes (struct vg_chain); 0: packed, each name right after the last NUL */
  __u16 depth;
  __u16 flags; /* VG_CHAIN_* */
  __u16 raw;   /* 0: typed fields below; 1: raw ones */
  __u16 last;  /* where the last name taken starts (from `names`): the top of the chain when complete */
  struct dentry *d;       /* typed */
  struct dentry *root;    /* typed: mnt_root of `vfs` */
  struct vfsmount *vfs;   /* typed */
  struct vfsmount *stop;  /* the process's root mount (typed; NULL: none) */
  __u64 rd, rroot, rmnt;  /* raw: dentry, its mount's mnt_root, the struct mount */
#ifdef VG_LEGACY
  __u32 buf;  /* where `names` is: VG_BUF_FILE (vg_scratch's file tail) or VG_BUF_EXEC (vg_exec_scratch) */
  __u32 base; /* and at which byte of that */
#endif
};

/* The walk's end at the top of a mount: done (1) when the mount is the
 * process's root mount or has no parent; else the walk goes on, raw, from
 * the mountpoint in the parent mount (0). `mnt` is the struct mount. */
static __always_inline long vg_walk_cross(struct vg_walk_ctx *w, __u64 mnt) {
  if (w->stop && mnt + bpf_core_field_offset(struct mount, mnt) == (__u64)w->stop) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  __u64 pm = 0, mp = 0;
  __u32 off_parent = bpf_core_field_offset(struct mount, mnt_parent);
  __u32 off_mp = bpf_core_field_offset(struct mount, mnt_mountpoint);
  if (off_mp == off_parent + 8) { /* adjacent on every supported kernel: one read */
    __u64 win[2] = {};
    if (bpf_probe_read_kernel(win, sizeof(win), (const void *)(mnt + off_parent)) < 0) {
      vg_count(VG_C_READ_DENTRY);
      return 1;
    }
    pm = win[0];
    mp = win[1];
  } else {
    pm = (__u64)BPF_CORE_READ((struct mount *)mnt, mnt_parent);
    mp = (__u64)BPF_CORE_READ((struct mount *)mnt, mnt_mountpoint);
  }
  if (pm == mnt || !pm) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  w->raw = 1;
  w->rd = mp;
  w->rmnt = pm;
  w->rroot = (__u64)BPF_CORE_READ((struct mount *)pm, mnt.mnt_root);
  return 0;
}

/* Index of the first NUL in the 32 bytes a0..a3 (little-endian), 32 if none. */
static __always_inline __u32 vg_first_nul(__u64 a0, __u64 a1, __u64 a2, __u64 a3) {
  const __u64 lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
  __u64 z;
  __u32 base;
  if ((z = (a0 - lo) & ~a0 & hi)) base = 0;
  else if ((z = (a1 - lo) & ~a1 & hi)) base = 8;
  else if ((z = (a2 - lo) & ~a2 & hi)) base = 16;
  else if ((z = (a3 - lo) & ~a3 & hi)) base = 24;
  else return 32;
  /* the lowest flagged byte: 1 << 8k times 0x0001020304050607 has k in its top byte */
  return base + (__u32)((((z & -z) >> 7) * 0x0001020304050607ULL) >> 56);
}

/* Takes a name slot: its destination, or NULL (the chain marked cut) when
 * the chain is full. */
static __always_inline char *vg_walk_slot(struct vg_walk_ctx *w) {
  __u32 off = w->off;
  if (w->depth >= VG_CHAIN_DEPTH || off > VG_NAMES_MAX - VG_NAME_LEN) {
    w->flags |= VG_CHAIN_CUT;
    return 0;
  }
  return w->names + off;
}

static __always_inline void vg_walk_advance(struct vg_walk_ctx *w, __u32 got) {
  w->last = w->off;
  w->off += w->stride ? w->stride : got;
  w->depth += 1;
}

/* An inline name (its first 32 bytes a0..a3, `len` long) into the next slot. */
static __always_inline int vg_walk_put_inline(struct vg_walk_ctx *w, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
                                              __u32 len) {
  char *dst = vg_walk_slot(w);
  if (!dst) return 0;
  *(__u64 *)(dst + 0) = a0;
  *(__u64 *)(dst + 8) = a1;
  *(__u64 *)(dst + 16) = a2;
  *(__u64 *)(dst + 24) = a3;
  /* a rename racing this copy may leave a NUL before `len`: end there */
  __u32 nul = vg_first_nul(a0, a1, a2, a3);
  __u32 l = nul < len ? nul : len;
  l &= VG_DNAME_INLINE - 1;
  dst[l] = 0;
  vg_walk_advance(w, l + 1);
  return 1;
}

/* A name kept outside the dentry (long, or moved there by a rename) into the
 * next slot, by one helper read; `len` is its d_name.len. */
static __always_inline int vg_walk_put_ext(struct vg_walk_ctx *w, __u64 name, __u32 len) {
  char *dst = vg_walk_slot(w);
  if (!dst) return 0;
  long got = bpf_probe_read_kernel_str(dst, VG_NAME_LEN, (const void *)name);
  if (got <= 0) {
    vg_count(VG_C_READ_DENTRY);
    return 0;
  }
  if (got >= VG_NAME_LEN && len >= VG_NAME_LEN) w->flags |= VG_CHAIN_NAME_CUT;
  vg_walk_advance(w, got);
  return 1;
}

#ifdef VG_RDONLY_CAST
/* vg_walk_cross by direct loads: the struct mount around w->vfs, cast. */
static __always_inline long vg_walk_cross_typed(struct vg_walk_ctx *w) {
  struct vfsmount *vfs = w->vfs;
  if (w->stop && vfs == w->stop) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  struct mount *m = VG_CAST(struct mount, (__u64)vfs - bpf_core_field_offset(struct mount, mnt));
  struct mount *pm = m->mnt_parent;
  struct dentry *mp = m->mnt_mountpoint;
  if (!pm || pm == m || !mp) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  w->d = mp;
  w->vfs = &pm->mnt;
  w->root = pm->mnt.mnt_root;
  return 0;
}
#endif

/* A typed step: direct loads only, unless the name is not inline. */
static __always_inline long vg_walk_step_typed(struct vg_walk_ctx *w) {
  struct dentry *d = w->d;
#ifdef VG_RDONLY_CAST
  if (d == w->root) return vg_walk_cross_typed(w);
#else
  if (d == w->root) return vg_walk_cross(w, (__u64)w->vfs - bpf_core_field_offset(struct mount, mnt));
#endif
  struct dentry *parent = d->d_parent;
  const __u64 *inl;
  if (bpf_core_field_exists(struct dentry___iname, d_iname))
    inl = (const __u64 *)((struct dentry___iname *)d)->d_iname;
  else
    inl = (const __u64 *)d->d_shortname.string;
  __u64 name = (__u64)d->d_name.name;
  __u32 len = d->d_name.len;
  int ok;
  if (name == (__u64)inl && len < VG_DNAME_INLINE)
    ok = vg_walk_put_inline(w, inl[0], inl[1], inl[2], inl[3], len);
  else
    ok = vg_walk_put_ext(w, name, len);
  if (!ok) return 1;
  /* d == parent: a pseudo file (memfd, pipe, socket) or a detached tree,
   * named by its own dentry: its name is all there is */
  if (d == parent || !parent) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  w->d = parent;
  return 0;
}

/* A raw step (after a mount crossing, or from a descriptor the typed lookup
 * cannot reach). d_parent, d_name and the inline name storage lie within
 * VG_DENTRY_WIN bytes on every supported kernel (d_parent, d_name, d_inode,
 * d_iname): one read takes them all; a kernel laid out otherwise gets a read
 * per field. */
#define VG_DENTRY_WIN 72
static __always_inline long vg_walk_step_raw(struct vg_walk_ctx *w) {
  __u64 d = w->rd;
  if (d == w->rroot) return vg_walk_cross(w, w->rmnt);
  __u32 o_parent = bpf_core_field_offset(struct dentry, d_parent);
  __u32 o_hash = bpf_core_field_offset(struct dentry, d_name.hash_len);
  __u32 o_len = bpf_core_field_offset(struct dentry, d_name.len);
  __u32 o_name = bpf_core_field_offset(struct dentry, d_name.name);
  __u32 o_inl;
  if (bpf_core_field_exists(struct dentry___iname, d_iname))
    o_inl = bpf_core_field_offset(struct dentry___iname, d_iname);
  else
    o_inl = bpf_core_field_offset(struct dentry, d_shortname);
  __u64 parent, name;
  __u32 len;
  int ok;
  if (o_hash == o_parent + 8 && o_len == o_hash + 4 && o_name == o_parent + 16 && o_inl >= o_parent + 24 &&
      o_inl + VG_DNAME_INLINE <= o_parent + VG_DENTRY_WIN && ((o_inl - o_parent) & 7) == 0) {
    __u64 win[VG_DENTRY_WIN / 8] = {};
    if (bpf_probe_read_kernel(win, sizeof(win), (const void *)(d + o_parent)) < 0) {
      vg_count(VG_C_READ_DENTRY);
      return 1;
    }
    parent = win[0];
    len = win[1] >> 32; /* hash_len: the hash, then the length */
    name = win[2];
    __u32 i = ((o_inl - o_parent) >> 3) & 7;
    if (name == d + o_inl && len < VG_DNAME_INLINE) {
      /* constant indexes: verifiers before 5.12 refuse a variable offset
       * into the stack (i is 3 to 5, a constant per kernel, checked above) */
      switch (i) {
        case 3: ok = vg_walk_put_inline(w, win[3], win[4], win[5], win[6], len); break;
        case 4: ok = vg_walk_put_inline(w, win[4], win[5], win[6], win[7], len); break;
        case 5: ok = vg_walk_put_inline(w, win[5], win[6], win[7], win[8], len); break;
        default: return 1; /* cannot happen (checked above) */
      }
    } else {
      ok = vg_walk_put_ext(w, name, len);
    }
  } else {
    parent = (__u64)BPF_CORE_READ((struct dentry *)d, d_parent);
    name = (__u64)BPF_CORE_READ((struct dentry *)d, d_name.name);
    len = BPF_CORE_READ((struct dentry *)d, d_name.len);
    ok = vg_walk_put_ext(w, name, len);
  }
  if (!ok) return 1;
  if (d == parent || !parent) {
    w->flags |= VG_CHAIN_COMPLETE;
    return 1;
  }
  w->rd = parent;
  return 0;
}

#ifdef VG_LEGACY
#define VG_BUF_FILE 0
#define VG_BUF_EXEC 1
VG_PERCPU_ARRAY(vg_walk_state, 1, struct vg_walk_ctx);

/* One raw step of a legacy walk, whose state is in vg_walk_state and whose
 * names go to `buf` at the state's base. A global function: the verifier
 * checks it once per program, as it checks a bpf_loop callback, instead of
 * once per step of every walk (a file program's two walks, inlined into a
 * bounded loop, went past its 1M instructions). Before 5.12 a global
 * function takes only numbers, hence the state in a map and the buffer by
 * name. Nonzero: the walk is over. */
__attribute__((noinline)) int vg_walk_step_legacy(__u32 buf) {
  __u32 zero = 0;
  struct vg_walk_ctx *st = bpf_map_lookup_elem(&vg_walk_state, &zero);
  if (!st) return 1;
  __u64 base = st->base;
  char *names;
  if (buf == VG_BUF_FILE) {
    union vg_record *r = bpf_map_lookup_elem(&vg_scratch, &zero);
    if (!r) return 1;
    VG_CLAMP(base, VG_FILE_TAIL_MAX - VG_NAMES_MAX);
    names = &r->file.tail[base];
  } else {
    struct vg_exec *e = bpf_map_lookup_elem(&vg_exec_scratch, &zero);
    if (!e) return 1;
    VG_CLAMP(base, sizeof(struct vg_exec) - VG_NAMES_MAX);
    names = (char *)e + base;
  }
  /* Member by member: with a whole-struct copy (`w = *st`, `*st = w`) the
   * 5.10 verifier refused every walking program of the legacy build ("R7
   * unbounded memory access"), though 6.x kernels accept it. */
  struct vg_walk_ctx w;
  __builtin_memset(&w, 0, sizeof(w));
  w.names = names;
  w.off = st->off;
  w.stride = st->stride;
  w.depth = st->depth;
  w.flags = st->flags;
  w.last = st->last;
  w.stop = st->stop;
  w.rd = st->rd;
  w.rroot = st->rroot;
  w.rmnt = st->rmnt;
  int done = vg_walk_step_raw(&w) != 0;
  st->off = w.off;
  st->depth = w.depth;
  st->flags = w.flags;
  st->last = w.last;
  st->rd = w.rd;
  st->rroot = w.rroot;
  st->rmnt = w.rmnt;
  return done;
}
#else
/* The walk's steps, as bpf_loop callbacks (so the verifier checks a step
 * once rather than once per unrolled step): one for the typed part, one for
 * the raw part, so each is checked in one mode only. */
static long vg_walk_step_t(__u32 i, void *arg) {
  return vg_walk_step_typed(arg);
}
static long vg_walk_step_r(__u32 i, void *arg) {
  return vg_walk_step_raw(arg);
}
#endif

/* A walk writing its names from `names` (fixed `stride`-byte slots, or
 * packed when 0), to stop at the current process's root mount. */
static __always_inline void vg_walk_init(struct vg_walk_ctx *w, char *names, __u32 stride) {
  __builtin_memset(w, 0, sizeof(*w));
  w->names = names;
  w->stride = stride;
  struct task_struct *t = VG_TASK();
  struct fs_struct *fs = VG_LD(t, fs);
  if (fs) w->stop = VG_LD(fs, root.mnt);
}

/* mount crossings take a step each, hence the slack over the depth */
#define VG_WALK_STEPS (VG_CHAIN_DEPTH + 8)

static __always_inline void vg_walk_raw(struct vg_walk_ctx *w, __u64 path);


/* Runs the walk from a typed struct path (NULL: none); in the legacy build
 * the pointer is not typed and the walk reads it with helpers. */
static __always_inline void vg_walk_typed(struct vg_walk_ctx *w, const struct path *p) {
#ifdef VG_LEGACY
  vg_walk_raw(w, (__u64)p);
}
#else
  if (!p) return;
  struct dentry *d = p->dentry;
  struct vfsmount *vfs = p->mnt;
  if (!d || !vfs) return;
  w->d = d;
  w->vfs = vfs;
  w->root = vfs->mnt_root;
  bpf_loop(VG_WALK_STEPS, vg_walk_step_t, w, 0);
  /* went raw at a mount crossing: the rest of the steps (crossings take a
   * step each, so the raw part gets its own budget; depth bounds the names) */
  if (w->raw) bpf_loop(VG_WALK_STEPS, vg_walk_step_r, w, 0);
}
#endif

/* Runs the walk from the address of a struct path (0: none), read with helpers. */
static __always_inline void vg_walk_raw(struct vg_walk_ctx *w, __u64 path) {
  if (!path) return;
  struct path p = {};
  bpf_probe_read_kernel(&p, sizeof(p), (const void *)path); /* mnt and dentry in one read */
  if (!p.dentry || !p.mnt) return;
  w->raw = 1;
  w->rd = (__u64)p.dentry;
  w->rmnt = (__u64)p.mnt - bpf_core_field_offset(struct mount, mnt);
  w->rroot = (__u64)BPF_CORE_READ(p.mnt, mnt_root);
#ifdef VG_LEGACY
  /* a bounded loop (5.3+) of calls to a global step */
  __u32 zero = 0;
  struct vg_walk_ctx *st = bpf_map_lookup_elem(&vg_walk_state, &zero);
  if (!st) return;
  st->off = w->off;
  st->stride = w->stride;
  st->depth = w->depth;
  st->flags = w->flags;
  st->last = w->last;
  st->stop = w->stop;
  st->rd = w->rd;
  st->rroot = w->rroot;
  st->rmnt = w->rmnt;
  st->base = w->base;
  for (int i = 0; i < VG_WALK_STEPS; i++)
    if (vg_walk_step_legacy(w->buf)) break;
  w->off = st->off;
  w->depth = st->depth;
  w->flags = st->flags;
  w->last = st->last;
#else
  bpf_loop(VG_WALK_STEPS, vg_walk_step_r, w, 0);
#endif
}

/* The address of descriptor `fd`'s slot in the current task's fd table
 * (fdt->fd + fd, a struct file **), or 0 when there is no such slot. The
 * table is reached by direct loads; the slot itself loads as a plain number
 * (the verifier does not type fdt->fd's elements). */
static __always_inline __u64 vg_fd_slot(int fd) {
  if (fd < 0) return 0;
  struct task_struct *t = VG_TASK();
  struct files_struct *files = VG_LD(t, files);
  if (!files) return 0;
  struct fdtable *fdt = VG_LD(files, fdt);
  if (!fdt || (unsigned int)fd >= VG_LD(fdt, max_fds)) return 0;
  return (__u64)VG_LD(fdt, fd) + (__u64)(unsigned int)fd * sizeof(struct file *);
}

#ifdef VG_RDONLY_CAST
/* Descriptor `fd` of the current task as a BTF pointer, or NULL: its slot
 * cast to a struct whose first member is a struct file pointer
 * (kiocb.ki_filp). */
static __always_inline struct file *vg_fd_typed(int fd) {
  __u64 slot = vg_fd_slot(fd);
  if (!slot) return 0;
  return VG_CAST(struct kiocb, slot)->ki_filp;
}
#endif

/* Descriptor `fd` of the current task. *typed is its struct file as a BTF
 * pointer when direct loads reach the slot: always in the typed build
 * (vg_fd_typed); in the compat build, one of the first 64 of a table that
 * never grew (files->fd_array; a variable index is not a direct load, so a
 * switch of constant ones). Else *raw is its address (one helper read of the
 * slot). Both 0: no such descriptor. */
#define VG_FD1(n) case n: *typed = files->fd_array[n]; return;
#define VG_FD8(n) VG_FD1(n) VG_FD1(n + 1) VG_FD1(n + 2) VG_FD1(n + 3) VG_FD1(n + 4) VG_FD1(n + 5) VG_FD1(n + 6) VG_FD1(n + 7)
static __always_inline void vg_fd_lookup(int fd, struct file **typed, __u64 *raw) {
  *typed = 0;
  *raw = 0;
#if defined(VG_RDONLY_CAST)
  *typed = vg_fd_typed(fd);
#elif defined(VG_LEGACY)
  __u64 slot = vg_fd_slot(fd);
  if (slot) bpf_probe_read_kernel(raw, sizeof(*raw), (const void *)slot);
#else
  if (fd < 0) return;
  struct task_struct *t = bpf_get_current_task_btf();
  struct files_struct *files = t->files;
  if (!files) return;
  struct fdtable *fdt = files->fdt;
  if (!fdt) return;
  if (fd < 64 && (__u64)fdt == (__u64)&files->fdtab) {
    switch (fd) {
      VG_FD8(0) VG_FD8(8) VG_FD8(16) VG_FD8(24) VG_FD8(32) VG_FD8(40) VG_FD8(48) VG_FD8(56)
    }
    return;
  }
  __u64 slot = vg_fd_slot(fd);
  if (slot) bpf_probe_read_kernel(raw, sizeof(*raw), (const void *)slot);
#endif
}

/* The struct file of descriptor `fd` of the current task, or NULL (callers
 * read it with helpers: the socket readers). In the typed build, direct
 * loads all the way; else one helper read of the slot. */
static __always_inline struct file *vg_fd_file(int fd) {
#ifdef VG_RDONLY_CAST
  return vg_fd_typed(fd);
#else
  __u64 slot = vg_fd_slot(fd);
  struct file *f = 0;
  if (slot) bpf_probe_read_kernel(&f, sizeof(f), (const void *)slot);
  return f;
#endif
}

/* Runs the walk from descriptor `fd`'s file. */
static __always_inline void vg_walk_fd(struct vg_walk_ctx *w, int fd) {
  struct file *typed;
  __u64 raw;
  vg_fd_lookup(fd, &typed, &raw);
  if (typed)
    vg_walk_typed(w, &typed->f_path);
  else if (raw)
    vg_walk_raw(w, raw + bpf_core_field_offset(struct file, f_path));
}

static __always_inline const struct path *vg_cwd_path(void) {
  struct task_struct *t = VG_TASK();
  struct fs_struct *fs = VG_LD(t, fs);
  return fs ? &fs->pwd : 0;
}

/* Into a fixed-slot chain (exec records): the cwd, or a typed file. */
static __always_inline void vg_walk_chain(struct vg_chain *c, const struct path *p, __u32 at) {
  struct vg_walk_ctx w;
  vg_walk_init(&w, c->comp[0], VG_NAME_LEN);
#ifdef VG_LEGACY
  w.buf = VG_BUF_EXEC;
  w.base = at;
#endif
  vg_walk_typed(&w, p);
  c->depth = w.depth;
  c->flags = w.flags;
}

/* `at`: where c's names are in struct vg_exec (VG_EXEC_AT_*) */
#define VG_EXEC_AT_EXE __builtin_offsetof(struct vg_exec, exe.comp)
#define VG_EXEC_AT_CWD __builtin_offsetof(struct vg_exec, cwd.comp)
static __always_inline void vg_walk_cwd(struct vg_chain *c, __u32 at) {
  vg_walk_chain(c, vg_cwd_path(), at);
}

/* Packed names into a file record's tail at *off (see struct vg_file): the
 * chain from the typed path `p`, or else descriptor `fd`'s file (-1: none),
 * into `hd`; *off advanced past them. Returns where the last name starts,
 * from the first (0 when none). */
static __always_inline __u32 vg_tail_walk(struct vg_file *f, __u32 *off, struct vg_names *hd, const struct path *p,
                                          int fd) {
  hd->depth = 0;
  hd->flags = 0;
  hd->len = 0;
  hd->pad = 0;
  __u32 o = *off;
  if ((!p && fd < 0) || o > VG_FILE_TAIL_MAX - VG_NAMES_MAX) return 0;
  struct vg_walk_ctx w;
  vg_walk_init(&w, &f->tail[o], 0);
#ifdef VG_LEGACY
  w.buf = VG_BUF_FILE;
  w.base = o;
#endif
  if (p)
    vg_walk_typed(&w, p);
  else
    vg_walk_fd(&w, fd);
  __u32 used = w.off;
  if (used > VG_NAMES_MAX) used = VG_NAMES_MAX;
  hd->depth = w.depth;
  hd->flags = w.flags;
  hd->len = used;
  /* `used` read back from the record (map memory, whose contents the
   * verifier does not track) rather than from the walk: a walk ends in many
   * verifier states (one per step count and name length it explored), and
   * carrying each exact offset on would verify everything after it once per
   * state. Read back, they are one state: an offset bounded by VG_NAMES_MAX. */
  used = *(volatile __u32 *)&hd->len;
  if (used > VG_NAMES_MAX) used = VG_NAMES_MAX;
  *off = o + used;
  return w.last;
}

/* The base of a path given relative to `dirfd`, starting at tail byte
 * `path_at`: nothing when the path is absolute (first byte '/') or absent. */
static __always_inline void vg_tail_walk_base(struct vg_file *f, __u32 *off, struct vg_names *hd, int dirfd,
                                              __u32 path_at, __u32 path_len) {
  if (path_len > 0 && path_at < VG_FILE_TAIL_MAX && f->tail[path_at] != '/') {
    if (dirfd == VG_AT_FDCWD)
      vg_tail_walk(f, off, hd, vg_cwd_path(), -1);
    else
      vg_tail_walk(f, off, hd, 0, dirfd);
  } else {
    vg_tail_walk(f, off, hd, 0, -1);
  }
}

/* A user string (at most VG_FILE_PATH_LEN bytes with its NUL) appended to the
 * tail at *off; returns its length with the NUL, 0 when absent (NULL) or
 * unreadable (counted). The mount fstype is read inline in file.bpf.h:
 * with the size made a parameter so the fstype could use this helper too,
 * the 6.1 and 6.12 verifiers refused every file program (vm_capture_load;
 * the host's 6.18 accepted them). */
static __always_inline __u16 vg_tail_user_str(struct vg_file *f, __u32 *off, const void *src) {
  __u32 o = *off;
  if (!src || o > VG_FILE_TAIL_MAX - VG_FILE_PATH_LEN) return 0;
  long n = bpf_probe_read_user_str(&f->tail[o], VG_FILE_PATH_LEN, src);
  if (n <= 0 || n > VG_FILE_PATH_LEN) {
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
#ifdef VG_LEGACY
/* The kernel stack's size (THREAD_SIZE; x86-64: 16 KiB, 32 KiB with KASAN),
 * set by the loader from the kernel's config. */
const volatile __u32 vg_thread_size = 16384;

/* The registers at the top of the kernel stack (task_pt_regs), read with one
 * helper call (bpf_task_pt_regs is 5.15+): the `n` registers (w[0..n-1])
 * from the one at offset `o_first` of struct pt_regs up to orig_ax, which
 * must come last. The top is padded by 16 bytes on kernels built with FRED
 * (6.9+), so a second place is tried when the first does not hold this
 * call's number: orig_ax is checked against the tracepoint's syscall number
 * `nr`, so a wrong guess gives -1 and a counted failure (read_task), never
 * another call's values. 0 when read. */
static __always_inline int vg_legacy_regs(__u64 *w, __u32 n, __u32 o_first, long nr) {
  __u64 stack = (__u64)BPF_CORE_READ(VG_TASK(), stack);
  __u64 regs = stack + vg_thread_size - bpf_core_type_size(struct pt_regs);
  __u32 o_orig = bpf_core_field_offset(struct pt_regs, orig_ax);
  if (stack && o_orig == o_first + 8 * (n - 1)) {
    if (bpf_probe_read_kernel(w, 8 * n, (const void *)(regs + o_first)) >= 0 && (long)w[n - 1] == nr) return 0;
    if (bpf_probe_read_kernel(w, 8 * n, (const void *)(regs - 16 + o_first)) >= 0 && (long)w[n - 1] == nr)
      return 0;
  }
  vg_count(VG_C_READ_TASK);
  return -1;
}

/* The syscall's arguments from the saved registers; all zero when they
 * cannot be read. */
static __always_inline void vg_regs_args_legacy(struct vg_args *a, long id) {
  __u64 win[9] = {}; /* r10 r9 r8 ax cx dx si di orig_ax: the x86-64 layout */
  __builtin_memset(a, 0, sizeof(*a));
  if (vg_legacy_regs(win, 9, bpf_core_field_offset(struct pt_regs, r10), id) < 0) return;
  a->a[0] = win[7];
  a->a[1] = win[6];
  a->a[2] = win[5];
  a->a[3] = win[0];
  a->a[4] = win[2];
  a->a[5] = win[1];
}
#endif

static __always_inline void vg_regs_args(struct vg_args *a, int nargs, long id) {
#ifdef VG_LEGACY
  vg_regs_args_legacy(a, id);
  return;
#endif
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
    if (VG_FILTER_AT_TOP(TYPE) && !vg_interested(TYPE)) return 0;          \
    vg_regs_args(&a, NARGS, ctx->id);                                      \
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
    if (VG_FILTER_AT_TOP(TYPE) && !vg_interested(TYPE)) return 0;          \
    vg_on_##name(&a, ctx->ret);                                            \
    return 0;                                                              \
  }                                                                        \
  static __always_inline void vg_on_##name(const struct vg_args *a, long ret)

