#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# container_churn.sh: does the container metadata cache stay bounded while
# many short-lived containers come and go? (issue 19). Not in CI.
#
#   sudo bench/container_churn.sh [-n CONTAINERS] [-s STEP] [-b BUILD_DIR]
#
# Starts `podman system service` on a private socket and `vigil run` (default
# rules, file sink only, metadata from that socket only, listing every 500 ms),
# then runs CONTAINERS (default 300) short containers one after another
# (`podman run --rm` of an image imported from busybox-static, each runs
# `true`). Every STEP containers (default 50), and again once every container
# has exited and two listings have passed, it prints the agent's resident set
# (VmRSS) and, from vigil_container_meta_total, the metadata cache's entries
# (size), the exited ids it remembers for late events (gone), the fetches that
# succeeded and failed (a --rm container may be gone before it is inspected),
# and the container / container_removed events made. Needs root (run it under
# `flock -o /tmp/vigil-root.lock` where other root tests share the host),
# podman, runc, curl. Asserts nothing.
set -euo pipefail
n=300 step=50 build=build
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_getopts "n:n s:step b:build" "$@"
bench_vigil container_churn "$build"
bench_init container_churn podman runc curl tar
service=
image="localhost/vigil-churn:$$"
bench_on_exit() {
  [ -n "$service" ] && kill "$service" 2>/dev/null && wait "$service" 2>/dev/null
  podman rmi -f "$image" >/dev/null 2>&1 || true
}

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sh"
ln -s busybox "$work/rootfs/bin/true"
tar -C "$work/rootfs" -c . | podman import - "$image" >/dev/null 2>&1
podman system service --time=0 "unix://$work/podman.sock" >/dev/null 2>&1 &
service=$!
for _ in $(seq 200); do [ -S "$work/podman.sock" ] && break; sleep 0.05; done
[ -S "$work/podman.sock" ] || { echo "container_churn: podman system service did not start" >&2; exit 1; }

bench_config metrics file_sink <<EOF
stats_interval_s: 0
containers:
  docker_socket: ""
  podman_socket: $work/podman.sock
  containerd_socket: ""
  crio_socket: ""
  list_interval_ms: 500
EOF
bench_start "$vigil" run -c "$work/vigil.yaml" -r "$rules"
report() {
  local rss m
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$vigil_pid/status")
  m=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
  meta() { awk -v m="vigil_container_meta_total{what=\"$1\"}" '$1 == m { print $2 }' <<<"$m"; }
  printf '  %-20s VmRSS %6s KiB  cache entries %4s  exited ids %4s  fetched %4s  failed %4s  starts %4s  removed %4s\n' \
    "$1" "$rss" "$(meta size)" "$(meta gone)" "$(meta fetched)" "$(meta failed)" "$(meta container_events)" \
    "$(meta container_removed_events)"
}
echo "container_churn: $n short podman containers (runc), one after another"
report "before"
run="podman run --rm --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
start=$(date +%s)
for i in $(seq "$n"); do
  $run "$image" /bin/true >/dev/null
  if [ $((i % step)) -eq 0 ]; then report "after $i"; fi
done
sleep 2
report "all exited (+2 s)"
echo "  $n containers in $(($(date +%s) - start)) s"
