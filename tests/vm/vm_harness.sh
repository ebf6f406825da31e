#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vm_harness.sh [options] -- CMD [ARGS...] [--- CMD [ARGS...]]...
#
# Boots Debian cloud kernels with BPF LSM under QEMU (TCG), runs the given commands inside an
# initramfs, and checks what they report. Per kernel: fetch it into the cache (fetch_kernel.sh,
# once), build the initramfs (make_initramfs.sh), boot with a hard timeout, parse the console.
#
# Options:
#   --kernels LIST      comma-separated subset of 5.10,6.1,6.12 (default: all three)
#   --cache DIR         kernel cache, reused across runs (default: ./vm-cache)
#   --work DIR          initramfs and console logs (default: a fresh temp dir, kept on failure)
#   --file HOST[:GUEST] extra file for the guest (repeatable; see make_initramfs.sh)
#   --timeout S         hard limit per boot in seconds (default: 180); QEMU is killed after it
#   --memory MB         guest memory (default: 512)
#   --lsm LIST          the kernel's lsm= list (default: lockdown,capability,landlock,yama,bpf)
#   --verbose           print every console log, not only failing ones
#
# Commands print result lines on stdout (see make_initramfs.sh for the framing):
#   VM-RESULT hook <name> loaded|failed [...]
#   VM-RESULT case <name> pass|fail [...]
# A kernel passes iff it booted to VM-DONE, every command exited 0, at least one case ran, no
# case failed and no hook failed. Prints a table; exit status 0 iff every kernel passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernels=5.10,6.1,6.12
cache=./vm-cache
work=""
timeout_s=180
memory=512
lsm=lockdown,capability,landlock,yama,bpf
verbose=0
files=()

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    --kernels) kernels=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --file) files+=(--file "$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --lsm) lsm=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    -h|--help) usage ;;
    *) echo "vm_harness: unknown option $1" >&2; usage ;;
  esac
done
[ "${1:-}" = "--" ] && [ $# -ge 2 ] || usage
shift
commands=("$@")

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
  echo "vm_harness: qemu-system-x86_64 not found (Debian package qemu-system-x86)" >&2
  exit 1
fi
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/vm-harness.XXXXXX")
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

harness_start=$(date +%s.%N)
"$here/make_initramfs.sh" "$work/initramfs.cpio" ${files[@]+"${files[@]}"} -- "${commands[@]}"
echo "vm_harness: initramfs $(( $(stat -c %s "$work/initramfs.cpio") / 1024 )) KiB, work dir $work"

elapsed() { echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

# Boots one kernel; fills the row_* variables; returns 0 iff the kernel passed.
boot_one() {
  local version=$1
  local log="$work/console-$version.log"
  row_boot="-" row_init="-" row_hooks="-" row_cases="-" row_status=FAIL row_reason=""
  local vmlinuz
  if ! vmlinuz=$("$here/fetch_kernel.sh" "$cache" "$version"); then
    row_reason="kernel download failed"
    return 1
  fi
  row_package=$(cut -d' ' -f1 "$(dirname "$vmlinuz")/package")

  local append="console=ttyS0 lsm=$lsm panic=-1 loglevel=4"
  append+=" rdinit=/init"
  local start rc=0
  start=$(date +%s.%N)
  # -no-reboot turns the guest's panic (panic=-1) or reboot into a QEMU exit; `timeout` kills a
  # hung guest so a hang is a failure with the console tail, never a stuck CI job.
  timeout --kill-after=5 "$timeout_s" "$qemu" -accel tcg -cpu max -smp 1 -m "$memory" \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$log" -kernel "$vmlinuz" -initrd "$work/initramfs.cpio" \
    -append "$append" </dev/null || rc=$?
  row_boot=$(elapsed "$start")
  sed -i 's/\r$//' "$log"

  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    row_reason="no poweroff within ${timeout_s}s (hang)"
  elif [ "$rc" -ne 0 ]; then
    row_reason="qemu exited with status $rc"
  fi
  row_init=$(grep -a -o 'VM-BEGIN uptime=[0-9.]*' "$log" | head -n1 | cut -d= -f2)
  [ -n "$row_init" ] || row_init="-"

  # Markers may share a line with kernel messages; take them from where they start.
  local results
  results=$(grep -a -o 'VM-RESULT .*' "$log" || true)
  local hooks_ok hooks_failed cases_ok cases_failed
  hooks_ok=$(awk '$2 == "hook" && $4 == "loaded" { print $3 }' <<<"$results" | paste -sd, -)
  hooks_failed=$(awk '$2 == "hook" && $4 != "loaded" { n++ } END { print n + 0 }' <<<"$results")
  cases_ok=$(awk '$2 == "case" && $4 == "pass" { n++ } END { print n + 0 }' <<<"$results")
  cases_failed=$(awk '$2 == "case" && $4 != "pass" { n++ } END { print n + 0 }' <<<"$results")
  local hooks_total=$(( $(awk '$2 == "hook" { n++ } END { print n + 0 }' <<<"$results") ))
  row_hooks="$(( hooks_total - hooks_failed ))/$hooks_total ${hooks_ok:-none}"
  row_cases="$cases_ok/$(( cases_ok + cases_failed ))"

  local exits bad_exits runs
  runs=$(grep -a -c '^VM-RUN ' "$log" || true)
  exits=$(grep -a -o 'VM-EXIT [0-9]* rc=[0-9]*' "$log" || true)
  bad_exits=$(grep -v 'rc=0$' <<<"$exits" | grep -c . || true)

  if [ -z "$row_reason" ]; then
    if ! grep -a -q 'VM-DONE' "$log"; then
      row_reason="guest never reached VM-DONE"
    elif [ "$(grep -c . <<<"$exits" || true)" -ne "$runs" ]; then
      row_reason="a command did not finish"
    elif [ "$hooks_failed" -ne 0 ]; then
      row_reason="$hooks_failed hook(s) failed"
    elif [ "$cases_failed" -ne 0 ]; then
      row_reason="$cases_failed case(s) failed"
    elif [ "$bad_exits" -ne 0 ]; then
      row_reason="$bad_exits command(s) exited non-zero"
    elif [ "$cases_ok" -eq 0 ]; then
      row_reason="no case reported a result"
    fi
  fi
  if [ -z "$row_reason" ]; then
    row_status=PASS
    return 0
  fi
  return 1
}

rows=()
failed=0
IFS=, read -r -a kernel_list <<<"$kernels"
for version in "${kernel_list[@]}"; do
  row_package="-"
  echo "vm_harness: booting $version"
  if boot_one "$version"; then ok=1; else ok=0; failed=$((failed + 1)); fi
  log="$work/console-$version.log"
  if [ -f "$log" ] && [ "$verbose" -eq 1 ]; then
    echo "----- $version: protocol lines ($log)"
    grep -a -o 'VM-[A-Z]* .*' "$log" || true
  fi
  if [ -f "$log" ] && [ "$ok" -eq 0 ]; then
    echo "----- $version: FAILED ($row_reason); console tail ($log)"
    tail -n 60 "$log"
    echo "-----"
  fi
  rows+=("$(printf '%-6s %-42s %7s %7s  %-34s %6s  %s' "$version" "$row_package" "$row_boot" \
            "$row_init" "$row_hooks" "$row_cases" "$row_status${row_reason:+: $row_reason}")")
done

echo
printf '%-6s %-42s %7s %7s  %-34s %6s  %s\n' kernel package "boot s" "init s" "hooks loaded" cases result
for row in "${rows[@]}"; do echo "$row"; done
echo "vm_harness: ${#kernel_list[@]} kernel(s), $failed failed, $(elapsed "$harness_start")s total"
[ "$failed" -eq 0 ]
