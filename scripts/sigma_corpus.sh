#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loads every Sigma rule under a SigmaHQ checkout's rules/linux (or any
# directory of Sigma files) through vigil's loader and counts them: loaded,
# unsupported by reason, errors. The figures in docs/sigma.md come from it.
# Usage: scripts/sigma_corpus.sh SIGMA_CHECKOUT_OR_DIR [VIGIL_BINARY]
#   e.g. git clone https://github.com/SigmaHQ/sigma /tmp/sigma
#        scripts/sigma_corpus.sh /tmp/sigma build/agent/vigil
set -euo pipefail
src=${1:?usage: $0 SIGMA_CHECKOUT_OR_DIR [VIGIL_BINARY]}
vigil=${2:-build/agent/vigil}
dir=$src
[ -d "$src/rules/linux" ] && dir=$src/rules/linux
[ -x "$vigil" ] || { echo "sigma_corpus: no vigil binary at $vigil (build it or pass its path)" >&2; exit 2; }
if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
  echo "SigmaHQ commit: $(git -C "$src" rev-parse HEAD)"
fi
mapfile -t files < <(find "$dir" -name '*.yml' -o -name '*.yaml' | sort)
[ "${#files[@]}" -gt 0 ] || { echo "sigma_corpus: no .yml files under $dir" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$vigil" rules validate "${files[@]}" >"$out" || status=$?
echo "files: ${#files[@]} under $dir"
grep '^sigma: ' "$out" || true
echo "by subdirectory (read / unsupported):"
for sub in $(printf '%s\n' "${files[@]}" | sed "s|^$dir/||" | awk -F/ 'NF>1{print $1} NF==1{print "."}' | sort -u); do
  n=$(printf '%s\n' "${files[@]}" | sed "s|^$dir/||" | awk -F/ -v s="$sub" '(NF>1 && $1==s) || (NF==1 && s==".")' | wc -l)
  u=$(grep -c "^$dir/$sub/.*: warning: .*unsupported (" "$out" || true)
  [ "$sub" = "." ] && u=$(grep "^$dir/[^/]*: warning: .*unsupported (" "$out" | wc -l)
  printf '  %-22s %4d read %4d unsupported\n' "$sub" "$n" "$u"
done
echo "unsupported, by reason:"
sed -n 's/.*: warning: rule .*: unsupported (\(.*\)): .*/\1/p' "$out" | sed 's/)$//' | sort | uniq -c | sort -rn |
  sed 's/^/  /'
errors=$(grep -c ': error: ' "$out" || true)
echo "errors: $errors"
[ "$errors" -eq 0 ] || grep ': error: ' "$out" | sed 's/^/  /'
exit "$status"
