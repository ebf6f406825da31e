#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# capture_pinned_ab.sh: an open+close loop's cost with no sensor and under
# each given `vigil events` or `vigil run` command, the sensor pinned to CPU 1 and the loop
# to CPU 0, so the figure is the capture's cost on the loop's own CPU and not
# the consumer taking turns with it on a small host. Rounds alternate the
# commands; each round runs the bare loop once and the loop twice under each
# command (a fresh sensor per round). Prints the median and minimum ns per
# open+close, the ratio of the medians to bare, and the sensor's own CPU time
# per open (user + system, on CPU 1, while the loop ran: what reading,
# decoding and writing each event costs the consumer). Asserts nothing.
# Needs root, 2+ CPUs, a C compiler and python3.
#
#   sudo bench/capture_pinned_ab.sh [-r ROUNDS] [-n CALLS] [-s] [-b] [-m sendto|exec] [-t TP_FLOOR] "LABEL|VIGIL ARGS..." ...
#
# e.g. "typed|build/agent/vigil events --bpf-build typed" (an `events`
# command gets `-w /dev/null` appended) or "agent|build/agent/vigil run -c
# FILE" (as given: its config says where alerts go). -r: rounds
# (default 8); -n: open+close calls per run (default 200,000); -s: run the
# loop in a fresh 64-slot fd table (openloop.c); -m sendto: the loop makes
# one-byte UDP sendto calls on loopback instead of open+close (openloop.c;
# not with -s); -m exec: fork + execve("/bin/true") + waitpid rounds (-n is
# then the number of execs; not with -s); -t: also measure the
# tracepoints alone ("tracepoints" row), with TP_FLOOR the build's
# bench/tp_floor (empty programs on sys_exit_openat and on one sys_enter
# tracepoint, which puts every syscall's entry through the same hook vigil's
# enter programs do): the floor any sensor built on syscall tracepoints pays
# before its program does anything. -b: also run the bare loop while a busy
# loop (pure user-space arithmetic, no syscalls) holds CPU 1 ("busy-cpu1"
# row): what any process working on the other CPU costs the loop on this host
# (shared caches, or vCPUs that share a physical core), an upper bound for
# what the consumer's own CPU use adds to the captured rows. A command must
# log "capturing with" (vigil events, tp_floor) or "vigil running" (vigil
# run) when it is ready; it gets 90 s.
set -euo pipefail
rounds=8
calls=200000
small=0
busy=0
mode=
floor=
usage() { echo "usage: $0 [-r ROUNDS] [-n CALLS] [-s] [-b] [-m sendto|exec] [-t TP_FLOOR] \"LABEL|VIGIL ARGS...\" ..." >&2; exit 2; }
while getopts "r:n:sbm:t:" opt; do
  case $opt in
    r) rounds=$OPTARG ;;
    n) calls=$OPTARG ;;
    s) small=1 ;;
    b) busy=1 ;;
    m) [ "$OPTARG" = sendto ] || [ "$OPTARG" = exec ] || usage; mode=$OPTARG ;;
    t) floor=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[ "$(nproc)" -ge 2 ] || { echo "capture_pinned_ab: needs 2 CPUs" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
bench_init pinned cc python3 taskset
bench_openloop
loop_args=("$calls")
[ $small = 1 ] && [ -n "$mode" ] && usage
[ $small = 1 ] && loop_args+=(small)
[ -n "$mode" ] && loop_args+=("$mode")
loop() { taskset -c 0 "$work/openloop" "${loop_args[@]}"; }

labels=(bare)
[ $busy = 1 ] && labels+=(busy-cpu1)
if [ -n "$floor" ]; then
  [ -x "$floor" ] || { echo "capture_pinned_ab: -t $floor: not an executable (the build's bench/tp_floor)" >&2; exit 1; }
  labels+=(tracepoints)
fi
for spec in "$@"; do labels+=("${spec%%|*}"); done
echo "pinned A/B: $rounds rounds, $calls ${mode:-open+close} per run, fd table $([ $small = 1 ] && echo 'small (64)' || echo 'inherited')"
for r in $(seq "$rounds"); do
  echo "bare $(loop)" >>"$work/runs"
  if [ $busy = 1 ]; then
    taskset -c 1 bash -c 'while :; do :; done' &
    spin=$!
    sleep 0.5
    echo "busy-cpu1 $(loop)" >>"$work/runs"
    kill "$spin"
    wait "$spin" 2>/dev/null || true
  fi
  if [ -n "$floor" ]; then
    bench_start taskset -c 1 "$floor"
    sleep 0.5
    echo "tracepoints $(loop)" >>"$work/runs"
    echo "tracepoints $(loop)" >>"$work/runs"
    bench_stop
  fi
  for spec in "$@"; do
    label=${spec%%|*}
    read -r -a cmd <<<"${spec#*|}"
    case " ${cmd[*]} " in *" events "*) cmd+=(-w /dev/null) ;; esac
    bench_start taskset -c 1 "${cmd[@]}"
    sleep 0.5
    for _ in 1 2; do
      cpu0=$(bench_cpu_ns)
      ns=$(loop)
      sleep 0.2 # the consumer drains what is left in the ring
      echo "$label $ns $(( ($(bench_cpu_ns) - cpu0) / calls ))" >>"$work/runs"
    done
    bench_stop
  done
  echo "round $r/$rounds done" >&2
done
python3 - "$work/runs" "${labels[@]}" <<'EOF'
import statistics, sys
runs = {}
cpu = {}
for line in open(sys.argv[1]):
    label, ns, *rest = line.split()
    runs.setdefault(label, []).append(int(ns))
    if rest:
        cpu.setdefault(label, []).append(int(rest[0]))
bare = statistics.median(runs["bare"])
print(f"{'command':24s} {'median ns':>10s} {'min ns':>8s} {'x bare':>7s} {'sensor cpu ns':>14s} {'runs':>5s}")
for label in sys.argv[2:]:
    v = runs.get(label, [])
    if not v:
        continue
    m = statistics.median(v)
    c = f"{statistics.median(cpu[label]):14.0f}" if label in cpu else f"{'-':>14s}"
    print(f"{label:24s} {m:10.0f} {min(v):8d} {m / bare:7.2f} {c} {len(v):5d}")
EOF
