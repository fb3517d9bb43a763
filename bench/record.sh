#!/usr/bin/env bash
# Overhead of `culprit record` against `perf record -g` on the same CPU-bound workload at the
# same frequency (1 kHz and 99 Hz): wall and CPU time of the workload plain, under each
# profiler, the slow-down, and the samples each captured.
# Usage: bench/record.sh [ROUNDS]   (needs gcc, perf; builds culprit --release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-600}
RUNS=${RUNS:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -z "${CULPRIT:-}" ]; then
  cargo build --release -q -p culprit
  CULPRIT=${CARGO_TARGET_DIR:-target}/release/culprit
fi
gcc -O2 -g -o "$TMP/work" testbed/native/ratio.c

# Median user+sys CPU seconds and wall seconds of a command over $RUNS runs.
measure() {
  local best_cpu="" best_wall=""
  local cpus=() walls=() works=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%U %S %e" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; exit 1; }
    read -r u s e < "$TMP/t"
    cpus+=("$(echo "$u + $s" | bc)")
    walls+=("$e")
    works+=("$(grep -o 'work_cpu_s [0-9.]*' "$TMP/err" | awk '{print $2}')")
  done
  best_cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  best_wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  echo "$best_cpu $best_wall $(printf '%s\n' "${works[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")"
}

row() {
  printf '%-8s %-10s %10s %10.3f %10s %10.3f %10s %10.3f %10s\n' "$1" "$2" "$6" \
    "$(echo "$6 / $base_work" | bc -l)" "$3" "$(echo "$3 / $base_cpu" | bc -l)" "$4" \
    "$(echo "$4 / $base_wall" | bc -l)" "$5"
}
printf '%-8s %-10s %10s %10s %10s %10s %10s %10s %10s\n' freq tool work_s work_x total_s total_x wall_s wall_x samples
read -r base_cpu base_wall base_work < <(measure "$TMP/work" "$ROUNDS")
printf '%-8s %-10s %10s %10s %10s %10s %10s %10s %10s\n' - plain "$base_work" 1.000 "$base_cpu" 1.000 "$base_wall" 1.000 -
for hz in 1000 99; do
  read -r c_cpu c_wall c_work < <(measure "$CULPRIT" record -F "$hz" -o "$TMP/c.pb.gz" -- "$TMP/work" "$ROUNDS")
  c_samples=$(grep -o '^culprit: [0-9]* samples' "$TMP/err" | awk '{print $2}')
  read -r p_cpu p_wall p_work < <(measure perf record -q -g -F "$hz" -e cpu-clock -o "$TMP/perf.data" -- "$TMP/work" "$ROUNDS")
  p_samples=$(perf script -i "$TMP/perf.data" -F tid 2>/dev/null | grep -c . || true)
  row "$hz" culprit "$c_cpu" "$c_wall" "$c_samples" "$c_work"
  row "$hz" perf "$p_cpu" "$p_wall" "$p_samples" "$p_work"
done
echo "work_s: the workload's own CPU time (sampling interrupts are charged to it); total_s: user+sys"
echo "of profiler plus workload (start-up and symbolization included); *_x: against plain; medians of $RUNS runs"
