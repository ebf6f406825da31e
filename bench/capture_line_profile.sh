#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# capture_line_profile.sh: where one capture program's time goes, by BPF
# source line. Runs `VIGIL events -w /dev/null` on core 1 and an open+close
# loop on core 0, samples core 0 with `perf record -g`, and charges each
# sample that has the program in its call chain to the program's source line
# at that address (the kernel's jited line info, read with libbpf), with the
# kernel function it was in (a helper the line called, or "(self)"). Prints
# figures; asserts nothing. Needs root, perf, a C compiler, libbpf-dev and
# python3.
#
#   sudo bench/capture_line_profile.sh [-p PROGRAM] [-n CALLS] [-s] VIGIL
#
# -p: program name (default vg_exit_openat); -n: loop length (default
# 4,000,000); -s: run the loop in a fresh 64-slot fd table (see
# capture_bench --fd-table). Line attribution is approximate: a sample is
# charged to the line whose code starts at or before its address, and
# samples in the program itself land a few instructions late (skid).
set -euo pipefail
prog=vg_exit_openat
calls=4000000
small=0
while getopts "p:n:s" opt; do
  case $opt in
    p) prog=$OPTARG ;;
    n) calls=$OPTARG ;;
    s) small=1 ;;
    *) echo "usage: $0 [-p PROGRAM] [-n CALLS] [-s] VIGIL" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-p PROGRAM] [-n CALLS] [-s] VIGIL" >&2; exit 2; }
vigil=$(readlink -f "$1")
. "$(dirname "$0")/lib.sh"
bench_init lineprof perf gcc cc python3 bpftool taskset

cat >"$work/lineinfo.c" <<'EOF'
/* lineinfo PROG_ID: the program's functions (FUNC addr len) and, for each
 * line info record, its jited address and source line (LINE addr file:line | text). */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = bpf_prog_get_fd_by_id(atoi(argv[1]));
  if (fd < 0) { perror("bpf_prog_get_fd_by_id"); return 1; }
  struct bpf_prog_info info = {};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) { perror("prog info"); return 1; }
  __u32 nli = info.nr_line_info, njli = info.nr_jited_line_info, nks = info.nr_jited_ksyms;
  __u32 lrec = info.line_info_rec_size, btf_id = info.btf_id;
  char *li = calloc(nli ? nli : 1, lrec ? lrec : 1);
  __u64 *jli = calloc(njli ? njli : 1, 8), *ks = calloc(nks ? nks : 1, 8);
  __u32 *flen = calloc(nks ? nks : 1, 4);
  memset(&info, 0, sizeof(info));
  info.nr_line_info = nli; info.line_info_rec_size = lrec; info.line_info = (__u64)(unsigned long)li;
  info.nr_jited_line_info = njli; info.jited_line_info_rec_size = 8;
  info.jited_line_info = (__u64)(unsigned long)jli;
  info.nr_jited_ksyms = nks; info.jited_ksyms = (__u64)(unsigned long)ks;
  info.nr_jited_func_lens = nks; info.jited_func_lens = (__u64)(unsigned long)flen;
  len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) { perror("prog info (arrays)"); return 1; }
  struct btf *btf = btf__load_from_kernel_by_id(btf_id);
  if (!btf) { fprintf(stderr, "no BTF for the program\n"); return 1; }
  for (__u32 i = 0; i < nks; i++) printf("FUNC %llx %u\n", (unsigned long long)ks[i], flen[i]);
  for (__u32 i = 0; i < njli && i < nli; i++) {
    struct bpf_line_info *l = (void *)(li + (size_t)i * lrec);
    const char *file = btf__name_by_offset(btf, l->file_name_off), *text = btf__name_by_offset(btf, l->line_off);
    const char *base = file ? strrchr(file, '/') : NULL;
    printf("LINE %llx %s:%u | %s\n", (unsigned long long)jli[i], base ? base + 1 : (file ? file : "?"),
           BPF_LINE_INFO_LINE_NUM(l->line_col), text ? text : "");
  }
  close(fd);
  return 0;
}
EOF
gcc -O1 -o "$work/lineinfo" "$work/lineinfo.c" -lbpf

bench_openloop
bench_start taskset -c 1 "$vigil" events -w /dev/null
id=$(bpftool prog show | awk -v p="$prog" '$3 == "name" && $4 == p && !id { id = $1; sub(":", "", id) } END { print id }')
[ -n "$id" ] || { echo "no loaded program named $prog" >&2; exit 1; }
"$work/lineinfo" "$id" >"$work/lines.txt"

loop_args=("$calls")
[ $small = 1 ] && loop_args+=(small)
taskset -c 0 "$work/openloop" "${loop_args[@]}" >"$work/loop.txt" &
lp=$!
sleep 1
perf record -q -g -C 0 -o "$work/perf.data" -- sleep 5 >/dev/null 2>&1
wait $lp
perf script -i "$work/perf.data" -F ip,sym >"$work/samples.txt" 2>/dev/null

python3 - "$work/lines.txt" "$work/samples.txt" "$(cat "$work/loop.txt")" "$prog" <<'EOF'
import bisect, collections, re, sys
funcs, lines = [], []
for l in open(sys.argv[1]).read().splitlines():
    if l.startswith("FUNC "):
        _, a, n = l.split(); funcs.append((int(a, 16), int(a, 16) + int(n)))
    elif l.startswith("LINE "):
        _, a, rest = l.split(" ", 2); lines.append((int(a, 16), rest))
lines.sort(); addrs = [a for a, _ in lines]
ns_per_op = float(sys.argv[3]); prog = sys.argv[4]
total = 0; per = collections.Counter(); leaf = collections.defaultdict(collections.Counter)
for block in open(sys.argv[2]).read().split("\n\n"):
    frames = [f.strip() for f in block.strip().splitlines()[1:]]
    if not frames: continue
    total += 1
    for depth, f in enumerate(frames):
        m = re.match(r"([0-9a-f]+) (\S+)", f)
        if not m: continue
        ip = int(m.group(1), 16)
        if any(a <= ip < b for a, b in funcs):
            i = bisect.bisect_right(addrs, ip - (1 if depth else 0)) - 1  # a return address is after its call
            key = lines[i][1] if i >= 0 else "?"
            per[key] += 1
            leaf[key][re.match(r"[0-9a-f]+ (\S+)", frames[0]).group(1) if depth else "(self)"] += 1
            break
inprog = sum(per.values())
print(f"loop: {ns_per_op:.0f} ns per open+close; {total} samples on its core")
print(f"{prog}: {100 * inprog / max(total, 1):.1f}% of samples, ~{ns_per_op * inprog / max(total, 1):.0f} ns per open")
for key, n in per.most_common(25):
    print(f"{100 * n / total:6.2f}%  ~{ns_per_op * n / total:4.0f} ns  {key[:140]}")
    for sym, c in leaf[key].most_common(3):
        print(f"{'':20s}{100 * c / total:5.2f}% {sym}")
EOF
