/* SPDX-License-Identifier: GPL-2.0-only */
/* Map shapes both BPF objects declare more than once. */
#ifndef VIGIL_BPF_LIB_MAPS_BPF_H
#define VIGIL_BPF_LIB_MAPS_BPF_H

/* A per-CPU array `name` of `entries` values of `value_type`, keyed by a
 * __u32 index: counters by site (user space sums the CPUs), or with one
 * entry the scratch space a program needs beyond its 512-byte stack and the
 * state it hands a global function (which before 5.12 takes only numbers). */
#define VG_PERCPU_ARRAY(name, entries, value_type) \
  struct {                                         \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);       \
    __uint(max_entries, entries);                  \
    __type(key, __u32);                            \
    __type(value, value_type);                     \
  } name SEC(".maps")

#endif
