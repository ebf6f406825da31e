# SPDX-License-Identifier: Apache-2.0
# elf32_pause: a static i386 program for the tests (built with binutils' `as --32` and
# `ld -m elf_i386`; no multilib needed). With no argument it exits 7; with any argument it
# waits in pause() until a signal ends it. Everything goes through `int $0x80`, the 32-bit
# syscall entry that the syscalls/ tracepoints do not see.
        .text
        .globl _start
_start:
        movl    (%esp), %eax    # argc
        cmpl    $1, %eax
        jg      1f
        movl    $1, %eax        # exit(7)
        movl    $7, %ebx
        int     $0x80
1:
        movl    $29, %eax       # pause()
        int     $0x80
        jmp     1b
