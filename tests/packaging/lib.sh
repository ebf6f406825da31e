# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the packaging tests (sourced, not run).
# Every check prints what it compared; the first failure ends the test with
# status 1 after printing its context.

pass_count=0

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# check DESCRIPTION COMMAND...: runs COMMAND; fails the test if it fails.
check() {
  local what=$1
  shift
  if "$@"; then
    pass_count=$((pass_count + 1))
    echo "ok: $what"
  else
    fail "$what (command: $*)"
  fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [ "$2" == "$3" ]; then
    pass_count=$((pass_count + 1))
    echo "ok: $1"
  else
    echo "--- expected" >&2
    printf '%s\n' "$2" >&2
    echo "--- actual" >&2
    printf '%s\n' "$3" >&2
    fail "$1"
  fi
}

# expect_contains DESCRIPTION HAYSTACK NEEDLE (fixed string, line match)
expect_contains() {
  if printf '%s\n' "$2" | grep -qxF -- "$3"; then
    pass_count=$((pass_count + 1))
    echo "ok: $1"
  else
    printf '%s\n' "$2" >&2
    fail "$1: no line '$3' in the output above"
  fi
}

expect_not_contains() {
  if printf '%s\n' "$2" | grep -qxF -- "$3"; then
    printf '%s\n' "$2" >&2
    fail "$1: unexpected line '$3' in the output above"
  else
    pass_count=$((pass_count + 1))
    echo "ok: $1"
  fi
}

finish() {
  echo "PASS: $pass_count checks"
}

# expect_match / expect_no_match DESCRIPTION HAYSTACK ERE (some line matches)
expect_match() {
  if printf '%s\n' "$2" | grep -qE -- "$3"; then
    pass_count=$((pass_count + 1))
    echo "ok: $1"
  else
    printf '%s\n' "$2" >&2
    fail "$1: no line matches /$3/ in the output above"
  fi
}

expect_no_match() {
  if printf '%s\n' "$2" | grep -qE -- "$3"; then
    printf '%s\n' "$2" >&2
    fail "$1: a line matches /$3/ in the output above"
  else
    pass_count=$((pass_count + 1))
    echo "ok: $1"
  fi
}

# require_packages FILE...: fails the test unless every FILE exists and is not
# empty.
require_packages() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || fail "package $f missing (packaging_build makes them)"
  done
}

# make_test_root NAME: a clean Debian 12 root for the package tests in a new
# directory $cache_dir/NAME-root.XXXXXX (removed on exit), from the tarball
# make_chroot.sh caches, with systemd not running and the recording systemctl
# (systemctl-shim.sh; shim_log reads what it recorded). Sets $root. Needs
# $here and $cache_dir.
make_test_root() {
  local tarball
  tarball=$(bash "$here/make_chroot.sh" "$cache_dir")
  root=$(mktemp -d "$cache_dir/$1-root.XXXXXX")
  trap 'rm -rf --one-file-system "$root"' EXIT
  tar -C "$root" -xf "$tarball"
  install -m 0755 "$here/systemctl-shim.sh" "$root/usr/local/sbin/systemctl"
  rm -rf "$root/run/systemd/system"
}

shim_log() { cat "$root/var/log/systemctl-shim.log" 2>/dev/null || true; }
