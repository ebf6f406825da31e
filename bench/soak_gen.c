/* SPDX-License-Identifier: Apache-2.0 */
/* soak_gen DIR RATE: opens DIR/1, DIR/2, ... read-only (the files need not
 * exist: a failed openat is an event too), RATE opens a second, until
 * SIGTERM or SIGINT; then prints "produced N" (the last number opened) and
 * exits 0. Each open is one alert of bench/kafka_soak.sh's marker rule, and
 * its number is in the alert's fd.name, so a consumer can tell exactly which
 * alerts arrived. SIGSTOP/SIGCONT pause it without losing count (after a
 * pause it goes on at RATE; it does not catch up). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  if (argc != 3 || atol(argv[2]) <= 0) {
    fprintf(stderr, "usage: %s DIR RATE\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  const long rate = atol(argv[2]);
  struct sigaction sa = {0};
  sa.sa_handler = on_stop; /* no SA_RESTART: the sleep ends at once */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  const struct timespec gap = {rate == 1 ? 1 : 0, rate == 1 ? 0 : 1000000000L / rate};
  unsigned long n = 0;
  char path[4096];
  while (!stop) {
    snprintf(path, sizeof path, "%s/%lu", dir, n + 1);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) close(fd);
    ++n;
    nanosleep(&gap, NULL);
  }
  printf("produced %lu\n", n);
  return 0;
}
