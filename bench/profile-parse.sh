#!/usr/bin/env bash
# Profile decoding benchmark: culprit_profile::parse (the decoding half of `culprit top`)
# against `go tool pprof -raw` and `-top` on the same files, in the same run. Prints wall
# time and peak RSS (from /usr/bin/time -v) and the ratios.
#
#   bench/profile-parse.sh                 # generated 1.2M-sample profile + testdata's large.cpu
#   SAMPLES=300000 bench/profile-parse.sh  # a smaller generated profile
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
SAMPLES=${SAMPLES:-1200000}
LOCATIONS=${LOCATIONS:-150000}

echo "building examples (release)..." >&2
cargo build --release -q -p culprit-profile --examples
EX=$CARGO_TARGET_DIR/release/examples
BIG=$OUT/large-$SAMPLES.pb.gz
[[ -s $BIG ]] || "$EX/gen_large" "$BIG" "$SAMPLES" "$LOCATIONS"

# measure LABEL CMD... -> "LABEL wall_s rss_kb"
measure() {
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.txt" || { echo "$label failed: $(tail -3 "$OUT/time.txt")" >&2; return 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")
  echo "$label $wall $rss"
}

for f in "$BIG" ../shared/testdata/pprof/internal/proftest/testdata/large.cpu; do
  [[ -s $f ]] || continue
  echo "== $f ($(du -h "$f" | cut -f1) on disk)"
  read -r _ cw cr < <(measure parse "$EX/parse_time" "$f")
  printf '%-28s %8.2fs %8d MB\n' "culprit parse" "$cw" "$((cr / 1024))"
  if command -v go >/dev/null; then
    for mode in raw top; do
      read -r _ gw gr < <(measure "$mode" env PPROF_TMPDIR="$OUT" go tool pprof -symbolize=none "-$mode" "$f")
      printf '%-28s %8.2fs %8d MB   culprit: %.1fx faster, %.2fx the memory\n' \
        "go tool pprof -$mode" "$gw" "$((gr / 1024))" \
        "$(echo "$gw / $cw" | bc -l)" "$(echo "$cr / $gr" | bc -l)"
    done
  fi
done
