#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# compat_cost.sh: what the compat programs (vg_compat_enter / vg_compat_exit on
# the raw sys_enter / sys_exit tracepoints, bpf/compat.bpf.h) cost 64-bit
# processes, which they pass at once. For each vigil binary given (A/B: one
# without the compat programs, one with), in the same run and alternating
# round by round with no sensor: an open+close loop and a getpid loop (a call
# vigil does not capture), ns per call and the ratio to bare; then, from the
# kernel's BPF run-time statistics (kernel.bpf_stats_enabled, switched on only
# for that second pass: it adds two clock reads to every program run), ns per
# run of each compat program over both loops again (runs: how often it ran). Prints figures;
# asserts nothing. Needs root, bpftool and a C compiler.
#
#   sudo bench/compat_cost.sh [-n CALLS] [-r ROUNDS] VIGIL[,ARG...] [VIGIL[,ARG...]...]
#
# Arguments after a comma go to that binary's `vigil events`, e.g.
# build/agent/vigil,--ia32-programs=on beside build/agent/vigil (auto).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_prog_stats_init compat-cost 1000000 3 "$@"
set -- "${bench_args[@]}"

# "name run_cnt run_time_ns" of the compat programs
snapshot() { bench_prog_snapshot vg_compat_enter vg_compat_exit; }

# ns per run and runs of each compat program between two snapshots ("-": none in this build)
per_run() {
  python3 -c '
import sys
a = {l.split()[0]: list(map(int, l.split()[1:])) for l in sys.argv[1].splitlines()}
b = {l.split()[0]: list(map(int, l.split()[1:])) for l in sys.argv[2].splitlines()}
out = []
for k in ("vg_compat_enter", "vg_compat_exit"):
    if k not in a or k not in b:
        out.append("-")
        continue
    c = b[k][0] - a[k][0]
    out.append("%.1f/%d" % ((b[k][1] - a[k][1]) / c, c) if c > 0 else "0/0")
print(" ".join(out))' "$1" "$2"
}

ratio() { python3 -c "print('%.3f' % ($1 / $2))"; }

sysctl -qw kernel.bpf_stats_enabled=0
printf "%-44s %5s %9s %7s %9s %7s %20s %20s\n" "sensor" "round" "open ns" "x bare" "getpid ns" "x bare" \
  "enter ns/run / runs" "exit ns/run / runs"
for r in $(seq "$rounds"); do
  bare_open=$("$work/openloop" "$calls")
  bare_pid=$("$work/openloop" "$calls" getpid)
  printf "%-44s %5s %9s %7s %9s %7s %20s %20s\n" "none" "$r" "$bare_open" "1.000" "$bare_pid" "1.000" "-" "-"
  for v in "$@"; do
    IFS=, read -r -a spec <<<"$v"
    bench_start "${spec[@]:0:1}" events -w /dev/null --stats-interval 3600 "${spec[@]:1}"
    sleep 0.5
    open_ns=$("$work/openloop" "$calls")
    pid_ns=$("$work/openloop" "$calls" getpid)
    sysctl -qw kernel.bpf_stats_enabled=1
    before=$(snapshot)
    "$work/openloop" "$calls" >/dev/null
    "$work/openloop" "$calls" getpid >/dev/null
    after=$(snapshot)
    sysctl -qw kernel.bpf_stats_enabled=0
    bench_stop
    read -r enter exit_ < <(per_run "$before" "$after")
    printf "%-44s %5s %9s %7s %9s %7s %20s %20s\n" "$v" "$r" "$open_ns" "$(ratio "$open_ns" "$bare_open")" \
      "$pid_ns" "$(ratio "$pid_ns" "$bare_pid")" "$enter" "$exit_"
  done
done
