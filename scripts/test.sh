#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's second command: install dependencies, build, and pass every test.
#   1. release build, every CTest test (unit, root integration on this kernel, kafka, vm);
#   2. ASan+UBSan build, the unprivileged tests;
#   3. libFuzzer targets (clang, ASan+UBSan), each for a bounded time.
# Must run as root (the integration tests load BPF programs).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "test: run as root: the integration tests load BPF programs and the VM tests need /dev/kvm-free QEMU" >&2
  exit 1
fi

step "dependencies"
bash scripts/install-deps.sh

step "release build (-O3, warnings are errors)"
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DVIGIL_WERROR=ON

# Every CTest test, in three passes. Unit and Kafka tests, then the VM tests
# (each boots its own QEMU under timeout in its own temporary directory, one
# vCPU each), run two at a time: none loads BPF on this host or depends on its
# timing. The root tests (BPF on this kernel, containers, packages) measure
# real syscalls and share kernel state, so they run one at a time, last. A
# failing pass does not skip the next: all report, then the step fails.
failed=0
step "unit and kafka tests (two at a time)"
ctest --test-dir build --output-on-failure --timeout 900 -L 'unit|kafka' -j 2 || failed=1

step "vm tests (two QEMU guests at a time)"
ctest --test-dir build --output-on-failure --timeout 900 -L 'vm' -j 2 || failed=1

step "root tests (one at a time)"
ctest --test-dir build --output-on-failure --timeout 900 -L 'root' || failed=1
if [ "$failed" -ne 0 ]; then
  echo "test: some tests failed (see the passes above)" >&2
  exit 1
fi

step "sanitizer build (ASan+UBSan) of what the unprivileged tests run"
# shellcheck source=scripts/ccache.sh
. scripts/ccache.sh
cmake -S . -B build-asan -G Ninja "${CCACHE_ARGS[@]}" -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON -DVIGIL_WERROR=ON >/dev/null
# Only the executables the unprivileged tests run (not benchmarks or root-only tests).
# vigil_test() names each test after its executable target; before the build, ctest
# cannot resolve their commands, so the name stands for the target. Tests that run
# the vigil binary itself need `vigil`. Names that are not targets are dropped.
known_targets=$(cmake --build build-asan --target help | sed -n 's/^\([A-Za-z0-9_]*\): .*/\1/p')
asan_targets=$(ctest --test-dir build-asan -N -LE 'root|vm|package' --show-only=json-v1 | KNOWN="$known_targets" python3 -c '
import json, os, sys
known = set(os.environ["KNOWN"].split())
tests = json.load(sys.stdin)["tests"]
names = {os.path.basename(t["command"][0]) if t.get("command") else t["name"] for t in tests} | {"vigil"}
print(" ".join(sorted(n for n in names if n in known)))')
# shellcheck disable=SC2086
cmake --build build-asan -j "$(nproc)" --target $asan_targets

step "unprivileged tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -LE 'root|vm|package' --timeout 900 -j 2

if [ -f tests/fuzz/run.sh ]; then
  step "fuzzing (${FUZZ_SECONDS:-30}s per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash tests/fuzz/run.sh build-fuzz
fi

step "done"
