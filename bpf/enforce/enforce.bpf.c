// SPDX-License-Identifier: GPL-2.0-only
/* vigil's enforcement programs: one CO-RE object. BPF LSM hooks refuse with -EPERM (kill rules
 * also get SIGKILL); where the kernel has no BPF LSM the loader switches those off
 * (bpf_program__set_autoload(false)) and uses the fallback programs instead: SIGKILL from the
 * sched_process_exec tracepoint (before the new image runs a single instruction: the signal is
 * delivered on the return to user space) and cgroup connect4/connect6 (return 0 -> EPERM).
 * Every program decides with ve_decide() over the policy maps of enforce_abi.h. */
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "enforce_abi.h"
#include "lib/insn.bpf.h"
#include "lib/maps.bpf.h"

#define EPERM 1
#define SIGKILL 9
#define AF_INET 2
#define AF_INET6 10
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ve_config);
} ve_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, VE_GENS * VE_HOOK_COUNT);
  __type(key, __u32);
  __type(value, struct ve_class);
} ve_classes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, VE_GENS * VE_MAX_RULES);
  __type(key, __u32);
  __type(value, struct ve_rule);
} ve_rules SEC(".maps");

/* Sizes are per map for both generations; the loader checks a policy against half of them. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 32768);
  __type(key, struct ve_comm_key);
  __type(value, __u64);
} ve_comms SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ve_num_key);
  __type(value, __u64);
} ve_nums SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 32768);
  __type(key, struct ve_inode_key);
  __type(value, __u64);
} ve_inodes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct ve_path_key);
  __type(value, __u64);
} ve_paths SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 32768);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct ve_cidr_key);
  __type(value, __u64);
} ve_cidrs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} ve_refusals SEC(".maps");

/* Self-protection: ids of vigil's own programs, maps and links (this object's and the capture
 * sensor's, ~120 programs + links each); other processes get -EPERM from
 * bpf(BPF_PROG/MAP/LINK_GET_FD_BY_ID) for them. Key: VE_SELF_* << 32 | id. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 2048);
  __type(key, __u64);
  __type(value, __u32);
} ve_self_ids SEC(".maps");

/* Helper id -> the rules that list it (bpf.prog.helpers); key gen * VE_MAX_HELPERS + id. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, VE_GENS * VE_MAX_HELPERS);
  __type(key, __u32);
  __type(value, __u64);
} ve_helpers SEC(".maps");

/* One chunk of a program's instructions, copied from user memory by the helper scan. */
struct ve_insn_buf {
  __u64 insn[VE_INSN_CHUNK];
};
VG_PERCPU_ARRAY(ve_insns, 1, struct ve_insn_buf);

/* Per hook: refusals made, and refusal records the ring buffer could not take; then
 * VE_CNT_HELPER_SCAN_FAILED. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, VE_HOOK_COUNT * 2 + 1);
  __type(key, __u32);
  __type(value, __u64);
} ve_counters SEC(".maps");

/* What one hook observed; unset dimensions stay zero and are never looked up. */
struct ve_obs {
  struct ve_path_key path; /* filled when has_path */
  struct ve_cidr_key cidr;
  struct file* file;
  char comm[16];
  char pcomm[16];
  __u32 uid;
  __u32 port;
  __u32 bpf_cmd;
  __u32 prog_type;
  __u32 access;
  __u32 container;
  __u64 helper_mask; /* rules listing a helper the loaded program calls (has_helpers) */
  __u64 scope;       /* rules this program may decide (the helper scan decides only helper rules) */
  __u8 has_path, has_cidr, has_file, has_net, has_bpf, has_access, has_helpers;
};

VG_PERCPU_ARRAY(ve_scratch, 1, struct ve_obs);

static __always_inline void ve_count(__u32 idx) {
  __u64* c = bpf_map_lookup_elem(&ve_counters, &idx);
  if (c) __sync_fetch_and_add(c, 1);
}

static __always_inline __u64 ve_lookup_comm(__u32 gen, __u32 dim, const char* comm) {
  struct ve_comm_key k = {};
  k.gen = gen;
  k.dim = dim;
  __builtin_memcpy(k.comm, comm, 16);
  __u64* m = bpf_map_lookup_elem(&ve_comms, &k);
  return m ? *m : 0;
}

static __always_inline __u64 ve_lookup_num(__u32 gen, __u32 dim, __u32 value) {
  struct ve_num_key k = {};
  k.gen = gen;
  k.dim = dim;
  k.value = value;
  __u64* m = bpf_map_lookup_elem(&ve_nums, &k);
  return m ? *m : 0;
}

static __always_inline __u64 ve_lookup_inode(__u32 gen, __u32 kind, struct dentry* d) {
  struct ve_inode_key k = {};
  k.gen = gen;
  k.kind = kind;
  k.ino = BPF_CORE_READ(d, d_inode, i_ino);
  k.dev = BPF_CORE_READ(d, d_sb, s_dev);
  __u64* m = bpf_map_lookup_elem(&ve_inodes, &k);
  return m ? *m : 0;
}

/* The file itself, then its parent directories up to VE_DIR_DEPTH (within its filesystem). */
static __always_inline __u64 ve_file_mask(__u32 gen, struct file* f) {
  struct dentry* d = BPF_CORE_READ(f, f_path.dentry);
  __u64 mask = ve_lookup_inode(gen, 0, d);
  for (int i = 0; i < VE_DIR_DEPTH; i++) {
    struct dentry* parent = BPF_CORE_READ(d, d_parent);
    if (!parent || parent == d) break;
    d = parent;
    mask |= ve_lookup_inode(gen, 1, d);
  }
  return mask;
}

static __always_inline void ve_fill_task(struct ve_obs* o) {
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  /* Hash keys compare all 16 bytes; before 6.x bpf_get_current_comm() and the _str reads do not
   * zero the bytes after the NUL, so clear them first. */
  __builtin_memset(o->comm, 0, sizeof(o->comm));
  __builtin_memset(o->pcomm, 0, sizeof(o->pcomm));
  bpf_get_current_comm(o->comm, sizeof(o->comm));
  BPF_CORE_READ_STR_INTO(&o->pcomm, task, real_parent, comm);
  o->uid = (__u32)bpf_get_current_uid_gid();
  o->container = BPF_CORE_READ(task, thread_pid, level) > 0;
}

static __always_inline struct ve_obs* ve_obs_get(void) {
  __u32 zero = 0;
  struct ve_obs* o = bpf_map_lookup_elem(&ve_scratch, &zero);
  if (!o) return 0;
  o->has_path = o->has_cidr = o->has_file = o->has_net = o->has_bpf = o->has_access = o->has_helpers = 0;
  o->access = 0;
  o->helper_mask = 0;
  o->scope = ~0ULL;
  return o;
}

static __always_inline void ve_refused(__u32 hook, __u32 rule, __u32 gen, __u32 action) {
  ve_count(hook);
  struct ve_refusal* r = bpf_ringbuf_reserve(&ve_refusals, sizeof(*r), 0);
  if (!r) {
    ve_count(VE_HOOK_COUNT + hook);
    return;
  }
  __u64 id = bpf_get_current_pid_tgid();
  r->ts_ns = bpf_ktime_get_ns();
  r->pid = id >> 32;
  r->tid = (__u32)id;
  r->hook = hook;
  r->rule = rule;
  r->gen = gen;
  r->action = action;
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  bpf_ringbuf_submit(r, 0);
}

/* Returns the enforcing action (VE_ACT_*) for what `o` observed at `hook`; 0 = allow. `task_ok`:
 * the program can read the task (comm, parent, uid, placement). */
static __always_inline int ve_decide(__u32 hook, struct ve_obs* o, int task_ok) {
  __u32 zero = 0;
  struct ve_config* cfg = bpf_map_lookup_elem(&ve_config, &zero);
  if (!cfg || !cfg->armed) return 0;
  __u32 gen = cfg->active_gen & 1;
  if (task_ok && (bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid) return 0;
  __u32 ck = gen * VE_HOOK_COUNT + hook;
  struct ve_class* cls = bpf_map_lookup_elem(&ve_classes, &ck);
  if (!cls) return 0;
  __u64 cand = cls->rules & o->scope;
  if (!cand) return 0;
  if (cand & ~cls->free[VE_DIM_COMM]) cand &= cls->free[VE_DIM_COMM] | ve_lookup_comm(gen, VE_DIM_COMM, o->comm);
  if (cand & ~cls->free[VE_DIM_PCOMM]) cand &= cls->free[VE_DIM_PCOMM] | ve_lookup_comm(gen, VE_DIM_PCOMM, o->pcomm);
  if (cand & ~cls->free[VE_DIM_UID]) cand &= cls->free[VE_DIM_UID] | ve_lookup_num(gen, VE_DIM_UID, o->uid);
  if (cand & ~cls->free[VE_DIM_PATH]) {
    __u64 m = 0;
    if (o->has_path) {
      o->path.data[0] = gen;
      __u64* v = bpf_map_lookup_elem(&ve_paths, &o->path);
      if (v) m |= *v;
    }
    if (o->has_file) m |= ve_file_mask(gen, o->file);
    cand &= cls->free[VE_DIM_PATH] | m;
  }
  if (o->has_net) {
    if (cand & ~cls->free[VE_DIM_PORT]) cand &= cls->free[VE_DIM_PORT] | ve_lookup_num(gen, VE_DIM_PORT, o->port);
    if ((cand & ~cls->free[VE_DIM_CIDR]) && o->has_cidr) {
      o->cidr.data[0] = gen;
      __u64* v = bpf_map_lookup_elem(&ve_cidrs, &o->cidr);
      cand &= cls->free[VE_DIM_CIDR] | (v ? *v : 0);
    }
  }
  if (o->has_bpf) {
    if (cand & ~cls->free[VE_DIM_BPF_CMD])
      cand &= cls->free[VE_DIM_BPF_CMD] | ve_lookup_num(gen, VE_DIM_BPF_CMD, o->bpf_cmd);
    if (cand & ~cls->free[VE_DIM_PROG_TYPE])
      cand &= cls->free[VE_DIM_PROG_TYPE] | ve_lookup_num(gen, VE_DIM_PROG_TYPE, o->prog_type);
    /* Helper rules match only where the helper scan ran (ve_lsm_bpf_helpers). */
    if (cand & ~cls->free[VE_DIM_HELPER]) cand &= cls->free[VE_DIM_HELPER] | (o->has_helpers ? o->helper_mask : 0);
  }
  /* Scalar conditions as masks too, so the decision has no loop over rules. */
  if (!(o->access & VE_ACCESS_READ)) cand &= ~cls->need_read;
  if (!(o->access & VE_ACCESS_WRITE)) cand &= ~cls->need_write;
  cand &= o->container ? ~cls->host_only : ~cls->container_only;
  if (!cand) return 0;
  /* Lowest rule id first: index of the lowest set bit, by binary search. */
  __u64 low = cand & (~cand + 1);
  __u32 i = 0;
  if (low & 0xFFFFFFFF00000000ULL) i += 32;
  if (low & 0xFFFF0000FFFF0000ULL) i += 16;
  if (low & 0xFF00FF00FF00FF00ULL) i += 8;
  if (low & 0xF0F0F0F0F0F0F0F0ULL) i += 4;
  if (low & 0xCCCCCCCCCCCCCCCCULL) i += 2;
  if (low & 0xAAAAAAAAAAAAAAAAULL) i += 1;
  __u32 rk = gen * VE_MAX_RULES + i;
  struct ve_rule* r = bpf_map_lookup_elem(&ve_rules, &rk);
  if (!r || r->action == VE_ACT_NONE) return 0;
  ve_refused(hook, i, gen, r->action);
  return r->action;
}

static __always_inline int ve_lsm_verdict(int action) {
  if (action == VE_ACT_KILL) bpf_send_signal(SIGKILL);
  return action ? -EPERM : 0;
}

/* Reads an exec filename into the path key, and the new image's comm from the file's name (what
 * __set_task_comm(kbasename(filename)) will set, unless the name was a symlink). */
static __always_inline void ve_exec_name(struct ve_obs* o, const char* filename, struct file* file) {
  long n = bpf_probe_read_kernel_str(&o->path.data[1], VE_LPM_DATA - 1, filename);
  if (n > 0) {
    o->has_path = 1;
    o->path.prefixlen = 8 * (1 + (__u32)n); /* includes the NUL: exact entries match too */
  }
  __builtin_memset(o->comm, 0, sizeof(o->comm));
  BPF_CORE_READ_STR_INTO(&o->comm, file, f_path.dentry, d_name.name);
  o->comm[15] = 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(ve_lsm_exec, struct linux_binprm* bprm, int ret) {
  if (ret) return ret;
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  o->file = BPF_CORE_READ(bprm, file);
  ve_exec_name(o, BPF_CORE_READ(bprm, filename), o->file);
  o->has_file = o->file != 0;
  return ve_lsm_verdict(ve_decide(VE_HOOK_EXEC, o, 1));
}

SEC("lsm/file_open")
int BPF_PROG(ve_lsm_open, struct file* file, int ret) {
  if (ret) return ret;
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  o->file = file;
  o->has_file = 1;
  __u32 mode = BPF_CORE_READ(file, f_mode);
  o->access = ((mode & FMODE_READ) ? VE_ACCESS_READ : 0) | ((mode & FMODE_WRITE) ? VE_ACCESS_WRITE : 0);
  return ve_lsm_verdict(ve_decide(VE_HOOK_OPEN, o, 1));
}

static __always_inline void ve_sockaddr(struct ve_obs* o, struct sockaddr* address, int addrlen) {
  __u16 family = BPF_CORE_READ(address, sa_family);
  if (family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
    struct sockaddr_in* in = (struct sockaddr_in*)address;
    o->port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
    o->cidr.data[1] = 4;
    bpf_probe_read_kernel(&o->cidr.data[2], 4, &in->sin_addr);
    o->cidr.prefixlen = 16 + 32;
    o->has_net = o->has_cidr = 1;
  } else if (family == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6* in6 = (struct sockaddr_in6*)address;
    o->port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
    o->cidr.data[1] = 6;
    bpf_probe_read_kernel(&o->cidr.data[2], 16, &in6->sin6_addr);
    o->cidr.prefixlen = 16 + 128;
    o->has_net = o->has_cidr = 1;
  }
}

SEC("lsm/socket_connect")
int BPF_PROG(ve_lsm_connect, struct socket* sock, struct sockaddr* address, int addrlen, int ret) {
  if (ret) return ret;
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  ve_sockaddr(o, address, addrlen);
  if (!o->has_net) return 0;
  return ve_lsm_verdict(ve_decide(VE_HOOK_CONNECT, o, 1));
}

SEC("lsm/bpf")
int BPF_PROG(ve_lsm_bpf, int cmd, union bpf_attr* attr, unsigned int size, int ret) {
  if (ret) return ret;
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  if (cmd == BPF_PROG_GET_FD_BY_ID || cmd == BPF_MAP_GET_FD_BY_ID || cmd == BPF_LINK_GET_FD_BY_ID) {
    __u32 zero = 0;
    struct ve_config* cfg = bpf_map_lookup_elem(&ve_config, &zero);
    if (cfg && cfg->self_tgid && (bpf_get_current_pid_tgid() >> 32) != cfg->self_tgid) {
      /* prog_id, map_id and link_id share one offset of the attr union. */
      __u64 kind = cmd == BPF_PROG_GET_FD_BY_ID ? VE_SELF_PROG : cmd == BPF_MAP_GET_FD_BY_ID ? VE_SELF_MAP : VE_SELF_LINK;
      __u64 key = (kind << 32) | BPF_CORE_READ(attr, prog_id);
      if (bpf_map_lookup_elem(&ve_self_ids, &key)) {
        ve_refused(VE_HOOK_BPF, VE_SELF_RULE, cfg->active_gen & 1, VE_ACT_DENY);
        return -EPERM;
      }
    }
  }
  o->has_bpf = 1;
  o->bpf_cmd = cmd;
  o->prog_type = cmd == BPF_PROG_LOAD ? BPF_CORE_READ(attr, prog_type) : 0xffffffff;
  return ve_lsm_verdict(ve_decide(VE_HOOK_BPF, o, 1));
}

struct ve_scan_ctx {
  __u64 insns; /* user pointer (lsm/bpf) or kernel pointer (lsm/bpf_prog_load) */
  __u32 insn_cnt;
  __u32 gen;
  __u64 mask;
  __u32 failed;
  __u32 kernel; /* insns is kernel memory */
};

/* One chunk of the helper scan (bpf_loop callback); lib/insn.bpf.h decodes the calls. */
static long ve_scan_chunk(__u32 chunk, void* arg) {
  struct ve_scan_ctx* c = arg;
  __u32 zero = 0;
  struct ve_insn_buf* buf = bpf_map_lookup_elem(&ve_insns, &zero);
  if (!buf) {
    c->failed = 1;
    return 1;
  }
  __u32 first = chunk * VE_INSN_CHUNK;
  if (first >= c->insn_cnt) return 1;
  __u32 n = c->insn_cnt - first;
  if (n > VE_INSN_CHUNK) n = VE_INSN_CHUNK;
  if (n == 0) return 1;
  const void* src_ptr = (const void*)(c->insns + (__u64)first * 8);
  long err = c->kernel ? bpf_probe_read_kernel(buf->insn, n * 8, src_ptr) : bpf_probe_read_user(buf->insn, n * 8, src_ptr);
  if (err < 0) {
    c->failed = 1;
    return 1;
  }
  for (__u32 i = 0; i < VE_INSN_CHUNK; i++) {
    if (i >= n) break;
    int id = vg_insn_helper_id(buf->insn[i], VE_MAX_HELPERS);
    if (id >= 0) {
      __u32 k = c->gen * VE_MAX_HELPERS + id;
      __u64* m = bpf_map_lookup_elem(&ve_helpers, &k);
      if (m) c->mask |= *m;
    }
  }
  return 0;
}

/* Decides the bpf.prog.helpers rules for one BPF_PROG_LOAD whose instructions are at `insns`
 * (`kernel`: kernel memory). Only those rules (scope), so a refusal is never recorded twice
 * with ve_lsm_bpf, which decides every other bpf rule. */
static __always_inline int ve_helper_decide(__u64 insns, __u32 insn_cnt, __u32 kernel, __u32 prog_type) {
  __u32 zero = 0;
  struct ve_config* cfg = bpf_map_lookup_elem(&ve_config, &zero);
  if (!cfg || !cfg->armed) return 0;
  __u32 gen = cfg->active_gen & 1;
  __u32 ck = gen * VE_HOOK_COUNT + VE_HOOK_BPF;
  struct ve_class* cls = bpf_map_lookup_elem(&ve_classes, &ck);
  if (!cls) return 0;
  __u64 helper_rules = cls->rules & ~cls->free[VE_DIM_HELPER];
  if (!helper_rules) return 0; /* no rule lists helpers: nothing to scan */
  if ((bpf_get_current_pid_tgid() >> 32) == cfg->self_tgid) return 0;
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  struct ve_scan_ctx sc = {};
  sc.insns = insns;
  sc.insn_cnt = insn_cnt;
  sc.gen = gen;
  sc.kernel = kernel;
  if (sc.insns && sc.insn_cnt) {
    __u32 chunks = (sc.insn_cnt + VE_INSN_CHUNK - 1) / VE_INSN_CHUNK;
    if (chunks > VE_INSN_CHUNKS) {
      sc.failed = 1; /* more than any kernel loads (E2BIG follows); decide as if unreadable */
    } else {
      bpf_loop(chunks, ve_scan_chunk, &sc, 0);
    }
  }
  if (sc.failed) {
    /* Unreadable instructions (e.g. a user page not resident: this hook cannot fault): fail closed. */
    ve_count(VE_CNT_HELPER_SCAN_FAILED);
    sc.mask = helper_rules;
  }
  o->has_bpf = 1;
  o->bpf_cmd = BPF_PROG_LOAD;
  o->prog_type = prog_type;
  o->has_helpers = 1;
  o->helper_mask = sc.mask;
  o->scope = helper_rules;
  return ve_lsm_verdict(ve_decide(VE_HOOK_BPF, o, 1));
}

/* bpf.prog.helpers rules before 6.9: the `bpf` hook sees only the loader's attr, so the scan reads
 * the instructions from user memory (attr->insns). The kernel copies them again after this hook:
 * a thread racing the load could change them in between (TOCTOU; docs/enforcement.md). Loaded
 * only where bpf_loop exists (5.17+) and lsm/bpf_prog_load does not. */
SEC("lsm/bpf")
int BPF_PROG(ve_lsm_bpf_helpers, int cmd, union bpf_attr* attr, unsigned int size, int ret) {
  if (ret) return ret;
  if (cmd != BPF_PROG_LOAD) return 0;
  return ve_helper_decide(BPF_CORE_READ(attr, insns), BPF_CORE_READ(attr, insn_cnt), 0,
                          BPF_CORE_READ(attr, prog_type));
}

/* bpf.prog.helpers rules on 6.9+: the `bpf_prog_load` hook runs after the kernel copied the
 * instructions into the new program and before the verifier, so the scan reads exactly what will
 * be verified and run (no TOCTOU). Only arg 0 is read: the hook's argument count differs between
 * kernels (6.15 added `kernel`), and `ret` sits after the last argument. */
SEC("lsm/bpf_prog_load")
int BPF_PROG(ve_lsm_prog_load, struct bpf_prog* prog) {
  __u64 insns = (__u64)(void*)&prog->insnsi[0];
  return ve_helper_decide(insns, BPF_CORE_READ(prog, len), 1, BPF_CORE_READ(prog, type));
}

static __always_inline int ve_task_only(__u32 hook) {
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o);
  return ve_lsm_verdict(ve_decide(hook, o, 1));
}

SEC("lsm/kernel_read_file")
int BPF_PROG(ve_lsm_read_file, struct file* file, enum kernel_read_file_id id, bool contents, int ret) {
  if (ret) return ret;
  if (id != READING_MODULE) return 0;
  return ve_task_only(VE_HOOK_MODULE);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(ve_lsm_load_data, enum kernel_load_data_id id, bool contents, int ret) {
  if (ret) return ret;
  if (id != LOADING_MODULE) return 0;
  return ve_task_only(VE_HOOK_MODULE);
}

SEC("lsm/sb_mount")
int BPF_PROG(ve_lsm_mount, const char* dev_name, const struct path* path, const char* type, unsigned long flags,
             void* data, int ret) {
  if (ret) return ret;
  return ve_task_only(VE_HOOK_MOUNT);
}

/* Self-protection: another process may not attach to vigil. PTRACE_MODE_ATTACH is the mode of
 * ptrace(PTRACE_ATTACH/SEIZE), pidfd_getfd(2), process_vm_readv/writev(2) and opening
 * /proc/<pid>/mem (an fd taken this way drained the capture's ring buffer). PTRACE_MODE_READ
 * (ps, top, systemd reading /proc/<pid>/stat, status, maps, environ) stays allowed. */
#define VE_PTRACE_MODE_ATTACH 0x02

SEC("lsm/ptrace_access_check")
int BPF_PROG(ve_lsm_ptrace, struct task_struct* child, unsigned int mode, int ret) {
  if (ret) return ret;
  if (mode & VE_PTRACE_MODE_ATTACH) {
    __u32 zero = 0;
    struct ve_config* cfg = bpf_map_lookup_elem(&ve_config, &zero);
    if (cfg && cfg->self_tgid && (__u32)BPF_CORE_READ(child, tgid) == cfg->self_tgid &&
        (bpf_get_current_pid_tgid() >> 32) != cfg->self_tgid) {
      ve_refused(VE_HOOK_PTRACE, VE_SELF_RULE, cfg->active_gen & 1, VE_ACT_DENY);
      return -EPERM;
    }
  }
  return ve_task_only(VE_HOOK_PTRACE);
}

SEC("lsm/task_fix_setuid")
int BPF_PROG(ve_lsm_setuid, struct cred* new_cred, const struct cred* old, int flags, int ret) {
  if (ret) return ret;
  return ve_task_only(VE_HOOK_SETUID);
}

/* Fallback: kill on exec. The tracepoint fires after the point of no return of execve, with the
 * new image mapped; SIGKILL is delivered before it executes its first instruction. */
SEC("tracepoint/sched/sched_process_exec")
int ve_tp_exec(struct trace_event_raw_sched_process_exec* ctx) {
  struct ve_obs* o = ve_obs_get();
  if (!o) return 0;
  ve_fill_task(o); /* comm is already the new image's */
  unsigned short off = ctx->__data_loc_filename & 0xFFFF;
  long n = bpf_probe_read_kernel_str(&o->path.data[1], VE_LPM_DATA - 1, (char*)ctx + off);
  if (n > 0) {
    o->has_path = 1;
    o->path.prefixlen = 8 * (1 + (__u32)n);
  }
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  o->file = BPF_CORE_READ(task, mm, exe_file);
  o->has_file = o->file != 0;
  if (ve_decide(VE_HOOK_EXEC, o, 1) == VE_ACT_KILL) bpf_send_signal(SIGKILL);
  return 0;
}

/* Fallback: connect deny through cgroup sock_addr hooks (return 0 = EPERM to the caller). They
 * see comm and uid but not the parent or pid namespace; the loader keeps rules needing those out. */
static __always_inline int ve_cgroup_connect(struct bpf_sock_addr* ctx, int v6) {
  struct ve_obs* o = ve_obs_get();
  if (!o) return 1;
  __builtin_memset(o->comm, 0, sizeof(o->comm));
  __builtin_memset(o->pcomm, 0, sizeof(o->pcomm));
  bpf_get_current_comm(o->comm, sizeof(o->comm));
  o->container = 0;
  o->uid = (__u32)bpf_get_current_uid_gid();
  o->port = bpf_ntohs((__u16)ctx->user_port);
  o->cidr.data[1] = v6 ? 6 : 4;
  if (v6) {
    __u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
    __builtin_memcpy(&o->cidr.data[2], &a0, 4);
    __builtin_memcpy(&o->cidr.data[6], &a1, 4);
    __builtin_memcpy(&o->cidr.data[10], &a2, 4);
    __builtin_memcpy(&o->cidr.data[14], &a3, 4);
    o->cidr.prefixlen = 16 + 128;
  } else {
    __u32 a = ctx->user_ip4;
    __builtin_memcpy(&o->cidr.data[2], &a, 4);
    o->cidr.prefixlen = 16 + 32;
  }
  o->has_net = o->has_cidr = 1;
  return ve_decide(VE_HOOK_CONNECT, o, 1) ? 0 : 1;
}

SEC("cgroup/connect4")
int ve_cg_connect4(struct bpf_sock_addr* ctx) { return ve_cgroup_connect(ctx, 0); }

SEC("cgroup/connect6")
int ve_cg_connect6(struct bpf_sock_addr* ctx) { return ve_cgroup_connect(ctx, 1); }
