#!/bin/bash
# One pod of the local lab: the sensor sidecar and the workload (attack-sim) side by side.
# Started as PID 1 of a private PID namespace (`unshare --pid --fork --mount-proc`) on the
# host runtime and inside the qemu guest, so the sensor's vantage point matches a sidecar in
# a pod with shareProcessNamespace.
# Usage: pod.sh OUT_DIR      (OUT_DIR holds sensor.args and attack.args, one argument per line,
#                             and pod.env with SW_BIN, SW_READY_WAIT, SW_SETTLE)
# Writes OUT_DIR/{sensor.log,attack.log,attack.rc}. Exit: attack-sim's exit code.
set -u
out="${1:?usage: pod.sh OUT_DIR}"
# shellcheck source=/dev/null
. "$out/pod.env"
mapfile -t sensor_args <"$out/sensor.args"
mapfile -t attack_args <"$out/attack.args"
"$SW_BIN/sandwatch-sensor" "${sensor_args[@]}" >"$out/sensor.log" 2>&1 &
sensor=$!
echo "sandwatch-pod: sensor pid $sensor, waiting ${SW_READY_WAIT}s for its baseline"
sleep "$SW_READY_WAIT"
echo "sandwatch-pod: chain starting"
"$SW_BIN/sandwatch-attack-sim" run "${attack_args[@]}" >"$out/attack.log" 2>&1
rc=$?
echo "$rc" >"$out/attack.rc"
echo "sandwatch-pod: chain done rc=$rc, settling ${SW_SETTLE}s"
sleep "$SW_SETTLE"
# On TERM the sensor delivers what it still holds, for at most 3 s (each POST bounded by
# that deadline), then exits; KILL only if it did not.
kill -TERM "$sensor" 2>/dev/null
for _ in $(seq 1 50); do
  kill -0 "$sensor" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$sensor" 2>/dev/null; then
  echo "sandwatch-pod: sensor still running 5 s after TERM: killed (undelivered events lost)"
  kill -KILL "$sensor" 2>/dev/null
fi
wait "$sensor" 2>/dev/null
echo "sandwatch-pod: done"
exit "$rc"
