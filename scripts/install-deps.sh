#!/usr/bin/env bash
# Installs the system tools the test suite runs against, when missing: Go 1.19 (reference
# `go tool pprof` and test services), coz, Chromium (browser tests), nginx and wrk (load
# peers), Prometheus (promtool and a real scraper), perf (record's peer).
set -euo pipefail
need=()
command -v go >/dev/null || need+=(golang-go)
command -v coz >/dev/null || need+=(coz-profiler)
command -v chromium >/dev/null || need+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v promtool >/dev/null || need+=(prometheus)
command -v perf >/dev/null || need+=(linux-perf)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
