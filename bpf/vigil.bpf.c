/* SPDX-License-Identifier: GPL-2.0-only */
/* vigil's kernel programs: one BPF object holding every probe family.
 *
 * One object (not one skeleton per family): all families share the ring
 * buffer, the counters and the enter/exit pairing map, and one object loads
 * them with one BTF relocation pass and no bpf_map__reuse_fd plumbing; a hook
 * this kernel lacks is switched off per program (bpf_program__set_autoload)
 * by the loader, which gives the same granularity as separate objects. */
#include "common.bpf.h"
#include "process.bpf.h"
#include "file.bpf.h"
#include "net.bpf.h"
#include "bpf.bpf.h"
#include "escape.bpf.h"
#include "compat.bpf.h"
