// SPDX-License-Identifier: Apache-2.0
// The system calls Falco's event-generator (github.com/falcosecurity/
// event-generator, events/syscall/*.go) makes itself, rather than through a
// program it runs, in its container-only actions: tests/e2e/
// falco_container_actions.sh runs this (statically linked, as the generator
// is) as /usr/local/bin/event-generator inside a podman container whose image
// has nothing but busybox. Each command is one Go call of the generator:
//   packet_socket                 syscall.Socket(AF_PACKET, SOCK_RAW, ETH_P_ALL), closed
//   write_file PATH MODE SRC      os.WriteFile(PATH, content of SRC ("-": stdin), MODE)
//   open_write PATH               os.OpenFile(PATH, O_WRONLY, 0644), closed
//   newns_newuser PROG ARGS...    exec.Command with Cloneflags CLONE_NEWNS|CLONE_NEWUSER, run
//   no_sys_admin PROG ARGS...     PROG run as root without CAP_SYS_ADMIN anywhere (bounding,
//                                 permitted, effective, inheritable): root in an unprivileged container
// Exit 0, or 1 with a message naming the call that failed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int Fail(const char* what, const char* arg) {
  fprintf(stderr, "event-generator: %s %s: %s\n", what, arg, strerror(errno));
  return 1;
}

static int PacketSocket(void) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) return Fail("socket", "AF_PACKET");
  close(fd);
  return 0;
}

static int WriteFile(const char* path, const char* mode, const char* src) {
  char buf[1 << 16];
  int in = strcmp(src, "-") == 0 ? 0 : open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return Fail("open", src);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)strtol(mode, NULL, 8));
  if (out < 0) return Fail("open", path);
  for (ssize_t n; (n = read(in, buf, sizeof buf)) != 0;) {
    if (n < 0) return Fail("read", src);
    if (write(out, buf, (size_t)n) != n) return Fail("write", path);
  }
  close(out);
  return 0;
}

static int OpenWrite(const char* path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Fail("open", path);
  close(fd);
  return 0;
}

static int RunWait(pid_t pid, char** argv) {
  if (pid < 0) return Fail("clone", argv[0]);
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return 0;  // the program's own failure is expected (the generator ignores it)
}

static int NoSysAdmin(char** argv) {
  if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0) return Fail("prctl", "PR_CAPBSET_DROP");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) return Fail("capget", "");
  const unsigned bit = 1u << (CAP_SYS_ADMIN % 32);
  data[CAP_SYS_ADMIN / 32].effective &= ~bit;
  data[CAP_SYS_ADMIN / 32].permitted &= ~bit;
  data[CAP_SYS_ADMIN / 32].inheritable &= ~bit;
  if (syscall(SYS_capset, &hdr, data) != 0) return Fail("capset", "");
  execvp(argv[0], argv);
  return Fail("execvp", argv[0]);
}

int main(int argc, char** argv) {
  const char* cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "packet_socket") == 0 && argc == 2) return PacketSocket();
  if (strcmp(cmd, "write_file") == 0 && argc == 5) return WriteFile(argv[2], argv[3], argv[4]);
  if (strcmp(cmd, "open_write") == 0 && argc == 3) return OpenWrite(argv[2]);
  if (strcmp(cmd, "newns_newuser") == 0 && argc > 2) {
    fflush(NULL);
    return RunWait((pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), argv + 2);
  }
  if (strcmp(cmd, "no_sys_admin") == 0 && argc > 2) return NoSysAdmin(argv + 2);
  fprintf(stderr,
          "usage: event-generator packet_socket | write_file PATH MODE SRC | open_write PATH |\n"
          "       newns_newuser PROG ARGS... | no_sys_admin PROG ARGS...\n");
  return 2;
}
