# shellcheck shell=bash
# Helpers shared by the kind-cluster scripts. Source it; it defines no side effects.

# Settings every script reads (override in the environment).
: "${CLUSTER_NAME:=sandwatch}"
: "${KATA_VERSION:=4.2.0}"
: "${KATA_CHART:=oci://ghcr.io/kata-containers/kata-deploy-charts/kata-deploy}"
: "${FALCO_CHART_VERSION:=9.1.1}"   # Falco 0.44.1; its rules pair is in falco-values.yaml
: "${FALCO_NAMESPACE:=falco}"
: "${DEMO_NAMESPACE:=kata-demo}"
: "${IMAGE_TAG:=dev}"
: "${WAIT_TIMEOUT:=600s}"
# Kata's qemu backs all guest RAM with a file on /dev/shm (virtio-fs), so the node's
# /dev/shm must hold default_memory (MiB, 2048 in Kata's configuration-qemu.toml) for every
# Kata VM running at once. kind's node gets the container engine's 64 MiB; kind-up remounts
# it to NODE_SHM_MIB (two VMs: the kata-app pod and doctor's probe pod).
: "${KATA_DEFAULT_MEMORY_MIB:=2048}"
: "${NODE_SHM_MIB:=4608}"
# The node label kata-deploy sets once containerd has restarted with the Kata handlers.
: "${KATA_READY_LABEL:=katacontainers.io/kata-runtime=true}"

KIND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$KIND_DIR/.." && pwd)"
export KIND_DIR REPO_ROOT
# Where the ncat .deb for `attack-sim --package-install staged` is kept (scripts/install-deps).
: "${DEBS_DIR:=${SANDWATCH_CACHE:-/var/cache/sandwatch}/debs}"

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# fail WHAT FIX: one clear line for what is wrong and one for how to fix it, then exit 1.
fail() {
  printf '%s: FAILED: %s\n  FIX: %s\n' "${0##*/}" "$1" "$2" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# version_ge A B: true when dotted version A >= B (leading "v" and suffixes ignored).
version_ge() {
  local a="${1#v}" b="${2#v}"
  a="${a%%[-+]*}"
  b="${b%%[-+]*}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -V | head -n 1)" = "$b" ]
}

# The container engine kind uses: docker when its daemon answers, else podman.
container_engine() {
  if [ -n "${CONTAINER_ENGINE:-}" ]; then echo "$CONTAINER_ENGINE"; return; fi
  if have docker && docker info >/dev/null 2>&1; then echo docker; return; fi
  if have podman; then echo podman; return; fi
  echo none
}

# shm_mib_ok SIZE_MIB: true when a /dev/shm of SIZE_MIB holds one Kata VM's memory.
shm_mib_ok() { [ "${1:-0}" -ge "$KATA_DEFAULT_MEMORY_MIB" ] 2>/dev/null; }

# run CMD...: echo the command, then run it.
run() {
  printf '+ %s\n' "$*" >&2
  "$@"
}

# handle_args "$@": --help prints the script's header comment; anything else is exit 2.
handle_args() {
  case "${1:-}" in
    "") ;;
    -h|--help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *)
      printf '%s: unknown argument %s (see --help)\n' "${0##*/}" "$1" >&2
      exit 2
      ;;
  esac
}
