#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the build scripts: compile through ccache when it is installed, so
# rebuilds (the ASan and fuzz trees, CI on a machine that built before) reuse
# objects. Paths are taken relative to the checkout, so two clones share hits.
# Sets CCACHE_ARGS (cmake arguments; empty without ccache).
CCACHE_ARGS=()
if command -v ccache >/dev/null 2>&1; then
  CCACHE_BASEDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  export CCACHE_BASEDIR CCACHE_NOHASHDIR=1
  CCACHE_ARGS=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
