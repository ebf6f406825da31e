/* SPDX-License-Identifier: GPL-2.0-only */
/* Writes records of chosen lengths into two small ring buffers, for
 * ring_reader_test: the test sets `len`, `fill`, `stamp` and `ring` in .bss
 * and runs `emit` with BPF_PROG_TEST_RUN. The record is `len` bytes of
 * (fill + i) & 0xff, so a byte out of place shows, with `stamp` over bytes
 * 8-15 (where MergedReader reads a record's timestamp, as in struct vg_hdr)
 * when the record has them. */
#include "../../../bpf/vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define RW_MAX_LEN 4096

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} rw_ring_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} rw_ring_b SEC(".maps");

__u32 len = 0;
__u32 fill = 0;
__u32 ring = 0;
__u64 stamp = 0;
unsigned char buf[RW_MAX_LEN];

SEC("syscall")
int emit(void *ctx) {
  __u32 n = len;
  if (n == 0 || n > RW_MAX_LEN) return 1;
  for (__u32 i = 0; i < RW_MAX_LEN; i++) {
    if (i >= n) break;
    buf[i] = (unsigned char)(fill + i);
  }
  if (n >= 16) __builtin_memcpy(&buf[8], &stamp, sizeof(stamp));
  void *rb = ring ? (void *)&rw_ring_b : (void *)&rw_ring_a;
  return bpf_ringbuf_output(rb, buf, n, 0) == 0 ? 0 : 2;
}
