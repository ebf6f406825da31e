// SPDX-License-Identifier: Apache-2.0
// tp_floor: loads and attaches bench/tp_floor.bpf.c's empty tracepoint
// programs, says "capturing with N programs (tracepoint floor)" on stderr
// (what the capture bench scripts wait for) and holds them until SIGINT or
// SIGTERM. A baseline for bench/capture_pinned_ab.sh -t. Needs root.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tp_floor_bpf.skel.h"

int main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, nullptr);  // before loading: a signal during the load is kept, not lost

  tp_floor_bpf* skel = tp_floor_bpf__open_and_load();
  if (!skel) {
    std::fprintf(stderr, "tp_floor: loading the programs failed: %s\n", std::strerror(errno));
    return 1;
  }
  if (int err = tp_floor_bpf__attach(skel); err != 0) {
    std::fprintf(stderr, "tp_floor: attaching the programs failed: %s\n", std::strerror(-err));
    tp_floor_bpf__destroy(skel);
    return 1;
  }
  std::fprintf(stderr, "capturing with 2 programs (tracepoint floor)\n");
  int sig = 0;
  sigwait(&stop, &sig);
  tp_floor_bpf__destroy(skel);
  return 0;
}
