#!/usr/bin/env bash
# The sampler's own cost: culprit watch on a 500-process tree at a 1 s interval for ~30 s,
# against prometheus-process-exporter scraped every 1 s (Debian: prometheus-process-exporter)
# and a `ps` loop as a baseline. Prints CPU seconds per sample, % of a core and peak RSS.
#
#   bench/watch.sh                 # builds culprit --release first
#   CULPRIT=path/to/culprit SECONDS_=30 bench/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${SECONDS_:-30}
CULPRIT=${CULPRIT:-}
if [ -z "$CULPRIT" ]; then
    cargo build --release -q -p culprit
    CULPRIT=${CARGO_TARGET_DIR:-target}/release/culprit
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    # Sleeps first (children of the subshells), then the subshells, then the root.
    if [ -n "${ROOT:-}" ]; then
        for sub in $(pgrep -P "$ROOT"); do pkill -P "$sub" 2>/dev/null || true; done
        pkill -P "$ROOT" 2>/dev/null || true
        kill "$ROOT" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# 500 processes in a tree: a root, 20 subshells, 24 sleeps under each (1 + 20 + 480 = 501).
# The root runs under a unique name so process-exporter can pick it by comm.
cp "$(command -v dash || command -v sh)" "$WORK/watchbench-root"
"$WORK/watchbench-root" -c 'for i in $(seq 20); do (for j in $(seq 24); do sleep 900 & done; wait) & done; wait' &
ROOT=$!
for _ in $(seq 100); do
    n=$(ps --no-headers -o pid --ppid "$ROOT" | wc -l)
    [ "$n" -ge 20 ] && [ "$(pgrep -c -f '^sleep 900$')" -ge 480 ] && break
    sleep 0.1
done
TREE=$(( $(pgrep -c -f '^sleep 900$') + 21 ))
echo "tree: $TREE processes under pid $ROOT; ${DURATION}s at 1s interval"

# ticks -> seconds for /proc/PID/stat's utime+stime
TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
rss_of() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

report() { # name cpu_seconds samples wall rss_kb
    awk -v n="$1" -v c="$2" -v s="$3" -v w="$4" -v r="$5" 'BEGIN {
        printf "%-28s %8.3f CPU-s  %6.2f ms/sample  %6.2f%% of a core  peak RSS %6.1f MiB\n",
            n, c, 1000 * c / s, 100 * c / w, r / 1024 }'
}

# culprit watch: its own CPU from /usr/bin/time.
start=$(date +%s.%N)
/usr/bin/time -f '%U %S %M' -o "$WORK/culprit.time" \
    "$CULPRIT" watch --pid "$ROOT" --interval 1s --duration "${DURATION}s" -o "$WORK/series.jsonl"
end=$(date +%s.%N)
read -r u s m < "$WORK/culprit.time"
C_CPU=$(echo "$u + $s" | bc -l); C_WALL=$(echo "$end - $start" | bc -l)
C_SAMPLES=$(wc -l < "$WORK/series.jsonl")
C_PROCS=$(tail -n 1 "$WORK/series.jsonl" | grep -o '"processes":[0-9]*' | head -n 1 | cut -d: -f2)
echo "culprit saw $C_PROCS processes per sample, $C_SAMPLES samples"
report "culprit watch" "$C_CPU" "$C_SAMPLES" "$C_WALL" "$m"

# prometheus-process-exporter, scraped once a second for the same time.
if command -v prometheus-process-exporter > /dev/null; then
    PORT=$(( 20000 + RANDOM % 20000 ))
    prometheus-process-exporter -procnames watchbench-root -children=true -gather-smaps=false \
        -web.listen-address "127.0.0.1:$PORT" > "$WORK/pe.log" 2>&1 &
    PE=$!; PIDS+=("$PE")
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/metrics" > /dev/null && break; sleep 0.1; done
    before=$(cpu_of "$PE")
    start=$(date +%s.%N)
    for _ in $(seq "$((DURATION + 1))"); do
        curl -sf "http://127.0.0.1:$PORT/metrics" > "$WORK/pe.txt"
        sleep 1
    done
    end=$(date +%s.%N)
    P_CPU=$(echo "$(cpu_of "$PE") - $before" | bc -l); P_WALL=$(echo "$end - $start" | bc -l)
    P_PROCS=$(grep '^namedprocess_namegroup_num_procs' "$WORK/pe.txt" | awk '{print $2}')
    echo "process-exporter saw $P_PROCS processes in the group"
    report "prometheus-process-exporter" "$P_CPU" "$((DURATION + 1))" "$P_WALL" "$(rss_of "$PE")"
    kill "$PE"
    echo "ratio (process-exporter / culprit), CPU per sample: $(echo "($P_CPU / ($DURATION + 1)) / ($C_CPU / $C_SAMPLES)" | bc -l | cut -c1-5)"
else
    echo "prometheus-process-exporter not installed (apt-get install prometheus-process-exporter)"
fi

# Baseline: ps over the same tree once a second.
/usr/bin/time -f '%U %S %M' -o "$WORK/ps.time" bash -c "
    for i in \$(seq $((DURATION + 1))); do
        ps -o pid,ppid,rss,vsz,nlwp,time,comm --ppid $ROOT -p $ROOT > /dev/null
        ps -o pid,rss,vsz,nlwp,time,comm --ppid \"\$(ps -o pid= --ppid $ROOT | tr '\n' ',' | sed 's/,\$//')\" > /dev/null
        sleep 1
    done"
read -r u s m < "$WORK/ps.time"
S_CPU=$(echo "$u + $s" | bc -l)
report "ps loop (2 ps per sample)" "$S_CPU" "$((DURATION + 1))" "$DURATION" "$m"
echo "ratio (ps loop / culprit), CPU per sample: $(echo "($S_CPU / ($DURATION + 1)) / ($C_CPU / $C_SAMPLES)" | bc -l | cut -c1-5)"
