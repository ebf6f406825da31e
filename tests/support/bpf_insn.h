// SPDX-License-Identifier: Apache-2.0
// Hand-built BPF programs for the tests that load one with the raw bpf()
// syscall (the capture's bpf() family tests, the e2e actions): an
// instruction by its fields, and the few instructions those programs use.
#pragma once

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace vigil::testing {

inline long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

inline bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}
inline bpf_insn MovImm(uint8_t reg, int32_t imm) { return Insn(BPF_ALU64 | BPF_MOV | BPF_K, reg, 0, 0, imm); }
inline bpf_insn Call(int32_t helper) { return Insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
inline bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

}  // namespace vigil::testing
