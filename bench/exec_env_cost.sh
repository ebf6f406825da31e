#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exec_env_cost.sh: what capturing the environment at exec (proc.env) costs
# per exec. For each sensor command it times a fork + execve("/bin/true") +
# waitpid loop (openloop.c exec mode) and reads, from the kernel's BPF
# run-time statistics (kernel.bpf_stats_enabled), the ns per run of
# vg_sched_exec, the program that builds the exec record (and copies the
# environment when a loaded rule reads it), plus the sensor's own CPU time per
# exec. Rounds alternate the commands. Prints figures; asserts nothing. Needs
# root, bpftool and a C compiler.
#
#   sudo bench/exec_env_cost.sh [-n EXECS] [-r ROUNDS] "LABEL|VIGIL ARGS..." ...
#
# e.g. "env-off|build/agent/vigil run -c CONF -r bench/exec_only_rules.yaml" and
# "env-on|build/agent/vigil run -c CONF -r bench/exec_only_rules.yaml -r bench/env_rules.yaml"
# (the same exec events sent; only the environment switch differs).
set -euo pipefail
execs=2000
rounds=3
usage() { echo "usage: $0 [-n EXECS] [-r ROUNDS] \"LABEL|VIGIL ARGS...\" ..." >&2; exit 2; }
while getopts "n:r:" opt; do
  case $opt in
    n) execs=$OPTARG ;;
    r) rounds=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
. "$(dirname "$0")/lib.sh"
bench_init exec-env bpftool cc python3
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
bench_on_exit() { sysctl -qw kernel.bpf_stats_enabled="$old_stats" || true; }
bench_openloop

# run_cnt run_time_ns of vg_sched_exec (0 0 when not loaded)
snapshot() {
  bpftool prog show -j | python3 -c '
import json, sys
c = t = 0
for p in json.load(sys.stdin):
    if p.get("name") == "vg_sched_exec":
        c += p.get("run_cnt", 0); t += p.get("run_time_ns", 0)
print(c, t)'
}

sysctl -qw kernel.bpf_stats_enabled=1
echo "environment $(env | wc -c) bytes in the loop's children ($(env | wc -l) variables)"
printf "%-12s %6s %14s %18s %18s\n" "sensor" "round" "loop ns/exec" "vg_sched_exec ns" "sensor cpu ns/exec"
for r in $(seq "$rounds"); do
  printf "%-12s %6s %14s %18s %18s\n" "bare" "$r" "$("$work/openloop" "$execs" exec)" "-" "-"
  for spec in "$@"; do
    label=${spec%%|*}
    read -r -a cmd <<<"${spec#*|}"
    case " ${cmd[*]} " in *" events "*) cmd+=(-w /dev/null) ;; esac
    bench_start "${cmd[@]}"
    sleep 0.5
    read -r c0 t0 < <(snapshot)
    cpu0=$(bench_cpu_ns)
    ns=$("$work/openloop" "$execs" exec)
    sleep 0.3 # the consumer drains what is left in the ring
    cpu=$(( ($(bench_cpu_ns) - cpu0) / execs ))
    read -r c1 t1 < <(snapshot)
    bench_stop
    per=$(( c1 > c0 ? (t1 - t0) / (c1 - c0) : 0 ))
    printf "%-12s %6s %14s %18s %18s\n" "$label" "$r" "$ns" "$per" "$cpu"
  done
done
