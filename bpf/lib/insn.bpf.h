/* SPDX-License-Identifier: GPL-2.0-only */
/* Instruction decoding both BPF objects use when they scan a program being
 * loaded (the capture's bpf() record, the enforcement's bpf.prog.helpers
 * rules). The chunked copy stays in each object: its buffer map, and the
 * bounds the verifier must see at the read (5.10's included), are its own. */
#ifndef VIGIL_BPF_LIB_INSN_BPF_H
#define VIGIL_BPF_LIB_INSN_BPF_H

#define VG_INSN_CALL 0x85 /* BPF_JMP | BPF_CALL */

/* The helper id insn calls (0..max-1), or -1 when it is not a helper call
 * or the id is max or more: BPF_JMP|BPF_CALL with src_reg 0 (1 is a
 * bpf-to-bpf call, 2 a kfunc); imm is the helper id. */
static __always_inline int vg_insn_helper_id(__u64 insn, __u32 max) {
  __u32 imm = insn >> 32;
  if ((insn & 0xff) != VG_INSN_CALL || ((insn >> 12) & 0xf) != 0 || imm >= max) return -1;
  return (int)imm;
}

#endif
