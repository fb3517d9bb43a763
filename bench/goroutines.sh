#!/usr/bin/env bash
# Parse and group a 100k-goroutine `?debug=2` dump with `culprit goroutines` (release) and
# print wall time, CPU and peak memory next to a `grep -c '^goroutine '` baseline that only
# counts headers (panicparse, the real peer, is Go and needs the network to build).
#
# The dump is made from the real frames of ../shared/testdata/goroutines: each of its 102
# goroutines is copied ~1000 times with new ids, random wait minutes and random argument
# junk, and the main.go line numbers shifted for one copy in 20, so grouping has real work
# (many identical stacks, some near-identical ones, arguments that must be ignored).
#
# Usage: bench/goroutines.sh            (N=100000 goroutines; N=... to change)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
OUT=${OUT:-bench-out/goroutines}
SRC=../shared/testdata/goroutines/sigquit-all-70s/goroutine-debug2.txt
mkdir -p "$OUT"

cargo build --release -q -p culprit
BIN=${CARGO_TARGET_DIR:-target}/release/culprit
DUMP=$OUT/debug2-$N.txt

python3 - "$N" "$SRC" "$DUMP" <<'PY'
import random, re, sys
n, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
blocks = [b for b in open(src).read().split("\n\n") if b.startswith("goroutine ")]
rng = random.Random(42)
hdr = re.compile(r"^goroutine \d+ \[([^\],]*)(?:, \d+ minutes)?(, locked to thread)?\]:")
with open(dst, "w") as out:
    for gid in range(1, n + 1):
        b = blocks[rng.randrange(len(blocks))]
        lines = b.split("\n")
        m = hdr.match(lines[0])
        state, locked = m.group(1), m.group(2) or ""
        mins = rng.choice(["", "", f", {rng.randint(1, 90)} minutes"])
        lines[0] = f"goroutine {gid} [{state}{mins}{locked}]:"
        shift = rng.randrange(20) == 0
        for i in range(1, len(lines)):
            l = lines[i]
            if l.startswith("\t") and shift and "main.go:" in l:
                l = re.sub(r"main\.go:(\d+)", lambda g: f"main.go:{int(g.group(1)) + rng.randrange(1, 4)}", l)
            elif not l.startswith("\t") and l.endswith(")") and "0x" in l:
                l = re.sub(r"0x[0-9a-f]+\?", lambda _: hex(rng.getrandbits(24)) + "?", l)
            lines[i] = l
        out.write("\n".join(lines) + "\n\n")
PY

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" > "$OUT/$label.out" 2> "$OUT/$label.time"
  local wall user sys rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/$label.time")
  user=$(awk -F': ' '/User time/ {print $2}' "$OUT/$label.time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$OUT/$label.time")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/$label.time")
  printf '%-28s wall %-8s cpu %6.2fs  peak RSS %7.1f MB\n' "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "scale=1; $rss / 1024" | bc)"
  echo "$user + $sys" | bc > "$OUT/$label.cpu"
}

size=$(du -m "$DUMP" | cut -f1)
echo "dump: $DUMP ($N goroutines, ${size} MB)"
measure grep-count grep -c '^goroutine ' "$DUMP"
measure culprit-text "$BIN" goroutines "$DUMP"
measure culprit-json "$BIN" goroutines "$DUMP" --format json
measure culprit-exact-args "$BIN" goroutines "$DUMP" --exact-args --format json

groups=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['total'], len(d['groups']))" "$OUT/culprit-json.out")
echo "culprit: total goroutines, groups = $groups (grep counted $(cat "$OUT/grep-count.out"))"
for l in culprit-text culprit-json; do
  printf 'CPU ratio %s / grep-count: %.1fx; CPU per goroutine: %.2f us\n' "$l" \
    "$(echo "$(cat "$OUT/$l.cpu") / ($(cat "$OUT/grep-count.cpu") + 0.001)" | bc -l)" \
    "$(echo "$(cat "$OUT/$l.cpu") * 1000000 / $N" | bc -l)"
done
