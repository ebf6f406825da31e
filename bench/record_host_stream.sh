#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Records the engine benchmark's host stream (bench/data/host-stream.jsonl.gz):
# `vigil events -w` while this script does ordinary shell, git, tar, compiler
# and package-tool work, plus a few reads the rules watch (/etc/shadow, a
# private-key search) so the stream raises alerts. Run as root, alone on the
# host if possible (every process's events are recorded).
# Usage: sudo bench/record_host_stream.sh VIGIL OUT.jsonl.gz
set -euo pipefail
vigil=$1
out=$2
work=$(mktemp -d /tmp/vigil-rec.XXXXXX)
raw=$work/events.jsonl
"$vigil" events -w "$raw" 2>"$work/vigil.log" &
vpid=$!
# Wait until capture runs (program load takes seconds): the log says so.
for _ in $(seq 1 300); do
  grep -q "capturing" "$work/vigil.log" 2>/dev/null && break
  sleep 0.1
done
(
  cd "$work"
  # shell
  for i in $(seq 1 20); do ls -la /etc >/dev/null; cat /etc/os-release >/dev/null; date >/dev/null; done
  env | sort | head -5 >/dev/null
  ps aux >/dev/null
  # git
  git init -q repo && cd repo
  git config user.email bench@example.org && git config user.name bench
  for i in $(seq 1 5); do echo "line $i" >>file.txt; git add file.txt; git commit -qm "commit $i"; done
  git log --oneline >/dev/null; git status --short >/dev/null; git diff HEAD~2 >/dev/null
  cd ..
  # tar
  tar czf etc.tgz -C / etc/ssh etc/apt 2>/dev/null || true
  mkdir x && tar xzf etc.tgz -C x && rm -rf x etc.tgz
  # compiler
  printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' >hello.c
  cc -O2 -o hello hello.c && ./hello >/dev/null
  # package tools
  dpkg -l >/dev/null; dpkg -L coreutils >/dev/null; apt-cache policy bash >/dev/null
  # what the rules watch
  cat /etc/shadow >/dev/null
  find /root /home -maxdepth 3 -name 'id_rsa*' 2>/dev/null >/dev/null || true
  curl -s -m 2 http://127.0.0.1:9/ >/dev/null 2>&1 || true
)
sleep 1
kill -INT "$vpid"
wait "$vpid" || true
gzip -9 -c "$raw" >"$out"
echo "recorded $(wc -l <"$raw") events ($(stat -c %s "$out") bytes compressed) to $out"
rm -rf "$work"
