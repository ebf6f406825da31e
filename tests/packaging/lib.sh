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
