#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# capture_prog_cost.sh: the in-kernel cost of vigil's openat capture, per
# program run, from the kernel's own BPF run-time statistics
# (kernel.bpf_stats_enabled), for one or more vigil binaries in the same run
# (A/B: e.g. a build of an older commit against the current one). Also times
# an open+close loop under each and with no sensor. Prints figures; asserts
# nothing. Needs root, bpftool and a C compiler.
#
#   sudo bench/capture_prog_cost.sh [-n CALLS] [-r ROUNDS] VIGIL [VIGIL...]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_prog_stats_init prog-cost 200000 2 "$@"
set -- "${bench_args[@]}"

# name run_cnt run_time_ns of vigil's openat pair
snapshot() { bench_prog_snapshot vg_enter_openat vg_exit_openat; }

sysctl -qw kernel.bpf_stats_enabled=1
printf "%-40s %6s %12s %16s %16s\n" "sensor" "round" "loop ns/op" "enter ns/run" "exit ns/run"
for r in $(seq "$rounds"); do
  printf "%-40s %6s %12s %16s %16s\n" "none" "$r" "$("$work/openloop" "$calls")" "-" "-"
  for v in "$@"; do
    bench_start "$v" events -w /dev/null --stats-interval 3600
    sleep 0.5
    before=$(snapshot)
    ns=$("$work/openloop" "$calls")
    after=$(snapshot)
    bench_stop
    read -r enter exit_ < <(python3 -c '
import sys
a = {l.split()[0]: list(map(int, l.split()[1:])) for l in sys.argv[1].splitlines()}
b = {l.split()[0]: list(map(int, l.split()[1:])) for l in sys.argv[2].splitlines()}
def per(k):
    if k not in a or k not in b:
        return "-"  # no such program in this build (no sys_enter half)
    c = b[k][0] - a[k][0]
    return (b[k][1] - a[k][1]) // c if c > 0 else 0
print(per("vg_enter_openat"), per("vg_exit_openat"))' "$before" "$after")
    printf "%-40s %6s %12s %16s %16s\n" "$v" "$r" "$ns" "$enter" "$exit_"
  done
done
