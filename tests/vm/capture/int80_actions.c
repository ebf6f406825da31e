// SPDX-License-Identifier: Apache-2.0
// int80_actions: a 64-bit program that makes its actions as 32-bit (ia32) syscalls through
// `int $0x80`, the way past sensors that watch only the per-call syscall tracepoints. Built static
// and non-PIE, so that its data (the only memory it hands to the 32-bit calls) lies below 4 GiB;
// the stack does not. Used by capture_events_vm_check (and nowhere else: the host has no ia32
// emulation).
//
// Prints one line per action, "int80 <action> <result> [detail]", results as the kernel returned
// them (-errno), then "int80 done". Usage: int80_actions PORT (a loopback listener's port).
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

// ia32 numbers (arch/x86/entry/syscalls/syscall_32.tbl)
enum {
  NR32_OPEN = 5,
  NR32_CLOSE = 6,
  NR32_EXECVE = 11,
  NR32_SETUID16 = 23,
  NR32_PTRACE = 26,
  NR32_SETREUID16 = 70,
  NR32_SOCKETCALL = 102,
  NR32_INIT_MODULE = 128,
  NR32_SETUID32 = 213,
  NR32_SETRESGID32 = 210,
  NR32_OPENAT = 295,
  NR32_FINIT_MODULE = 350,
  NR32_BPF = 357,
  NR32_SOCKET = 359,
  NR32_CONNECT = 362,
};

static long int80(long nr, long a, long b, long c, long d, long e) {
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                   : "memory", "r8", "r9", "r10", "r11");
  return (int)ret;
}

static long lo(const void* p) { return (long)(uint32_t)(uintptr_t)p; }

// Everything the 32-bit calls read lives here (below 4 GiB).
static char shadow[] = "/etc/shadow";
static char tmp_path[] = "/tmp/int80-openat";
static char module_params[] = "int80_param=1";
static char module_image[64] = "not an ELF module";
static char devnull[] = "/dev/null";
static char bin_true[] = "/bin/true";
static char arg_marker[] = "int80-exec-marker";
static uint32_t exec_argv[3];
static uint32_t sock_args[3];
static unsigned char sa_in[16];
static struct bpf_insn insns[] = {
    {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32},
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};
static char license[] = "GPL";
static union bpf_attr attr;

static void report(const char* what, long ret, long detail) {
  printf("int80 %s %ld %ld\n", what, ret, detail);
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: int80_actions PORT\n");
    return 2;
  }
  int port = atoi(argv[1]);
  long fd = int80(NR32_OPEN, lo(shadow), O_RDONLY, 0, 0, 0);
  report("open", fd, 0);
  if (fd >= 0) int80(NR32_CLOSE, fd, 0, 0, 0, 0);
  fd = int80(NR32_OPENAT, AT_FDCWD, lo(tmp_path), O_WRONLY | O_CREAT | O_TRUNC, 0600, 0);
  report("openat", fd, 0);
  if (fd >= 0) int80(NR32_CLOSE, fd, 0, 0, 0, 0);

  // 127.0.0.1:port as a struct sockaddr_in
  sa_in[0] = 2;  // AF_INET, little endian
  sa_in[2] = (unsigned char)(port >> 8);
  sa_in[3] = (unsigned char)port;
  sa_in[4] = 127;
  sa_in[7] = 1;
  long s1 = int80(NR32_SOCKET, 2, 1, 0, 0, 0);  // AF_INET, SOCK_STREAM
  report("connect_direct", s1 >= 0 ? int80(NR32_CONNECT, s1, lo(sa_in), 16, 0, 0) : s1, s1);
  sock_args[0] = 2;
  sock_args[1] = 1;
  long s2 = int80(NR32_SOCKETCALL, 1, lo(sock_args), 0, 0, 0);  // SYS_SOCKET
  sock_args[0] = (uint32_t)s2;
  sock_args[1] = (uint32_t)lo(sa_in);
  sock_args[2] = 16;
  report("connect_socketcall", s2 >= 0 ? int80(NR32_SOCKETCALL, 3, lo(sock_args), 0, 0, 0) : s2, s2);

  pid_t victim = fork();
  if (victim == 0) {
    pause();
    _exit(0);
  }
  long pr = int80(NR32_PTRACE, 16, victim, 0, 0, 0);  // PTRACE_ATTACH
  if (pr == 0) {
    waitpid(victim, NULL, __WALL);
    int80(NR32_PTRACE, 17, victim, 0, 0, 0);  // PTRACE_DETACH
  }
  kill(victim, SIGKILL);
  waitpid(victim, NULL, 0);
  report("ptrace_attach", pr, victim);

  report("setuid32", int80(NR32_SETUID32, 0, 0, 0, 0, 0), 0);
  report("setreuid16", int80(NR32_SETREUID16, 0xffff, 0, 0, 0, 0), 0);
  report("setuid16", int80(NR32_SETUID16, 0, 0, 0, 0, 0), 0);
  report("setresgid32", int80(NR32_SETRESGID32, -1, 0, -1, 0, 0), 0);

  // a module image the kernel refuses (not an ELF): the call is what is captured
  report("init_module", int80(NR32_INIT_MODULE, lo(module_image), sizeof module_image, lo(module_params), 0, 0), 0);
  long nul = int80(NR32_OPEN, lo(devnull), O_RDONLY, 0, 0, 0);
  report("finit_module", int80(NR32_FINIT_MODULE, nul, lo(module_params), 0, 0, 0), nul);

  // Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK (a 64-bit call: not under test)
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &unlimited);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = 3;
  attr.license = (uint64_t)(uintptr_t)license;
  strncpy(attr.prog_name, "int80_filter", sizeof(attr.prog_name) - 1);
  report("bpf_prog_load", int80(NR32_BPF, BPF_PROG_LOAD, lo(&attr), sizeof attr, 0, 0), 0);

  // execve through int 0x80 in a child (argv: 32-bit pointers)
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    exec_argv[0] = (uint32_t)lo(bin_true);
    exec_argv[1] = (uint32_t)lo(arg_marker);
    exec_argv[2] = 0;
    long r = int80(NR32_EXECVE, lo(bin_true), lo(exec_argv), 0, 0, 0);
    _exit((int)(-r & 0x7f));
  }
  int st = 0;
  waitpid(child, &st, 0);
  report("execve", WIFEXITED(st) ? WEXITSTATUS(st) : -1, child);
  printf("int80 done\n");
  return 0;
}
