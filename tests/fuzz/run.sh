#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds every libFuzzer target with clang + ASan + UBSan and runs each for a
# bounded time (FUZZ_SECONDS, default 60) over its seed corpus. A crash, leak,
# sanitizer report or timeout fails the run.
# Usage: tests/fuzz/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
# shellcheck source=scripts/ccache.sh
. scripts/ccache.sh
cmake -S . -B "$build_dir" -G Ninja "${CCACHE_ARGS[@]}" -DVIGIL_FUZZ=ON -DVIGIL_SANITIZE=ON -DVIGIL_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=$(sed -n 's/^vigil_fuzzer(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt)
if [ -z "$targets" ]; then
  echo "fuzz: no targets"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$build_dir" -j "$(nproc)" --target $targets
for t in $targets; do
  corpus="tests/fuzz/corpus/$t"
  work="$build_dir/fuzz-work/$t"
  mkdir -p "$work"
  seeds=()
  [ -d "$corpus" ] && seeds+=("$corpus")
  echo "fuzz: $t for ${seconds}s (seeds: ${seeds[*]:-none})"
  "$build_dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work" "${seeds[@]}" 2>"$build_dir/fuzz-work/$t.log" || {
      tail -n 60 "$build_dir/fuzz-work/$t.log"
      echo "fuzz: $t FAILED" >&2
      exit 1
    }
  grep -E '^stat::number_of_executed_units|^Done' "$build_dir/fuzz-work/$t.log" | sed "s/^/fuzz: $t: /"
done
echo "fuzz: all targets passed"
