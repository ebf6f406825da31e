#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# enforce_without_capture_check.sh: on Debian 11's 5.10 (no bpf_loop) capture runs with the legacy
# BPF build, and enforcement does not depend on capture: `vigil run` whose capture cannot start
# (here forced: capture.bpf_build=typed, which this kernel refuses) still starts, enforces its deny
# rule through BPF LSM, and says so (a log line and a Critical alert naming the reason). Runs in
# the vm_harness.sh guest with vigil at /vm/bin/vigil and the rules at /etc/vigil/rules.yaml;
# prints VM-RESULT case lines.
case_() { # NAME pass|fail [DETAIL]
  echo "VM-RESULT case $1 $2 $3"
}
out=$(/vm/bin/vigil probe 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^BPF build  *legacy"; then
  case_ probe_legacy_build pass
else
  case_ probe_legacy_build fail "rc=$rc"
  printf '%s\n' "$out" | tail -n 5
fi
if printf '%s\n' "$out" | grep -q "enforce: exec deny *BPF LSM bprm_check_security"; then
  case_ probe_lists_lsm pass
else
  case_ probe_lists_lsm fail
fi

mkdir -p /tmp/vigil-enforce
echo secret > /tmp/vigil-enforce/open_denied
alerts=/tmp/enforce-only-alerts.json
: > /tmp/enforce-only.yaml # an empty configuration: the defaults and the -o overrides below
/vm/bin/vigil run -c /tmp/enforce-only.yaml -r /etc/vigil/rules.yaml -o metrics.enabled=false -o capture.bpf_build=typed \
  -o outputs.file.enabled=true -o outputs.file.path=$alerts > /tmp/enforce-only.log 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -q "vigil running" /tmp/enforce-only.log; do
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if grep -q "running without capture: enforcement only" /tmp/enforce-only.log && grep -q "vigil running" /tmp/enforce-only.log; then
  case_ run_starts_without_capture pass
else
  case_ run_starts_without_capture fail
  tail -n 8 /tmp/enforce-only.log
fi
if cat /tmp/vigil-enforce/open_denied > /dev/null 2>/tmp/cat.err; then
  case_ deny_open_enforced fail "the open succeeded"
elif grep -q "not permitted" /tmp/cat.err; then
  case_ deny_open_enforced pass
else
  case_ deny_open_enforced fail "$(cat /tmp/cat.err)"
fi
i=0
while [ $i -lt 50 ] && ! grep -q "Deny open of a secret" $alerts 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if grep -q '"vigil capture unavailable"' $alerts 2>/dev/null; then
  case_ alert_capture_unavailable pass
else
  case_ alert_capture_unavailable fail
fi
if grep -q "Deny open of a secret" $alerts 2>/dev/null; then
  case_ alert_refusal pass
else
  case_ alert_refusal fail
fi
kill $pid
wait $pid
exit 0
