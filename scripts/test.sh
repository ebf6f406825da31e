#!/usr/bin/env bash
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

step "release build"
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo

step "all tests"
ctest --test-dir build --output-on-failure --timeout 900

step "sanitizer build (ASan+UBSan)"
bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON

step "unprivileged tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -LE 'root|vm' --timeout 900

if [ -f tests/fuzz/run.sh ]; then
  step "fuzzing"
  bash tests/fuzz/run.sh build-fuzz
fi

step "done"
