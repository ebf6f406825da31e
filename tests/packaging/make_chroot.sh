#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds (once) a tarball of a clean Debian 12 system (debootstrap minbase plus
# systemd, not running) for the package install tests, with apt package lists
# already fetched, and caches it.
# Usage: make_chroot.sh CACHE_DIR      (prints the tarball path on stdout)
#
# The mirror is the Debian archive the host's own apt sources name (apt-cache
# policy shows it), so no other archive is contacted; VIGIL_DEBIAN_MIRROR
# overrides it. A tarball already in CACHE_DIR is reused: delete it to refresh.
set -euo pipefail
cache_dir=${1:?usage: make_chroot.sh CACHE_DIR}
suite=bookworm
tarball="$cache_dir/debian-$suite-minbase-systemd.tar"
mkdir -p "$cache_dir"
# Tests running in parallel wait for one build instead of racing.
exec 9>"$cache_dir/.lock"
flock 9
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi
mirror=${VIGIL_DEBIAN_MIRROR:-$(apt-cache policy | awk -v s=" $suite/main amd64 Packages" 'index($0, s) {print $2; exit}')}
if [ -z "$mirror" ]; then
  echo "make_chroot: no '$suite/main' archive in the host's apt sources; set VIGIL_DEBIAN_MIRROR" >&2
  exit 1
fi
work=$(mktemp -d "$cache_dir/debootstrap.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
start=$(date +%s)
echo "make_chroot: debootstrap --variant=minbase $suite from $mirror" >&2
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# Package lists, so a test run resolves vigil's dependencies without a fresh
# `apt-get update` (downloads are cached separately by the test). systemd is
# installed (not running) as on any Debian 12 host: the unit is verified against
# its targets, and the maintainer scripts meet a real systemctl.
chroot "$work/root" apt-get -qq update >&2
DEBIAN_FRONTEND=noninteractive chroot "$work/root" \
  apt-get -qq -y install --no-install-recommends systemd >"$work/systemd.log" 2>&1 || {
  tail -n 30 "$work/systemd.log" >&2
  exit 1
}
chroot "$work/root" apt-get -qq clean >&2
tar --numeric-owner -C "$work/root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
echo "make_chroot: built $tarball ($(du -h "$tarball" | cut -f1)) in $(( $(date +%s) - start ))s" >&2
echo "$tarball"
