#!/usr/bin/env bash
# Shared libraries under causal profiling: testbed/causal/shared_main.c with its slow loop
# in libcausalwork.so, linked (DT_NEEDED) and dlopened, run plain, under `culprit causal`
# and under Debian's coz 0.2.2 (DWARF 4 build, `-b MAIN -b %libcausalwork%`), in one go.
# Prints each run's wall time, its ratio to the plain run, and the line ranked first
# (the right answer is shared_work.c's SLOW_LINE).
#   bench/causal-shared.sh [ITERATIONS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
iters=${1:-4000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CULPRIT=path uses a built binary.
source "$root/bench/culprit-bin.sh"
src=$root/testbed/causal
cc=(gcc -O1 -g -gdwarf-4 -gno-variable-location-views -pthread)
"${cc[@]}" -shared -fPIC "$src/shared_work.c" -o "$work/libcausalwork.so"
"${cc[@]}" "$src/shared_main.c" -o "$work/linked" -L"$work" -lcausalwork -Wl,-rpath,'$ORIGIN'
"${cc[@]}" -DUSE_DLOPEN "$src/shared_main.c" -o "$work/plugin" -Wl,-rpath,'$ORIGIN'
echo "right answer: shared_work.c:$(grep -n 'SLOW_LINE \*/' "$src/shared_work.c" | cut -d: -f1)"
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
first() {
  "$culprit" causal report --format json "$1" | python3 -c '
import json, sys
ranked = [c["line"] for c in json.load(sys.stdin)["curves"] if c["baseline"] is not None]
print(ranked[0].rsplit("/", 1)[-1] if ranked else "(nothing ranked)")'
}
printf '%-8s %-16s %8s %8s  %s\n' program run "wall s" "x plain" "ranked first"
for prog in linked plugin; do
  plain=$(secs "$work/$prog" "$iters" 1500000)
  printf '%-8s %-16s %8.2f %8.2f\n' "$prog" plain "$plain" 1
  ours=$(secs "$culprit" causal --experiment-ms 150 -o "$work/$prog-c.coz" -- "$work/$prog" "$iters" 1500000)
  printf '%-8s %-16s %8.2f %8.2f  %s\n' "$prog" "culprit causal" "$ours" "$(echo "$ours / $plain" | bc -l)" "$(first "$work/$prog-c.coz")"
  if command -v coz >/dev/null; then
    theirs=$(cd "$work" && secs coz run -b MAIN -b '%libcausalwork%' -o "$work/$prog-z.coz" --- "$work/$prog" "$iters" 1500000)
    printf '%-8s %-16s %8.2f %8.2f  %s\n' "$prog" "coz run -b" "$theirs" "$(echo "$theirs / $plain" | bc -l)" "$(first "$work/$prog-z.coz")"
  fi
done
