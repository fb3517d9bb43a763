#!/usr/bin/env bash
# culprit top vs go tool pprof -top, in the same run, on a large generated profile (>100 MB
# uncompressed proto, 1.2M samples, 150k locations, 30-60 frames deep) and on pprof's
# large.cpu. Prints wall time and peak RSS of each and culprit's ratios, and checks that
# both print the same report.
#
# Usage: bench/profile-top.sh   (env: CULPRIT_BENCH_CACHE for the generated profile,
#                                CARGO_TARGET_DIR as usual, RUNS=3 repetitions, best kept;
#                                PEER_RUNS=$RUNS for pprof, which takes minutes per run on
#                                the generated profile)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cache=${CULPRIT_BENCH_CACHE:-$target/bench-cache}
runs=${RUNS:-3}
peer_runs=${PEER_RUNS:-$runs}
mkdir -p "$cache"

cargo build --release -q -p culprit --manifest-path "$root/Cargo.toml"
cargo build --release -q -p culprit-profile --example gen_large --manifest-path "$root/Cargo.toml"
culprit=$target/release/culprit
large=$cache/large-synthetic.pb.gz
if [ ! -s "$large" ]; then
    echo "generating $large (once)..." >&2
    "$target/release/examples/gen_large" "$large"
fi
large_cpu=$(find "$root/../shared/testdata/pprof" -name large.cpu | head -n1)

export TZ=UTC PPROF_BINARY_PATH=/nonexistent PPROF_TOOLS=/nonexistent
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best wall time (s) and the peak RSS (kB) of that run, over N runs
measure() {
    local n=$1 out=$2; shift 2
    local best_wall="" best_rss=""
    for _ in $(seq "$n"); do
        /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >"$out" 2>"$tmp/stderr"
        read -r wall rss <"$tmp/time"
        if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then
            best_wall=$wall best_rss=$rss
        fi
    done
    echo "$best_wall $best_rss"
}

printf '%-22s %10s %10s %12s %12s %9s %9s %s\n' profile culprit_s pprof_s culprit_MB pprof_MB speedup mem_ratio same_output
for profile in "$large" "$large_cpu"; do
    read -r cw cr < <(measure "$runs" "$tmp/culprit.txt" "$culprit" top "$profile")
    read -r gw gr < <(measure "$peer_runs" "$tmp/pprof.txt" go tool pprof -top "$profile")
    same=no
    cmp -s "$tmp/culprit.txt" "$tmp/pprof.txt" && same=yes
    awk -v n="$(basename "$profile")" -v cw="$cw" -v gw="$gw" -v cr="$cr" -v gr="$gr" -v same="$same" 'BEGIN {
        printf "%-22s %10.2f %10.2f %12.1f %12.1f %8.1fx %8.2fx %s\n", n, cw, gw, cr/1024, gr/1024, gw/(cw>0?cw:0.01), cr/gr, same }'
done
echo "speedup = pprof wall / culprit wall (target >= 10x); mem_ratio = culprit RSS / pprof RSS (target <= 0.25)"
