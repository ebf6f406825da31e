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
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_prog_stats_init exec-env 2000 3 "$@"  # CALLS: execs
set -- "${bench_args[@]}"

# run_cnt run_time_ns of vg_sched_exec (0 0 when not loaded)
snapshot() { bench_prog_snapshot vg_sched_exec | awk '{ c += $2; t += $3 } END { print c + 0, t + 0 }'; }

sysctl -qw kernel.bpf_stats_enabled=1
echo "environment $(env | wc -c) bytes in the loop's children ($(env | wc -l) variables)"
printf "%-12s %6s %14s %18s %18s\n" "sensor" "round" "loop ns/exec" "vg_sched_exec ns" "sensor cpu ns/exec"
for r in $(seq "$rounds"); do
  printf "%-12s %6s %14s %18s %18s\n" "bare" "$r" "$("$work/openloop" "$calls" exec)" "-" "-"
  for spec in "$@"; do
    label=${spec%%|*}
    read -r -a cmd <<<"${spec#*|}"
    case " ${cmd[*]} " in *" events "*) cmd+=(-w /dev/null) ;; esac
    bench_start "${cmd[@]}"
    sleep 0.5
    read -r c0 t0 < <(snapshot)
    cpu0=$(bench_cpu_ns)
    ns=$("$work/openloop" "$calls" exec)
    sleep 0.3 # the consumer drains what is left in the ring
    cpu=$(( ($(bench_cpu_ns) - cpu0) / calls ))
    read -r c1 t1 < <(snapshot)
    bench_stop
    per=$(( c1 > c0 ? (t1 - t0) / (c1 - c0) : 0 ))
    printf "%-12s %6s %14s %18s %18s\n" "$label" "$r" "$ns" "$per" "$cpu"
  done
done
