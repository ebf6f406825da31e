#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds vigil into a build directory.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
# shellcheck source=scripts/ccache.sh
. scripts/ccache.sh
cmake -S . -B "$build_dir" -G Ninja "${CCACHE_ARGS[@]}" "$@"
cmake --build "$build_dir" -j "$(nproc)"
