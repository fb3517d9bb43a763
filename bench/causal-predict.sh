#!/usr/bin/env bash
# Does a causal profile's prediction hold? testbed/causal/workers.c's slow line is made 25%
# faster for real (-DSLOW_SCALE=0.75) and the measured program speed-up is printed next to
# what `culprit causal` and Debian's coz 0.2.2 (DWARF 4 build) predicted for that line at a
# 25% virtual speed-up (fixed-line, fixed-speedup experiments), in one run. Iterations
# last about ten 1 ms sample periods; much shorter ones leave each worker thread with zero
# or one sample and the prediction is noise. The same for testbed/causal/mutex.rs, a Rust
# program whose bottleneck is the work under a std Mutex (`--cfg faster` does 25% less).
#   bench/causal-predict.sh [RUNS]     (best of RUNS timings of each build, alternated)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CULPRIT=path uses a built binary.
source "$root/bench/culprit-bin.sh"
src=$root/testbed/causal/workers.c
line="workers.c:$(grep -n 'SLOW_LINE \*/' "$src" | cut -d: -f1)"
cc=(gcc -O1 -g -gdwarf-4 -gno-variable-location-views -pthread)
"${cc[@]}" "$src" -o "$work/workers"
"${cc[@]}" -DSLOW_SCALE=0.75 "$src" -o "$work/workers-faster"

# The program speed-up the profile predicts for $line at 25%: the 25% point, else the
# curve's linear fit at 25%.
predicted() {
  "$culprit" causal report --format json "$1" | python3 -c '
import json, sys
line = sys.argv[1]
for c in json.load(sys.stdin)["curves"]:
    if c["line"].endswith(line):
        for p in c["points"]:
            if p["line_speedup_pct"] == 25:
                print(p["program_speedup"]); sys.exit(0)
        if c.get("fit"):
            print(c["fit"]["slope"] * 0.25); sys.exit(0)
print("nan")' "$2"
}

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

# compare LINE BASE_EXE FASTER_EXE COZ_EXE "PROFILE ARGS" "TIMING ARGS" [CULPRIT OPTIONS...]:
# culprit's (and coz's, when COZ_EXE is not -) prediction for LINE at 25% against the
# measured speed-up of FASTER_EXE over BASE_EXE (best of $runs alternated runs each).
compare() {
  local line=$1 base_exe=$2 fast_exe=$3 coz_exe=$4 pargs=$5 targs=$6
  shift 6
  # shellcheck disable=SC2086
  "$culprit" causal --experiment-ms 200 --fixed-speedup 25 --fixed-line "$line" "$@" \
    -o "$work/culprit.coz" -- "$base_exe" $pargs >/dev/null 2>&1
  local ours theirs=nan
  ours=$(predicted "$work/culprit.coz" "$line")
  rm -f "$work/culprit.coz"
  if [[ $coz_exe != - ]] && command -v coz >/dev/null; then
    # coz runs no 0% baselines under --fixed-speedup, so it gets the line alone and its
    # speed-ups drawn at random.
    # shellcheck disable=SC2086
    (cd "$work" && coz run --fixed-line "$line" -o "$work/coz.coz" \
      --- "$coz_exe" $pargs >/dev/null 2>&1)
    theirs=$(predicted "$work/coz.coz" "$line")
    rm -f "$work/coz.coz"
  fi
  local base=999999 fast=999999 b f measured
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    b=$(secs "$base_exe" $targs); f=$(secs "$fast_exe" $targs)
    base=$(echo "if ($b < $base) $b else $base" | bc -l)
    fast=$(echo "if ($f < $fast) $f else $fast" | bc -l)
  done
  measured=$(echo "($base - $fast) / $base" | bc -l)
  printf 'line %s made 25%% faster: base %.2fs, faster build %.2fs, measured program speed-up %.1f%%\n' \
    "$line" "$base" "$fast" "$(echo "$measured * 100" | bc -l)"
  printf '  %-16s %10s %12s\n' profiler predicted "error (pp)"
  for row in "culprit causal:$ours" "coz 0.2.2:$theirs"; do
    local name=${row%%:*} p=${row#*:}
    if [[ $p == nan ]]; then printf '  %-16s %10s %12s\n' "$name" n/a n/a; continue; fi
    printf '  %-16s %9.1f%% %12.1f\n' "$name" "$(echo "$p * 100" | bc -l)" "$(echo "($p - $measured) * 100" | bc -l)"
  done
}

compare "$line" "$work/workers" "$work/workers-faster" "$work/workers" \
  "400 15000000" "60 15000000"

# A Rust program whose bottleneck is the work inside a std Mutex (futex-based, which coz
# does not see; rustc's DWARF 5 also makes coz 0.2.2 abort, so coz is left out).
if command -v rustc >/dev/null; then
  msrc=$root/testbed/causal/mutex.rs
  mline="mutex.rs:$(grep -n '// CRIT_LINE' "$msrc" | cut -d: -f1)"
  rustc --edition 2024 -O -g -o "$work/mutex" "$msrc"
  rustc --edition 2024 -O -g --cfg faster -o "$work/mutex-faster" "$msrc"
  compare "$mline" "$work/mutex" "$work/mutex-faster" - "400 3000000" "200 3000000" --scope mutex.rs
fi
