// SPDX-License-Identifier: GPL-2.0-only
/* A self-contained BPF LSM program that proves the VM harness: it denies, with -EPERM, exec of
 * the files marked for LSM_PROBE_HOOK_EXEC and open of the files marked for LSM_PROBE_HOOK_OPEN,
 * and counts each denial per hook so the driver can tell which hook refused. Files are marked by
 * (inode, dev) in `deny_files`; everything else is allowed. One CO-RE object for 5.10 .. 6.12. */
/* vmlinux.h must come first: the libbpf headers rely on its types. */
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "lsm_probe.h"

#define EPERM 1

char LICENSE[] SEC("license") = "GPL"; /* BPF LSM programs need a GPL-compatible license */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct lsm_probe_key);
  __type(value, __u32); /* mask of (1 << enum lsm_probe_hook) */
} deny_files SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, LSM_PROBE_HOOK_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} denials SEC(".maps");

static __always_inline int Decide(struct file* file, __u32 hook) {
  struct lsm_probe_key key = {};
  key.ino = BPF_CORE_READ(file, f_inode, i_ino);
  key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
  __u32* mask = bpf_map_lookup_elem(&deny_files, &key);
  if (!mask || !(*mask & (1u << hook))) return 0;
  __u64* count = bpf_map_lookup_elem(&denials, &hook);
  if (count) __sync_fetch_and_add(count, 1);
  return -EPERM;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(deny_exec, struct linux_binprm* bprm, int ret) {
  if (ret != 0) /* an earlier LSM already refused: keep its answer */
    return ret;
  return Decide(BPF_CORE_READ(bprm, file), LSM_PROBE_HOOK_EXEC);
}

SEC("lsm/file_open")
int BPF_PROG(deny_open, struct file* file, int ret) {
  if (ret != 0) return ret;
  return Decide(file, LSM_PROBE_HOOK_OPEN);
}
