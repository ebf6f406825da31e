#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `vigil rules import-sigma` through the real binary: the file it writes
# validates without errors and lists the same rules (name, priority, enabled,
# action, event types) as the Sigma files it came from.
# Usage: import_sigma_cli_test.sh VIGIL SIGMA_DIR
set -euo pipefail
vigil=$1
sigma=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$vigil" rules import-sigma "$sigma" >"$work/imported.yaml" 2>"$work/import.err"
n=$(find "$sigma" -name '*.yml' | wc -l)
grep -q "sigma: $n read, $n translated, 0 unsupported" "$work/import.err" ||
  { echo "FAIL: import-sigma summary"; cat "$work/import.err"; exit 1; }
"$vigil" rules validate "$work/imported.yaml" >"$work/validate.out" ||
  { echo "FAIL: the imported file does not validate"; cat "$work/validate.out"; exit 1; }
grep -q "0 error(s), 0 warning(s); rules: $n defined, $n loaded" "$work/validate.out" ||
  { echo "FAIL: validate summary"; cat "$work/validate.out"; exit 1; }
# `rules list` without its [file:line] column must be identical.
"$vigil" rules list "$sigma" | sed 's/  \[[^]]*\]//' >"$work/from_sigma.txt"
"$vigil" rules list "$work/imported.yaml" | sed 's/  \[[^]]*\]//' >"$work/from_import.txt"
[ "$(wc -l <"$work/from_sigma.txt")" -eq "$n" ] || { echo "FAIL: expected $n rules listed"; exit 1; }
diff -u "$work/from_sigma.txt" "$work/from_import.txt" || { echo "FAIL: the rules differ"; exit 1; }
# A Falco-format file is refused, not passed through.
if "$vigil" rules import-sigma "$work/imported.yaml" >/dev/null 2>"$work/falco.err"; then
  echo "FAIL: import-sigma accepted a Falco-format file"; exit 1
fi
grep -q "not a Sigma rule file" "$work/falco.err" || { echo "FAIL: no reason given"; cat "$work/falco.err"; exit 1; }
echo "PASS: $n Sigma rules imported, validated and listed the same"
