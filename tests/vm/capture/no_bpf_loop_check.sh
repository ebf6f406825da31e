#!/bin/sh
# no_bpf_loop_check.sh: on a kernel without the bpf_loop helper (before 5.17: Debian 11's 5.10)
# nothing can be captured, and each vigil command must say so and exit 1: not crash, not hang
# (the harness's boot timeout catches that), not run blind. Runs in the vm_harness.sh guest, with
# vigil at /vm/bin/vigil and a rules file at /etc/vigil/rules.yaml; prints VM-RESULT case lines.
want="no bpf_loop helper (Linux 5.17 or newer is needed)"
check() { # NAME COMMAND...
  name=$1
  shift
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -qF "$want"; then
    echo "VM-RESULT case $name pass"
  else
    echo "VM-RESULT case $name fail rc=$rc"
    printf '%s\n' "$out" | tail -n 5
  fi
}
check probe /vm/bin/vigil probe
check events /vm/bin/vigil events
check run /vm/bin/vigil run -c /dev/null -r /etc/vigil/rules.yaml -o metrics.enabled=false
# What still works is reported: the probe lists the BPF LSM enforcement hooks this kernel has.
if /vm/bin/vigil probe 2>&1 | grep -q "enforce: exec deny *BPF LSM bprm_check_security"; then
  echo "VM-RESULT case probe_lists_lsm pass"
else
  echo "VM-RESULT case probe_lists_lsm fail"
fi
exit 0
