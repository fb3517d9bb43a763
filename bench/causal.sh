#!/usr/bin/env bash
# Overhead of causal profiling: the same program (testbed/causal/workers.c) run plain, under
# `culprit causal` and under Debian's coz 0.2.2 (DWARF 4 build, which is all it reads), in
# one go; prints wall time of each and the ratio to the plain run.
#   bench/causal.sh [ITERATIONS] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
iters=${1:-3000}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CULPRIT=path uses a built binary.
source "$root/bench/culprit-bin.sh"
gcc -O1 -g -gdwarf-4 -gno-variable-location-views -pthread "$root/testbed/causal/workers.c" -o "$work/workers"
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
plain=0; ours=0; theirs=0
for _ in $(seq "$runs"); do
  plain=$(echo "$plain + $(secs "$work/workers" "$iters" 1500000)" | bc)
  ours=$(echo "$ours + $(secs "$culprit" causal -o "$work/c.coz" -- "$work/workers" "$iters" 1500000)" | bc)
  if command -v coz >/dev/null; then
    theirs=$(echo "$theirs + $(cd "$work" && secs coz run -o "$work/z.coz" --- "$work/workers" "$iters" 1500000)" | bc)
  fi
done
printf '%-16s %8s %8s\n' run "wall s" "x plain"
printf '%-16s %8.2f %8.2f\n' plain "$(echo "$plain / $runs" | bc -l)" 1
printf '%-16s %8.2f %8.2f\n' "culprit causal" "$(echo "$ours / $runs" | bc -l)" "$(echo "$ours / $plain" | bc -l)"
if command -v coz >/dev/null; then
  printf '%-16s %8.2f %8.2f\n' "coz run" "$(echo "$theirs / $runs" | bc -l)" "$(echo "$theirs / $plain" | bc -l)"
fi
