#!/usr/bin/env bash
# Measures sandwatch-sensor's idle CPU and memory from /proc/PID/stat and status.
# usage: sensor/bench/measure-idle.sh BUILD_DIR SECONDS [sensor flags...]
# Prints one key=value line: cpu_pct (of one core), rss_kib, hwm_kib, scans.
set -euo pipefail
build=${1:?build dir}; secs=${2:?seconds}; shift 2
out=$(mktemp /tmp/sw-idle-XXXXXX.jsonl)
outflag=(--output "file:$out")
for a in "$@"; do [ "$a" = "--output" ] && outflag=(); done
"$build/bin/sandwatch-sensor" "${outflag[@]}" --log-level warn "$@" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
sleep 5  # start-up (baseline walk, first scan) is not idle time
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
sleep "$secs"
t1=$(ticks); s1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
kill -TERM $pid; wait $pid || true
scans=$(grep -o '"scans":[0-9]*' "$out" | tail -n1 | cut -d: -f2 || true)
awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" -v rss="$rss" -v hwm="$hwm" \
    -v scans="$scans" 'BEGIN { printf "cpu_pct=%.3f cpu_s=%.2f wall_s=%.1f rss_kib=%d hwm_kib=%d scans=%s\n",
    100 * (t1 - t0) / hz / (s1 - s0), (t1 - t0) / hz, s1 - s0, rss, hwm, scans }'
