/* SPDX-License-Identifier: Apache-2.0 */
/* openloop N [small|getpid|sendto]: N open+close calls of /etc/hostname;
 * prints ns per call. With "small", first closes every descriptor above 2 and forks, so
 * the loop runs in a fresh 64-slot fd table (as a systemd service has;
 * vigil reads an opened file's path by direct loads only in such a table).
 * With "getpid", N getpid calls instead (a call vigil does not capture: what
 * it pays is the programs every syscall passes, e.g. the compat check).
 * With "sendto", N one-byte sendto calls on a UDP socket connected to a
 * loopback socket nobody reads (once its buffer is full the kernel drops
 * the datagrams: a cheap call, the data path of a busy host).
 * With "exec", N fork + execve("/bin/true") + waitpid rounds (what a
 * sensor pays per exec: the exec record, its argv, exe and cwd walks, and
 * the environment when it captures that); the child inherits this process's
 * environment.
 * Built and run by bench/capture_prog_cost.sh, capture_line_profile.sh and
 * compat_cost.sh. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s N [small]\n", argv[0]);
    return 2;
  }
  long n = atol(argv[1]);
  if (argc > 2 && strcmp(argv[2], "small") == 0) {
    syscall(SYS_close_range, 3, ~0U, 0);
    pid_t p = fork();
    if (p < 0) {
      perror("fork");
      return 1;
    }
    if (p > 0) {
      int st = 0;
      waitpid(p, &st, 0);
      return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
  }
  int getpid_loop = argc > 2 && strcmp(argv[2], "getpid") == 0;
  int sendto_loop = argc > 2 && strcmp(argv[2], "sendto") == 0;
  int exec_loop = argc > 2 && strcmp(argv[2], "exec") == 0;
  int tx = -1;
  if (sendto_loop) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rx = socket(AF_INET, SOCK_DGRAM, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(rx, (struct sockaddr *)&a, &len) != 0 || connect(tx, (struct sockaddr *)&a, sizeof(a)) != 0) {
      perror("udp setup");
      return 1;
    }
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  if (getpid_loop)
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
  else if (sendto_loop)
    for (long i = 0; i < n; i++) syscall(SYS_sendto, tx, "x", 1, 0, NULL, 0);
  else if (exec_loop)
    for (long i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) {
        char *args[] = {"/bin/true", NULL};
        execve("/bin/true", args, environ);
        _exit(127);
      }
      int st = 0;
      if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "exec round %ld failed\n", i);
        return 1;
      }
    }
  else
    for (long i = 0; i < n; i++) close(open("/etc/hostname", O_RDONLY));
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
