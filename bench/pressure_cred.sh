#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pressure_cred.sh: do credential-file reads still alert while unprivileged
# open loops overflow the ring buffer? (issue 24, point 3). Not in CI.
#
#   sudo bench/pressure_cred.sh [-p PROCS] [-n READS] [-m RINGBUF_MB] [-l PRIORITY_KB] [-b BUILD_DIR]
#
# `vigil run` with the default rules (rules/), the file sink only, throttle
# off, a ring buffer of RINGBUF_MB (default 16, the default). PROCS (default
# 12) processes run as `nobody`, each an endless open+close loop of
# /etc/hostname (bench/openloop.c); meanwhile root runs `cat /etc/shadow`
# READS times (default 40), 4 a second. Prints the reads, how many raised
# "Sensitive Credential File Read", the kernel's ringbuf_drop count, and the
# "vigil events lost" alerts (their vigil.events.lost summed), and the
# priority lane's records received and dropped. PRIORITY_KB is
# capture.priority_ringbuf_kb (default 512, the default; 0: the lane off,
# every record in the one ring). Needs root, setpriv, curl, jq and a C
# compiler. Asserts nothing.
set -euo pipefail
procs=12 reads=40 ringbuf=16 priority=512 build=build
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_getopts "p:procs n:reads m:ringbuf l:priority b:build" "$@"
bench_vigil pressure_cred "$build"
bench_init pressure_cred setpriv cc curl jq
loops=()
bench_on_exit() {
  local p
  for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# nobody must be able to run the loop: a 0755 directory of its own
chmod 0755 "$work"
bench_openloop
bench_config metrics quiet file_sink <<EOF
stats_interval_s: 0
capture:
  ringbuf_mb: $ringbuf
  priority_ringbuf_kb: $priority
EOF
bench_start "$vigil" run -c "$work/vigil.yaml" -r "$rules"
metric() {
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
drops() { metric 'vigil_kernel_errors_total{site="ringbuf_drop"}'; }
d0=$(drops)
pr0=$(metric vigil_priority_lane_received_total)
pd0=$(metric vigil_priority_lane_dropped_total)
for _ in $(seq "$procs"); do
  setpriv --reuid=65534 --regid=65534 --clear-groups "$work/openloop" 4000000000 >/dev/null &
  loops+=($!)
done
sleep 2
for _ in $(seq "$reads"); do
  cat /etc/shadow >/dev/null
  sleep 0.25
done
sleep 1
d1=$(drops)
pr1=$(metric vigil_priority_lane_received_total)
pd1=$(metric vigil_priority_lane_dropped_total)
for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${loops[@]}" 2>/dev/null || true
loops=()
sleep 2
bench_stop
alerted=$(jq -r 'select(.rule == "Sensitive Credential File Read" and .output_fields["proc.name"] == "cat"
  and .output_fields["fd.name"] == "/etc/shadow") | .uuid' "$work/alerts.json" | wc -l)
lost_alerts=$(jq -r 'select(.rule == "vigil events lost") | .uuid' "$work/alerts.json" | wc -l)
lost_sum=$(jq -s '[.[] | select(.rule == "vigil events lost") | .output_fields["vigil.events.lost"] // 0 | tonumber] | add // 0' "$work/alerts.json")
echo "pressure_cred: $procs nobody open loops, ring buffer $ringbuf MiB, priority lane $priority KiB, $reads reads of /etc/shadow by root"
printf '  %-48s %s\n' \
  "credential reads alerted" "$alerted / $reads" \
  "ringbuf_drop during the reads (kernel counter)" "$((d1 - d0))" \
  "'vigil events lost' alerts (events summed)" "$lost_alerts ($lost_sum)" \
  "priority lane received / dropped (kernel)" "$((pr1 - pr0)) / $((pd1 - pd0))"
