#!/usr/bin/env bash
# culprit flame vs inferno-flamegraph, in the same run, on the large generated profile
# (bench/profile-top.sh's generator: >100 MB uncompressed proto, 1.2M samples), plus the
# server-side time of the web UI's first flame graph response on it.
#
# inferno reads folded stacks, so it gets `culprit convert --to folded` of the same profile;
# culprit is timed both on the pprof file (what users run) and on those folded stacks.
# inferno is installed with `cargo install inferno` into the bench cache (bench only).
#
# Usage: bench/flame.sh   (env: CULPRIT_BENCH_CACHE, CARGO_TARGET_DIR, RUNS=3, best kept)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cache=${CULPRIT_BENCH_CACHE:-$target/bench-cache}
runs=${RUNS:-3}
mkdir -p "$cache"

cargo build --release -q -p culprit --manifest-path "$root/Cargo.toml"
cargo build --release -q -p culprit-profile --example gen_large --manifest-path "$root/Cargo.toml"
culprit=$target/release/culprit
large=$cache/large-synthetic.pb.gz
if [ ! -s "$large" ]; then
    echo "generating $large (once)..." >&2
    "$target/release/examples/gen_large" "$large"
fi
inferno=$cache/inferno/bin/inferno-flamegraph
if [ ! -x "$inferno" ]; then
    echo "installing inferno into $cache/inferno (once)..." >&2
    cargo install -q --locked --root "$cache/inferno" inferno
fi

tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
folded=$tmp/large.folded
"$culprit" convert --to folded "$large" -o "$folded"
echo "input: $(basename "$large") $(du -hL "$large" | cut -f1) gzipped; folded: $(wc -l <"$folded") stacks, $(du -h "$folded" | cut -f1)"

# best wall time (s) and the peak RSS (kB) of that run, over $runs runs
measure() {
    local out=$1; shift
    local best_wall="" best_rss=""
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >"$out" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; return 1; }
        read -r wall rss <"$tmp/time"
        if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then
            best_wall=$wall best_rss=$rss
        fi
    done
    echo "$best_wall $best_rss"
}

read -r iw ir < <(measure "$tmp/inferno.svg" "$inferno" "$folded")
read -r fw fr < <(measure "$tmp/culprit-folded.svg" "$culprit" flame "$folded")
read -r pw pr < <(measure "$tmp/culprit-pprof.svg" "$culprit" flame "$large")
printf '%-34s %9s %10s %9s %9s\n' run wall_s peak_MB speedup mem_ratio
row() { awk -v n="$1" -v w="$2" -v r="$3" -v iw="$iw" -v ir="$ir" 'BEGIN {
    printf "%-34s %9.2f %10.1f %8.2fx %8.2fx\n", n, w, r/1024, iw/(w>0?w:0.01), r/ir }'; }
row "inferno-flamegraph folded" "$iw" "$ir"
row "culprit flame folded" "$fw" "$fr"
row "culprit flame pprof (.pb.gz)" "$pw" "$pr"
echo "speedup = inferno wall / culprit wall (target > 1); mem_ratio = culprit RSS / inferno RSS"
echo "svg sizes: inferno $(du -h "$tmp/inferno.svg" | cut -f1), culprit $(du -h "$tmp/culprit-pprof.svg" | cut -f1)"

# Web UI: time from request to the full first flame graph response, measured by curl on
# loopback right after the server has loaded the profile and prepared the default view
# (that load time is printed too).
load_start=$(date +%s.%N)
"$culprit" web "$large" >"$tmp/web.out" &
server=$!
for _ in $(seq 6000); do grep -q http "$tmp/web.out" 2>/dev/null && break; sleep 0.05; done
load=$(echo "$(date +%s.%N) - $load_start" | bc -l)
url=$(grep -o 'http://[^ ]*' "$tmp/web.out" | head -n1)
first=$(curl -s -o "$tmp/web.svg" -w '%{time_total}' "${url}api/flame.svg")
again=$(curl -s -o /dev/null -w '%{time_total}' "${url}api/flame.svg")
top=$(curl -s -o /dev/null -w '%{time_total}' "${url}api/top")
rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status")
printf 'web: loaded and ready in %.1fs, peak RSS %s MB\n' "$load" "$rss"
echo "web: first /api/flame.svg ${first}s ($(du -h "$tmp/web.svg" | cut -f1)), cached ${again}s, /api/top after it ${top}s (target: first < 1 s)"
