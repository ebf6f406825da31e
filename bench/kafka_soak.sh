#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kafka_soak.sh: alert delivery through a Kafka broker outage with agent
# restarts (issue 24). Not run in CI: it takes minutes and loads BPF.
#
#   sudo bench/kafka_soak.sh [-s] [-o OUTAGE_S] [-k RESTARTS] [-r RATE] [-w WARM_S] [-m SPOOL_MB] [-b BUILD_DIR]
#
# `vigil run` (BUILD_DIR/agent/vigil) sends alerts to Kafka only: a
# librdkafka mock cluster in its own process (BUILD_DIR's
# outputs_mock_broker), taken down and up on command. bench/soak_gen.c opens
# DIR/1, DIR/2, ... RATE times a second (default 50); a marker rule
# (condition: an open under DIR) makes each open one alert carrying its number.
#
#   1. broker up, WARM_S seconds (default 20) of alerts delivered;
#   2. broker down for OUTAGE_S seconds (default 300); within it the agent is
#      restarted RESTARTS times (default 4) at even intervals, alternately
#      with SIGTERM and SIGKILL, on the same spool;
#   3. broker up; the generator goes on for WARM_S seconds, stops; the script
#      waits until the spool is empty (vigil_alerts_pending{sink="kafka"}).
#
# Before each restart the generator is paused (SIGSTOP) until the agent has
# spooled every alert it raised (matches, queue and spool counters steady):
# what a SIGKILL takes with it from the kernel ring buffer or the sink queue
# is lost by definition and counted nowhere, and the point here is what the
# spool does with what it holds. The agent's counters are read from /metrics
# just before each stop. kcat (an independent consumer) then reads the topic.
#
# Prints, summed over the agent runs: produced (opens made by the generator),
# raised (marker rule matches), spool overflow alerts raised (their log
# lines), spooled, sent (broker acknowledgements), dropped; and from the
# topic: delivered (distinct marker alerts), duplicates (the same alert
# number again), vigil's own alerts by rule; then whether they add up:
# produced = raised; raised + overflow alerts = distinct alerts in the topic
# + dropped; sent = records in the topic; dropped = the drops the overflow
# alerts report. -s: short mode (outage 30 s, 2 restarts, warm 10 s; -o, -k
# and -w still win) for a quick check. -m: spool_max_mb (default 256, the default): a small spool
# makes the outage overflow it, so that dropped is not 0. Needs root, kcat,
# curl, jq and a C compiler. Asserts nothing: it prints the figures and
# "adds up: yes|no".
set -euo pipefail
short='' outage='' restarts='' warm='' rate=50 build=build spool_mb=256
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_getopts "s=short o:outage k:restarts r:rate w:warm m:spool_mb b:build" "$@"
# -s changes the defaults only: -o, -k and -w given beside it win
if [ -n "$short" ]; then : "${outage:=30}" "${restarts:=2}" "${warm:=10}"; fi
: "${outage:=300}" "${restarts:=4}" "${warm:=20}"
vigil=$(readlink -f "$build/agent/vigil")
mock=$(readlink -f "$build/tests/integration/outputs/outputs_mock_broker")
[ -x "$vigil" ] && [ -x "$mock" ] || { echo "kafka_soak: build vigil and outputs_mock_broker in $build first" >&2; exit 1; }
bench_init kafka_soak kcat curl jq cc
gen_pid=
broker_pid=
bench_on_exit() {
  [ -n "$gen_pid" ] && kill -CONT "$gen_pid" 2>/dev/null && kill "$gen_pid" 2>/dev/null
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
  wait 2>/dev/null || true
}

t0=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t0)) "$*"; }

# --- broker ---------------------------------------------------------------
coproc BROKER { exec "$mock" soak:2; }
broker_pid=$BROKER_PID
read -r -t 20 word bootstrap <&"${BROKER[0]}" && [ "$word" = bootstrap ] || { echo "kafka_soak: mock broker did not start" >&2; exit 1; }
broker() {
  local reply
  echo "$1" >&"${BROKER[1]}"
  read -r -t 10 reply <&"${BROKER[0]}"
  say "broker: $reply"
}

# --- agent ----------------------------------------------------------------
cc -O2 -o "$work/soak_gen" "$bench_dir/soak_gen.c"
marks=$work/marks
mkdir -p "$marks"
cat >"$work/rules.yaml" <<EOF
- rule: Soak marker open
  desc: an open under the soak generator's directory (bench/kafka_soak.sh)
  condition: evt.type in (open, openat, openat2) and fd.name startswith $marks/
  output: soak marker %fd.name
  priority: WARNING
EOF
bench_config metrics quiet <<EOF
stats_interval_s: 30
outputs:
  stdout:
    enabled: false
  file:
    enabled: false
  kafka:
    enabled: true
    brokers: $bootstrap
    topic: soak
    spool_dir: $work/spool
    spool_max_mb: $spool_mb
EOF

runs=0
start_agent() {
  runs=$((runs + 1))
  "$vigil" run -c "$work/vigil.yaml" -r "$work/rules.yaml" >/dev/null 2>"$work/vigil-$runs.log" &
  vigil_pid=$!
  local since next
  since=$(date +%s)
  next=$((since + 10))
  while [ $(($(date +%s) - since)) -lt 180 ]; do
    grep -q "vigil running" "$work/vigil-$runs.log" && { say "agent run $runs started (pid $vigil_pid)"; return 0; }
    kill -0 "$vigil_pid" 2>/dev/null || break
    [ "$(date +%s)" -ge $next ] && { say "waiting for agent run $runs to start ($((next - since)) s)"; next=$((next + 10)); }
    sleep 0.1
  done
  echo "kafka_soak: agent run $runs did not start:" >&2
  cat "$work/vigil-$runs.log" >&2
  exit 1
}

scrape() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/metrics" || true; }
# metric NAME [LABELS]: its value in the last scrape (0 when absent)
metric() {
  local key=$1
  [ -n "${2:-}" ] && key="$1{$2}"
  awk -v k="$key " 'index($0, k) == 1 { v = $NF } END { print v + 0 }' "$work/metrics"
}
snapshot() {
  scrape
  echo "$(metric vigil_rule_matches_total 'rule="Soak marker open"') $(metric vigil_alerts_spooled_total 'sink="kafka"') $(metric vigil_alerts_sent_total 'sink="kafka"') $(metric vigil_alerts_dropped_total 'sink="kafka"') $(metric vigil_alerts_queued 'sink="kafka"') $(metric vigil_alerts_pending 'sink="kafka"')"
}
status() {
  local s
  read -r -a s <<<"$(snapshot)"
  say "$1: run $runs raised ${s[0]} spooled ${s[1]} sent ${s[2]} dropped ${s[3]} queued ${s[4]} pending ${s[5]}"
}

tot_raised=0 tot_spooled=0 tot_sent=0 tot_dropped=0
# quiesce: with the generator paused, wait until the agent's counters have
# not moved for 6 s (a spool overflow is reported within 5 s) and its queue
# is empty; then record this run's counters
quiesce() {
  local prev="" cur steady=0
  for _ in $(seq 120); do
    cur=$(snapshot)
    read -r -a s <<<"$cur"
    if [ "$cur" = "$prev" ] && [ "${s[4]}" = 0 ]; then steady=$((steady + 1)); else steady=0; fi
    [ $steady -ge 12 ] && break
    prev=$cur
    sleep 0.5
  done
  [ $steady -ge 12 ] || say "warning: run $runs's counters did not settle in 60 s"
  tot_raised=$((tot_raised + s[0])) tot_spooled=$((tot_spooled + s[1]))
  tot_sent=$((tot_sent + s[2])) tot_dropped=$((tot_dropped + s[3]))
  say "run $runs at stop: raised ${s[0]} spooled ${s[1]} sent ${s[2]} dropped ${s[3]} pending ${s[5]}"
}

restart_agent() {
  local sig=$1 rc=0
  kill -STOP "$gen_pid"
  quiesce
  kill "-$sig" "$vigil_pid"
  { wait "$vigil_pid"; } 2>/dev/null || rc=$?
  say "agent run $runs stopped by SIG$sig: exit $rc"
  start_agent
  kill -CONT "$gen_pid"
}

# wait_until EPOCH_S LABEL: sleeps until then, with a status line every 30 s
wait_until() {
  local left step
  while left=$(($1 - $(date +%s))) && [ "$left" -gt 0 ]; do
    step=$((left < 30 ? left : 30))
    sleep "$step"
    status "$2 ($((left - step)) s left)"
  done
}

# --- soak -----------------------------------------------------------------
say "outage ${outage}s, $restarts restarts, $rate alerts/s, warm ${warm}s; work dir $work, broker $bootstrap"
start_agent
"$work/soak_gen" "$marks" "$rate" >"$work/gen.out" &
gen_pid=$!
wait_until $(($(date +%s) + warm)) "broker up"
broker down
down_at=$(date +%s)
# restarts at even intervals of the outage, by the clock (a restart's own
# time is part of the outage, not added to it)
for i in $(seq "$restarts"); do
  wait_until $((down_at + i * outage / (restarts + 1))) "outage"
  if [ $((i % 2)) -eq 1 ]; then restart_agent TERM; else restart_agent KILL; fi
done
wait_until $((down_at + outage)) "outage"
broker up
say "the broker was down for $(($(date +%s) - down_at)) s"
wait_until $(($(date +%s) + warm)) "broker up again"
kill "$gen_pid"
wait "$gen_pid"
gen_pid=
produced=$(awk '/^produced/ { print $2 }' "$work/gen.out")
say "generator stopped: produced $produced"

# drain: the spool empty and the counters steady
drained=0
for i in $(seq 600); do
  read -r -a s <<<"$(snapshot)"
  if [ "${s[4]}" = 0 ] && [ "${s[5]}" = 0 ]; then drained=1; break; fi
  [ $((i % 20)) -eq 0 ] && status "draining"
  sleep 0.5
done
[ $drained = 1 ] || say "warning: the spool did not drain in 300 s"
quiesce
kill -TERM "$vigil_pid"
rc=0
{ wait "$vigil_pid"; } 2>/dev/null || rc=$?
vigil_pid=
say "agent run $runs stopped by SIGTERM: exit $rc"

# --- the independent consumer ---------------------------------------------
kcat -C -b "$bootstrap" -t soak -o beginning -e -q -f '%s\n' >"$work/topic.json"
records=$(wc -l <"$work/topic.json")
jq -r --arg d "$marks/" 'select(.rule == "Soak marker open") | .output_fields["fd.name"] | ltrimstr($d)' \
  "$work/topic.json" | sort -n >"$work/numbers"
marker_records=$(wc -l <"$work/numbers")
delivered=$(uniq "$work/numbers" | wc -l)
duplicates=$((marker_records - delivered))
missing=$(comm -23 <(seq "$produced" | sort) <(sort -u "$work/numbers") | sort -n)
n_missing=$(printf '%s' "$missing" | grep -c . || true)
beyond=$(awk -v p="$produced" '$1 > p || $1 < 1' "$work/numbers" | wc -l)
distinct_all=$(jq -r .uuid "$work/topic.json" | sort -u | wc -l)
# each overflow report is logged once ("... N undelivered alerts dropped")
overflow_raised=$(cat "$work"/vigil-*.log | grep -c "undelivered alerts dropped" || true)
overflow_reported=$(cat "$work"/vigil-*.log | sed -n 's/.*: \([0-9]*\) undelivered alerts dropped.*/\1/p' |
  awk '{ s += $1 } END { print s + 0 }')

echo
echo "kafka soak: outage ${outage}s, $restarts restarts (SIGTERM and SIGKILL alternately), $rate alerts/s, $runs agent runs"
printf '  %-44s %s\n' \
  "produced (opens by the generator)" "$produced" \
  "raised (marker rule matches, all runs)" "$tot_raised" \
  "spool overflow alerts raised (logged)" "$overflow_raised" \
  "spooled (all alerts, all runs)" "$tot_spooled" \
  "sent (broker acknowledgements, all runs)" "$tot_sent" \
  "dropped (all runs)" "$tot_dropped" \
  "drops the overflow alerts report" "$overflow_reported" \
  "records in the topic (kcat)" "$records" \
  "distinct alerts in the topic (by uuid)" "$distinct_all" \
  "delivered (distinct marker alerts in the topic)" "$delivered" \
  "duplicates (marker alerts seen again)" "$duplicates" \
  "missing (produced, not in the topic)" "$n_missing" \
  "marker numbers never produced" "$beyond"
echo "  vigil's own alerts in the topic:"
jq -r 'select(.rule != "Soak marker open") | .rule' "$work/topic.json" | sort | uniq -c | sed 's/^/   /' | grep . ||
  echo "    none"
[ "$n_missing" -eq 0 ] || echo "  first missing: $(echo "$missing" | head -20 | tr '\n' ' ')"
ok=yes
[ "$produced" -eq "$tot_raised" ] || ok=no
[ $((tot_raised + overflow_raised)) -eq $((distinct_all + tot_dropped)) ] || ok=no
[ "$tot_sent" -eq "$records" ] || ok=no
[ "$tot_dropped" -eq "$overflow_reported" ] || ok=no
[ "$beyond" -eq 0 ] || ok=no
echo "  adds up (produced = raised; raised + overflow alerts = distinct in topic + dropped;"
echo "  sent = records; dropped = reported): $ok"
