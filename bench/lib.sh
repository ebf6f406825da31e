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
#   bench_getopts SPEC ARG...  options by a table: SPEC is "x:var ..." (-x VALUE
#                             sets var) and "x=var" (the flag -x sets var to 1);
#                             the other arguments into the array bench_args; an
#                             unknown option prints the script's header comment
#                             (bench_usage) and exits 2
#   bench_config PART...      writes $work/vigil.yaml: the PARTs named (metrics:
#                             /metrics on 127.0.0.1:$port, $port picked here;
#                             quiet: container metadata and throttle off;
#                             file_sink: the file sink $work/alerts.json only),
#                             then the script's own sections from stdin
#   bench_vigil NAME BUILD    $vigil (BUILD/agent/vigil, absolute) and $rules
#                             (the default rules); exits 1 if vigil is not built
#   bench_prog_stats_init NAME CALLS ROUNDS ARG...  for the scripts that read
#                             the kernel's BPF run-time statistics: -n N into
#                             $calls and -r N into $rounds (defaults CALLS and
#                             ROUNDS), the other arguments (one at least, else
#                             bench_usage) into the array bench_args; then
#                             bench_init NAME with bpftool, cc and python3,
#                             kernel.bpf_stats_enabled put back as it was at
#                             exit (defines bench_on_exit), and bench_openloop
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

bench_vigil() {
  vigil=$(readlink -f "$2/agent/vigil")
  rules=$(readlink -f "$bench_dir/../rules")
  [ -x "$vigil" ] || { echo "$1: build vigil in $2 first" >&2; exit 1; }
}

bench_usage() {
  awk 'NR > 2 { if (!/^#/) exit; print }' "$0" >&2
  exit 2
}

bench_getopts() {
  local spec=$1 letters="" entry opt OPTIND=1
  shift
  for entry in $spec; do
    case $entry in
      ?:*) letters+="${entry:0:1}:" ;;
      *) letters+="${entry:0:1}" ;;
    esac
  done
  while getopts "$letters" opt; do
    [ "$opt" != "?" ] || bench_usage
    for entry in $spec; do
      case $entry in
        "$opt":*) printf -v "${entry:2}" '%s' "$OPTARG" ;;
        "$opt"=*) printf -v "${entry:2}" 1 ;;
      esac
    done
  done
  shift $((OPTIND - 1))
  bench_args=("$@")
}

bench_config() {
  local part
  port=$((20000 + RANDOM % 20000))
  for part in "$@"; do
    case $part in
      metrics) printf 'metrics:\n  listen: 127.0.0.1:%s\n' "$port" ;;
      quiet) printf 'containers:\n  enabled: false\nthrottle:\n  enabled: false\n' ;;
      file_sink) printf 'outputs:\n  stdout:\n    enabled: false\n  file:\n    enabled: true\n    path: %s\n' \
        "$work/alerts.json" ;;
    esac
  done >"$work/vigil.yaml"
  cat >>"$work/vigil.yaml"
}

bench_prog_stats_init() {
  local name=$1
  calls=$2 rounds=$3
  shift 3
  bench_getopts "n:calls r:rounds" "$@"
  [ ${#bench_args[@]} -gt 0 ] || bench_usage
  bench_init "$name" bpftool cc python3
  bench_old_stats=$(sysctl -n kernel.bpf_stats_enabled)
  bench_on_exit() { sysctl -qw kernel.bpf_stats_enabled="$bench_old_stats" || true; }
  bench_openloop
}

bench_prog_snapshot() {
  bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") in sys.argv[1:]:
        print(p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))' "$@"
}
