// SPDX-License-Identifier: Apache-2.0
/* The ABI between lsm_probe.bpf.c and its driver lsm_probe_driver.cpp (plain C types, no
 * vmlinux.h, so both compilers include it). */
#ifndef VIGIL_TESTS_VM_LSM_PROBE_H_
#define VIGIL_TESTS_VM_LSM_PROBE_H_

#ifndef __VMLINUX_H__ /* the BPF side gets __u32 and friends from vmlinux.h */
#include <linux/types.h>
#endif

/* Hook index: bit (1 << hook) in a deny mask, and the index into the `denials` counter array. */
enum lsm_probe_hook {
  LSM_PROBE_HOOK_EXEC = 0, /* lsm/bprm_check_security */
  LSM_PROBE_HOOK_OPEN = 1, /* lsm/file_open */
  LSM_PROBE_HOOK_COUNT = 2,
};

/* A file identity as the kernel sees it: inode number and the superblock's kernel dev_t
 * (MAJOR << 20 | MINOR, not the userspace st_dev encoding). */
struct lsm_probe_key {
  __u64 ino;
  __u32 dev;
  __u32 pad; /* always 0: hash keys compare all bytes */
};

#endif /* VIGIL_TESTS_VM_LSM_PROBE_H_ */
