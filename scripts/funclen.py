#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The longest functions outside tests/ and build trees, by universal-ctags start/end lines
# (issue 22: "the longest function is under ~80 lines outside data tables").
# Usage: scripts/funclen.py [root] [count]
import json, subprocess, sys, pathlib
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
files = [str(p) for p in root.rglob("*") if p.suffix in (".cpp", ".cc", ".h", ".c")
         and not any(part in ("build", "tests", ".git", "third_party") for part in p.relative_to(root).parts)]
out = subprocess.run(["ctags", "--output-format=json", "--fields=+ne", "--kinds-c++=f", "--kinds-c=f",
                      "-f", "-", *files], capture_output=True, text=True).stdout
rows = []
for line in out.splitlines():
    t = json.loads(line)
    if "end" in t and t.get("kind") == "function":
        scope = t.get("scope", "")
        name = (scope.split("::")[-1] + "::" if scope and t.get("scopeKind") in ("class", "struct") else "") + t["name"]
        rows.append((t["end"] - t["line"] + 1, t["path"], t["line"], name))
for n, p, l, name in sorted(rows, reverse=True)[: int(sys.argv[2]) if len(sys.argv) > 2 else 15]:
    print(f"{n:5d}  {p}:{l}  {name}")
