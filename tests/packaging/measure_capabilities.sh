#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Measures the smallest capability bounding set `vigil events` works with, the
# way systemd's CapabilityBoundingSet= applies to a root service: capsh --drop
# removes capabilities from the bounding set, and a root process that execs gets
# exactly the bounding set. Greedy: starting from this shell's bounding set,
# each capability is dropped for good if the agent still works without it.
#
# "Works" means the same as with every capability: exit status 0, the same
# number of programs attached, the same programs switched off, an exec of a
# marker process captured, and its parent (another user's process the agent
# read from /proc at start) known with the same exe, cwd and namespaces.
#
# Usage (root): measure_capabilities.sh VIGIL_BINARY [CAPS...]
#   CAPS: only try dropping these (default: all of the bounding set).
# Prints one line per capability and the resulting set; takes 2-10 s per capability.
set -euo pipefail
vigil=$(readlink -f "${1:?usage: measure_capabilities.sh VIGIL_BINARY [CAPS...]}")
shift
[ "$(id -u)" -eq 0 ] || { echo "measure_capabilities: run as root" >&2; exit 1; }
work=$(mktemp -d)

bounding=$(capsh --decode="$(awk '/^CapBnd/ {print $2}' /proc/self/status)" | cut -d= -f2 | tr ',' ' ')
if [ $# -gt 0 ]; then candidates="$*"; else candidates=$bounding; fi

# A witness process owned by nobody, started before the agent so the agent
# learns it from /proc (reading another user's /proc/<pid>/exe, cwd and ns/*
# is what CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH are for). When released, it
# runs a marker child; the marker's execve event carries the witness as its
# first ancestor, so the event shows both live capture and /proc seeding.
shared=$(mktemp -d /tmp/vigil-caps.XXXXXX)
chmod 755 "$shared"
trap 'rm -rf "$work" "$shared"' EXIT

# run_with DROP_LIST -> sets $summary; status 0 if the agent captured the marker.
run_with() {
  local drop=$1 marker="vigil-cap-marker-$RANDOM$RANDOM"
  local pid witness i fifo="$shared/go"
  rm -f "$fifo" && mkfifo -m 666 "$fifo"
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    /bin/sh -c "read x <'$fifo'; /bin/true $marker; :" &
  witness=$!
  # The agent must meet the witness as the nobody-owned shell, not mid-exec.
  for i in $(seq 1 100); do
    [ "$(readlink "/proc/$witness/exe" 2>/dev/null)" = "$(readlink -f /bin/sh)" ] && break
    sleep 0.05
  done
  capsh ${drop:+--drop="$drop"} -- -c "exec '$vigil' events" >"$work/out" 2>"$work/err" &
  pid=$!
  for i in $(seq 1 300); do
    grep -q "capturing with" "$work/err" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo go >"$fifo"
  wait "$witness" || true
  for i in $(seq 1 50); do
    grep -q "$marker" "$work/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -INT "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" || rc=$?
  local attached off seen
  attached=$(sed -n 's/.*capturing with \([0-9]*\) programs.*/\1/p' "$work/err")
  off=$(grep -o 'program [a-z0-9_]* off' "$work/err" | sort | tr '\n' ' ' || true)
  seen=$(python3 - "$work/out" "$marker" <<'PY'
import json, sys
path, marker = sys.argv[1], sys.argv[2]
for line in open(path, errors="replace"):
    if marker not in line:
        continue
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("evt.type") != "execve" or marker not in e.get("proc.argv", []):
        continue
    a = (e.get("proc.ancestors") or [{}])[0]
    print("marker=yes witness=uid:%s,exe:%s,cwd:%s,mntns:%s" % (
        a.get("user.uid"), a.get("proc.exepath") or "-", a.get("proc.cwd") or "-",
        "yes" if a.get("ns.mnt") else "-"))
    break
else:
    print("marker=no")
PY
)
  summary="rc=$rc attached=${attached:-none} off=[${off% }] $seen"
  [ "$rc" -eq 0 ] && [[ $seen == marker=yes* ]]
}

echo "baseline (bounding set of this shell: $(wc -w <<<"$bounding") capabilities)"
run_with "" || { cat "$work/err" >&2; echo "baseline run failed: $summary" >&2; exit 1; }
baseline=$summary
echo "  $baseline"
same_as_baseline() { [ "$1" = "$baseline" ]; }

# works_without DROP_LIST: three tries, so one flaky run (the agent under test
# sometimes misses the witness in its /proc scan) does not make a capability
# look needed.
works_without() {
  local n
  for n in 1 2 3; do
    if run_with "$1" && same_as_baseline "$summary"; then return 0; fi
  done
  return 1
}

dropped=""
for cap in $candidates; do
  try=${dropped:+$dropped,}$cap
  if works_without "$try"; then
    dropped=$try
    echo "not needed  $cap"
  else
    echo "NEEDED      $cap   (without it: $summary; $(grep -m1 -iE 'error|fail|denied|not permitted' "$work/err" | cut -c1-160))"
  fi
done
needed=""
for cap in $bounding; do
  case ",$dropped," in *",$cap,"*) ;; *) needed="$needed $cap" ;; esac
done
echo "minimal bounding set:$needed"
works_without "$dropped" \
  || { echo "the minimal set does not reproduce the baseline: $summary" >&2; exit 1; }
echo "check with only that set: $summary"
