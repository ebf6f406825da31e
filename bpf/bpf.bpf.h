/* SPDX-License-Identifier: GPL-2.0-only */
/* bpf() family: which command, and for program loads what the program is
 * (type, name, attach type, size, license, flags) and which helpers it calls,
 * found by scanning its instructions; map creation; attach and link commands
 * with their target; fd-by-id lookups. Map element operations and other
 * read-only queries are filtered out at sys_enter (they are the bulk of bpf()
 * calls and say nothing about what gets into the kernel). */
#pragma once

#include "common.bpf.h"
#include "lib/insn.bpf.h"
#include "lib/maps.bpf.h"

#define VG_BPF_MAP_CREATE 0
#define VG_BPF_PROG_LOAD 5
#define VG_BPF_OBJ_PIN 6
#define VG_BPF_OBJ_GET 7
#define VG_BPF_PROG_ATTACH 8
#define VG_BPF_PROG_DETACH 9
#define VG_BPF_PROG_GET_FD_BY_ID 13
#define VG_BPF_MAP_GET_FD_BY_ID 14
#define VG_BPF_RAW_TRACEPOINT_OPEN 17
#define VG_BPF_BTF_LOAD 18
#define VG_BPF_BTF_GET_FD_BY_ID 19
#define VG_BPF_LINK_CREATE 28
#define VG_BPF_LINK_UPDATE 29
#define VG_BPF_LINK_GET_FD_BY_ID 30

static __always_inline int vg_bpf_interesting(int cmd) {
  switch (cmd) {
    case VG_BPF_MAP_CREATE:
    case VG_BPF_PROG_LOAD:
    case VG_BPF_OBJ_PIN:
    case VG_BPF_OBJ_GET:
    case VG_BPF_PROG_ATTACH:
    case VG_BPF_PROG_DETACH:
    case VG_BPF_PROG_GET_FD_BY_ID:
    case VG_BPF_MAP_GET_FD_BY_ID:
    case VG_BPF_RAW_TRACEPOINT_OPEN:
    case VG_BPF_BTF_LOAD:
    case VG_BPF_BTF_GET_FD_BY_ID:
    case VG_BPF_LINK_CREATE:
    case VG_BPF_LINK_UPDATE:
    case VG_BPF_LINK_GET_FD_BY_ID:
      return 1;
  }
  return 0;
}

/* the user's union bpf_attr, copied (the stack is too small to also hold it) */
struct vg_bpf_attr_buf {
  union bpf_attr attr;
};
VG_PERCPU_ARRAY(vg_bpf_attr, 1, struct vg_bpf_attr_buf);

struct vg_insn_buf {
  __u64 insn[VG_INSN_CHUNK];
};
VG_PERCPU_ARRAY(vg_insns, 1, struct vg_insn_buf);

struct vg_scan_ctx {
  struct vg_bpf *rec;
  __u64 insns; /* user pointer */
  __u32 insn_cnt;
  __u32 failed;
};

/* One chunk of the helper scan (bpf_loop callback). */
static __always_inline long vg_scan_chunk_do(__u32 chunk, struct vg_scan_ctx *c) {
  __u32 zero = 0;
  struct vg_insn_buf *buf = bpf_map_lookup_elem(&vg_insns, &zero);
  if (!buf) return 1;
  __u32 first = chunk * VG_INSN_CHUNK;
  if (first >= c->insn_cnt) return 1;
  __u32 n = c->insn_cnt - first;
  if (n > VG_INSN_CHUNK) n = VG_INSN_CHUNK;
  if (n == 0) return 1;
  if (bpf_probe_read_user(buf->insn, n * 8, (const void *)(c->insns + (__u64)first * 8)) < 0) {
    c->failed = 1;
    return 1;
  }
  struct vg_bpf *rec = c->rec;
  for (__u32 i = 0; i < VG_INSN_CHUNK; i++) {
    if (i >= n) break;
    int id = vg_insn_helper_id(buf->insn[i], 256);
    if (id >= 0) rec->helpers[(id >> 6) & 3] |= 1ULL << (id & 63);
  }
  return 0;
}

#ifdef VG_LEGACY
VG_PERCPU_ARRAY(vg_scan_state, 1, struct vg_scan_ctx);

/* A chunk as a global function (checked once, like the bpf_loop callback;
 * the 5.10 verifier refused the whole scan inlined: "The sequence of 8193
 * jumps is too complex"). The record is the scratch one; the rest of the
 * scan's state is in vg_scan_state. */
__attribute__((noinline)) int vg_scan_chunk_legacy(__u32 chunk) {
  __u32 zero = 0;
  struct vg_scan_ctx *st = bpf_map_lookup_elem(&vg_scan_state, &zero);
  union vg_record *r = bpf_map_lookup_elem(&vg_scratch, &zero);
  if (!st || !r) return 1;
  struct vg_scan_ctx c = {.rec = &r->bpf, .insns = st->insns, .insn_cnt = st->insn_cnt};
  long done = vg_scan_chunk_do(chunk, &c);
  if (c.failed) st->failed = 1;
  return done != 0;
}
#else
static long vg_scan_chunk(__u32 chunk, void *arg) {
  return vg_scan_chunk_do(chunk, arg);
}
#endif

SEC("tracepoint/syscalls/sys_enter_bpf")
int vg_enter_bpf(struct trace_event_raw_sys_enter *ctx) {
  if (!vg_bpf_interesting((int)ctx->args[0])) return 0;
  vg_enter(VG_T_BPF, ctx, 3);
  return 0;
}

VG_SYS_EXIT(bpf, VG_T_BPF, 0) {
  union vg_record *s = vg_scratch_get();
  __u32 zero = 0;
  struct vg_bpf_attr_buf *ab = bpf_map_lookup_elem(&vg_bpf_attr, &zero);
  if (!s || !ab) return;
  struct vg_bpf *b = &s->bpf;
  __builtin_memset(b, 0, sizeof(*b));
  vg_fill_hdr(&b->hdr, VG_KIND_BPF, VG_T_BPF, sizeof(*b));
  b->hdr.res = ret;
  b->cmd = (int)a->a[0];
  b->target_fd = -1;

  union bpf_attr *attr = &ab->attr;
  __builtin_memset(attr, 0, sizeof(*attr));
  __u32 size = (__u32)a->a[2];
  if (size > sizeof(*attr)) size = sizeof(*attr);
  if (size == 0 || bpf_probe_read_user(attr, size, (const void *)a->a[1]) < 0) {
    vg_count(VG_C_READ_BPF_ATTR);
    vg_emit(b, sizeof(*b));
    return;
  }
  switch (b->cmd) {
    case VG_BPF_PROG_LOAD: {
      b->prog_type = attr->prog_type;
      b->insn_cnt = attr->insn_cnt;
      b->prog_flags = attr->prog_flags;
      b->expected_attach_type = attr->expected_attach_type;
      b->attach_btf_id = attr->attach_btf_id;
      __builtin_memcpy(b->prog_name, attr->prog_name, sizeof(b->prog_name));
      if (attr->license && bpf_probe_read_user_str(b->license, sizeof(b->license), (const void *)attr->license) < 0)
        b->license[0] = 0;
      struct vg_scan_ctx sc = {.rec = b, .insns = attr->insns, .insn_cnt = attr->insn_cnt};
      if (sc.insns && sc.insn_cnt) {
#ifdef VG_LEGACY
        struct vg_scan_ctx *st = bpf_map_lookup_elem(&vg_scan_state, &zero);
        if (st) {
          st->insns = sc.insns;
          st->insn_cnt = sc.insn_cnt;
          st->failed = 0;
          for (__u32 chunk = 0; chunk < VG_INSN_CHUNKS; chunk++)
            if (vg_scan_chunk_legacy(chunk)) break;
          sc.failed = st->failed;
        } else {
          sc.failed = 1;
        }
#else
        bpf_loop(VG_INSN_CHUNKS, vg_scan_chunk, &sc, 0);
#endif
        if (sc.failed) vg_count(VG_C_READ_BPF_INSNS);
        if (!sc.failed && sc.insn_cnt <= VG_INSN_CHUNK * VG_INSN_CHUNKS) b->flags |= VG_BPF_HELPERS_COMPLETE;
      }
      break;
    }
    case VG_BPF_MAP_CREATE:
      b->map_type = attr->map_type;
      __builtin_memcpy(b->map_name, attr->map_name, sizeof(b->map_name));
      break;
    case VG_BPF_PROG_ATTACH:
    case VG_BPF_PROG_DETACH:
      b->target_fd = attr->target_fd;
      b->attach_type = attr->attach_type;
      break;
    case VG_BPF_LINK_CREATE:
      b->target_fd = attr->link_create.target_fd;
      b->attach_type = attr->link_create.attach_type;
      break;
    case VG_BPF_RAW_TRACEPOINT_OPEN:
      if (attr->raw_tracepoint.name &&
          bpf_probe_read_user_str(b->target, sizeof(b->target), (const void *)attr->raw_tracepoint.name) < 0)
        b->target[0] = 0;
      break;
    case VG_BPF_OBJ_PIN:
    case VG_BPF_OBJ_GET:
      if (attr->pathname && bpf_probe_read_user_str(b->target, sizeof(b->target), (const void *)attr->pathname) < 0)
        b->target[0] = 0;
      break;
    case VG_BPF_PROG_GET_FD_BY_ID:
    case VG_BPF_MAP_GET_FD_BY_ID:
    case VG_BPF_BTF_GET_FD_BY_ID:
    case VG_BPF_LINK_GET_FD_BY_ID:
      b->id = attr->prog_id; /* prog_id/map_id/btf_id/link_id share the offset */
      break;
  }
  vg_emit(b, sizeof(*b));
}
