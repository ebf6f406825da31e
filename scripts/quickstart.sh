#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: install dependencies, build, and run the sensor
# as root with its defaults. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
echo "quickstart: starting vigil (Ctrl-C to stop)" >&2
exec ./build/agent/vigil run
