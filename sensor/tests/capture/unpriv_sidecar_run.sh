#!/bin/bash
# One run of the unprivileged-sidecar comparison: the sensor (MODE=sidecar
# CAPTURE=auto) and, when given, pspy, side by side in a private PID namespace
# with a pod's default capability set. After both are ready, a new directory
# under /tmp receives one static and one dynamic binary, and short_spawn runs
# each RUNS times (INFLIGHT in flight, no shell between runs).
#
# usage: unpriv_sidecar_run.sh OUTDIR SENSOR SHORT_SPAWN STATIC DYNAMIC [PSPY]
# env:   RUNS [300], INFLIGHT [8], TRIAL_US [1000], CAPTURE [auto],
#        PRIVILEGED [0] (1: keep every capability, the privileged-sidecar vantage)
# Writes to OUTDIR: sensor.jsonl, sensor.log, pspy.log, static.jsonl,
# dynamic.jsonl (one line per run: pid, times, exit), caps.txt, dropdir.txt.
# Needs root (for unshare); everything inside runs without CAP_SYS_ADMIN,
# CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_NICE and the other capabilities a
# pod does not get by default.
set -euo pipefail

# Capabilities outside Kubernetes' (containerd's) default set for a pod.
DROP=cap_dac_read_search,cap_linux_immutable,cap_net_broadcast,cap_net_admin,cap_ipc_lock
DROP+=,cap_ipc_owner,cap_sys_module,cap_sys_rawio,cap_sys_ptrace,cap_sys_pacct,cap_sys_admin
DROP+=,cap_sys_boot,cap_sys_nice,cap_sys_resource,cap_sys_time,cap_sys_tty_config,cap_lease
DROP+=,cap_audit_control,cap_mac_override,cap_mac_admin,cap_syslog,cap_wake_alarm
DROP+=,cap_block_suspend,cap_audit_read,cap_perfmon,cap_bpf,cap_checkpoint_restore

if [ "${1:-}" != "--inside" ]; then
  if [ $# -lt 5 ]; then
    echo "usage: $0 OUTDIR SENSOR SHORT_SPAWN STATIC DYNAMIC [PSPY]" >&2
    exit 2
  fi
  mkdir -p "$1"
  if [ "${PRIVILEGED:-0}" = 1 ]; then
    exec unshare --pid --fork --mount-proc /bin/bash "$0" --inside "$@"
  fi
  exec unshare --pid --fork --mount-proc /usr/sbin/capsh --drop="$DROP" -- "$0" --inside "$@"
fi
shift
OUT=$1 SENSOR=$2 SPAWN=$3 STATIC=$4 DYNAMIC=$5 PSPY=${6:-}
RUNS=${RUNS:-300} INFLIGHT=${INFLIGHT:-8} TRIAL_US=${TRIAL_US:-1000}

grep -E '^Cap(Eff|Bnd)' /proc/self/status >"$OUT/caps.txt"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${DROPDIR:-}" ] && rm -rf "$DROPDIR"
}
trap cleanup EXIT

# wait_for FILE PATTERN WHAT: up to 60 s (a readiness wait, not a measurement).
wait_for() {
  for _ in $(seq 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "unpriv_sidecar_run: $3 did not become ready; see $1" >&2
  exit 1
}

MODE=sidecar CAPTURE="${CAPTURE:-auto}" DEDUP_WINDOW=0 HEARTBEAT_INTERVAL=1 OUTPUT="file:$OUT/sensor.jsonl" \
  "$SENSOR" 2>"$OUT/sensor.log" &
SENSOR_PID=$!
pids+=("$SENSOR_PID")
if [ -n "$PSPY" ]; then
  "$PSPY" -c=false -f=false >"$OUT/pspy.log" 2>&1 &
  pids+=("$!")
fi
wait_for "$OUT/sensor.jsonl" 'sandwatch.heartbeat' "the sensor"
[ -n "$PSPY" ] && wait_for "$OUT/pspy.log" 'done' "pspy"

# The drop: a directory made after start, two binaries copied into it.
DROPDIR=$(mktemp -d /tmp/sw-drop.XXXXXX)
echo "$DROPDIR" >"$OUT/dropdir.txt"
cp "$STATIC" "$DROPDIR/static-trial"
cp "$DYNAMIC" "$DROPDIR/dynamic-trial"
chmod 755 "$DROPDIR"/*-trial
sleep 0.5  # let both watchers add the new directory
"$SPAWN" --runs "$RUNS" --inflight "$INFLIGHT" -- "$DROPDIR/static-trial" "$TRIAL_US" \
  >"$OUT/static.jsonl"
"$SPAWN" --runs "$RUNS" --inflight "$INFLIGHT" -- "$DROPDIR/dynamic-trial" "$TRIAL_US" \
  >"$OUT/dynamic.jsonl"
sleep 2  # collection window for the last reports
kill -TERM "$SENSOR_PID"
wait "$SENSOR_PID" || true
