# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh: what the capture benchmark scripts share (sourced, bash).
#
#   bench_init NAME TOOL...   root and each TOOL checked; $work made; on exit
#                             a running sensor is stopped, bench_on_exit (if
#                             the script defines it) runs, $work goes
#   bench_openloop            compiles bench/openloop.c to $work/openloop
#   bench_start CMD...        starts CMD (a `vigil events ...` or `vigil run ...`
#                             command line, stdout to /dev/null, log
#                             $work/vigil.log), waits up to 90 s for "capturing
#                             with" (events) or "vigil running" (run); exits 1 with
#                             the log if it does not come
#   bench_stop                stops it (SIGINT) and waits
#   bench_cpu_ns              CPU time (user + system) the started sensor has
#                             used so far, in ns (clock-tick resolution)
#   bench_opts_nr USAGE ARG...  -n N into $calls and -r N into $rounds (set
#                             their defaults first); the other arguments (one
#                             at least, else USAGE and exit 2) into the array
#                             bench_args
#   bench_vigil NAME BUILD    $vigil (BUILD/agent/vigil, absolute) and $rules
#                             (the default rules); exits 1 if vigil is not built
#   bench_keep_bpf_stats      kernel.bpf_stats_enabled put back as it was at exit
#                             (defines bench_on_exit)
#   bench_prog_snapshot PROG...  "name run_cnt run_time_ns", a line for each
#                             loaded BPF program of one of those names

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil_pid=

bench_init() {
  local name=$1 t
  shift
  [ "$(id -u)" -eq 0 ] || { echo "$name: needs root (loads BPF programs)" >&2; exit 1; }
  for t in "$@"; do command -v "$t" >/dev/null || { echo "$name: needs $t" >&2; exit 1; }; done
  work=$(mktemp -d "/tmp/vigil-$name-XXXXXX")
  trap bench_cleanup EXIT
}

bench_cleanup() {
  bench_stop
  if declare -F bench_on_exit >/dev/null; then bench_on_exit; fi
  rm -rf "$work"
}

bench_openloop() {
  cc -O2 -o "$work/openloop" "$bench_dir/openloop.c"
}

bench_start() {
  "$@" >/dev/null 2>"$work/vigil.log" &
  vigil_pid=$!
  for _ in $(seq 900); do grep -q -E "capturing with|vigil running" "$work/vigil.log" && return 0; sleep 0.1; done
  echo "did not start: $*" >&2
  cat "$work/vigil.log" >&2
  exit 1
}

bench_stop() {
  if [ -n "$vigil_pid" ]; then
    kill -INT "$vigil_pid" 2>/dev/null || true
    wait "$vigil_pid" 2>/dev/null || true
    vigil_pid=
  fi
}

bench_cpu_ns() {
  # fields after the ")" that ends comm: 12th and 13th are utime and stime
  local stat
  stat=$(cat "/proc/$vigil_pid/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $(( (${12} + ${13}) * 1000000000 / $(getconf CLK_TCK) ))
}

bench_opts_nr() {
  local usage=$1 opt OPTIND=1
  shift
  while getopts "n:r:" opt; do
    case $opt in
      n) calls=$OPTARG ;;
      r) rounds=$OPTARG ;;
      *) echo "usage: $usage" >&2; exit 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  [ $# -gt 0 ] || { echo "usage: $usage" >&2; exit 2; }
  bench_args=("$@")
}

bench_vigil() {
  vigil=$(readlink -f "$2/agent/vigil")
  rules=$(readlink -f "$bench_dir/../rules")
  [ -x "$vigil" ] || { echo "$1: build vigil in $2 first" >&2; exit 1; }
}

bench_keep_bpf_stats() {
  bench_old_stats=$(sysctl -n kernel.bpf_stats_enabled)
  bench_on_exit() { sysctl -qw kernel.bpf_stats_enabled="$bench_old_stats" || true; }
}

bench_prog_snapshot() {
  bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") in sys.argv[1:]:
        print(p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))' "$@"
}
