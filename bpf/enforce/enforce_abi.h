/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/* The ABI between enforce.bpf.c and its loader enforcement.cpp (plain C types, no vmlinux.h, so
 * both compilers include it).
 *
 * Model: a policy is up to VE_MAX_RULES rules, each one bit of a __u64 mask. Every map is keyed
 * by a policy generation (0 or 1); `ve_config.active_gen` names the generation the programs use,
 * so the loader writes a whole new policy into the inactive generation and then flips that one
 * word (atomic swap: no window with no policy or half a policy). For one hook the kernel starts
 * from the hook's rule mask and, per dimension, keeps the rules that either do not constrain it
 * (ve_class.free[dim]) or list the observed value (the value's mask in that dimension's map). */
#ifndef VIGIL_BPF_ENFORCE_ENFORCE_ABI_H_
#define VIGIL_BPF_ENFORCE_ENFORCE_ABI_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VE_MAX_RULES 64
#define VE_GENS 2
#define VE_LPM_DATA 256 /* byte 0 = generation, then the path (NUL-terminated for exact entries) */
#define VE_DIR_DEPTH 8
#define VE_SELF_RULE 0xFFFFFFFFu /* ve_refusal.rule of a self-protection refusal */
/* ve_self_ids key: kind << 32 | id (prog, map and link ids are separate id spaces). */
#define VE_SELF_PROG 0ull
#define VE_SELF_MAP 1ull
#define VE_SELF_LINK 2ull

enum ve_hook { /* same order as vigil::policy::HookClass */
  VE_HOOK_EXEC = 0,
  VE_HOOK_OPEN = 1,
  VE_HOOK_CONNECT = 2,
  VE_HOOK_BPF = 3,
  VE_HOOK_MODULE = 4,
  VE_HOOK_MOUNT = 5,
  VE_HOOK_PTRACE = 6,
  VE_HOOK_SETUID = 7,
  VE_HOOK_COUNT = 8,
};

enum ve_dim {
  VE_DIM_COMM = 0,
  VE_DIM_PCOMM = 1,
  VE_DIM_PATH = 2,
  VE_DIM_UID = 3,
  VE_DIM_PORT = 4,
  VE_DIM_CIDR = 5,
  VE_DIM_BPF_CMD = 6,
  VE_DIM_PROG_TYPE = 7,
  VE_DIM_HELPER = 8, /* BPF_PROG_LOAD: helper ids the program calls (ve_helpers) */
  VE_DIM_COUNT = 9,
};

#define VE_MAX_HELPERS 256   /* helper ids 0..255 (ve_helpers: key gen * VE_MAX_HELPERS + id) */
#define VE_INSN_CHUNK 64     /* instructions read per bpf_loop step of the helper scan */
#define VE_INSN_CHUNKS 16384 /* 16384 * 64 > BPF_COMPLEXITY_LIMIT_INSNS (1M): every loadable program */
/* ve_counters index: helper scans that could not read the instructions (rules then match: fail closed). */
#define VE_CNT_HELPER_SCAN_FAILED (VE_HOOK_COUNT * 2)

enum ve_action { VE_ACT_NONE = 0, VE_ACT_DENY = 1, VE_ACT_KILL = 2 };
enum ve_placement { VE_PLACE_ANY = 0, VE_PLACE_HOST = 1, VE_PLACE_CONTAINER = 2 };
#define VE_ACCESS_READ 1
#define VE_ACCESS_WRITE 2

struct ve_config {
  __u32 active_gen; /* 0 or 1 */
  __u32 armed;      /* 0: no policy installed yet */
  __u32 self_tgid;  /* the agent (never enforced against) */
  __u32 pad;
};

/* Array map, key gen * VE_HOOK_COUNT + hook. */
struct ve_class {
  __u64 rules;              /* rules decided at this hook */
  __u64 free[VE_DIM_COUNT]; /* of those, the rules that do not constrain the dimension */
  __u64 need_read;          /* rules that require the file opened for reading */
  __u64 need_write;         /* ... for writing */
  __u64 host_only;          /* rules for processes in the initial pid namespace only */
  __u64 container_only;     /* rules for processes in a nested pid namespace only */
};

/* Array map, key gen * VE_MAX_RULES + rule id. */
struct ve_rule {
  __u32 action; /* enum ve_action, after degradation */
  __u32 access; /* VE_ACCESS_* all required; 0 any */
  __u32 placement;
  __u32 pad;
};

/* Hash: process names (COMM, PCOMM). */
struct ve_comm_key {
  __u32 gen;
  __u32 dim;
  char comm[16];
};

/* Hash: numbers (UID, PORT in host order, BPF_CMD, PROG_TYPE). */
struct ve_num_key {
  __u32 gen;
  __u32 dim;
  __u32 value;
  __u32 pad;
};

/* Hash: files by identity; kind 0 = this file, 1 = any file below this directory. dev is the
 * kernel's internal dev_t (MAJOR << 20 | MINOR). */
struct ve_inode_key {
  __u32 gen;
  __u32 kind;
  __u64 ino;
  __u32 dev;
  __u32 pad;
};

/* LPM trie: paths by name (exec filename). */
struct ve_path_key {
  __u32 prefixlen;
  __u8 data[VE_LPM_DATA];
};

/* LPM trie: networks; data = gen, family (4 or 6), address bytes. */
struct ve_cidr_key {
  __u32 prefixlen;
  __u8 data[18];
  __u8 pad[2];
};

/* Ring-buffer record of one refusal, so the agent can attribute the EPERM the capture sees. */
struct ve_refusal {
  __u64 ts_ns;
  __u32 pid;
  __u32 tid;
  __u32 hook;
  __u32 rule;
  __u32 gen;
  __u32 action;
  char comm[16];
};

#endif /* VIGIL_BPF_ENFORCE_ENFORCE_ABI_H_ */
