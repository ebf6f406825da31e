# SPDX-License-Identifier: Apache-2.0
# The start the host action scripts share (falco_actions.sh,
# technique_actions.sh; sourced, not run, with the script's arguments DIR TAG
# and $what naming its lines): $d = DIR (the working directory), $t = TAG,
# $py, say() and run(). An action may fail (the rule reads the attempt): run()
# says so and the script goes on.
d=$1
t=$2
cd "$d" || exit 2
py=/usr/bin/python3
say() { echo "$what: $*"; }
run() { timeout 20 "$@" >/dev/null 2>&1 </dev/null || say "($* exited $?)"; }
