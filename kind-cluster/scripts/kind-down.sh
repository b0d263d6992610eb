#!/usr/bin/env bash
# Removes everything `make kind-up` created: the kind cluster (and with it Kata, Falco,
# the receiver, the listener and the loaded images inside the node). The images built
# on the host stay; remove them with: podman rmi localhost/sandwatch-{sensor,receiver,workload}:dev
#
# Usage: kind-cluster/scripts/kind-down.sh     (CLUSTER_NAME, default sandwatch)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
handle_args "$@"

have kind || fail "kind not found on PATH" "install kind, or remove the node container by hand"
if [ "$(container_engine)" = podman ]; then export KIND_EXPERIMENTAL_PROVIDER=podman; fi
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  run kind delete cluster --name "$CLUSTER_NAME"
  say "cluster $CLUSTER_NAME deleted"
else
  say "no cluster named $CLUSTER_NAME; nothing to remove"
fi
