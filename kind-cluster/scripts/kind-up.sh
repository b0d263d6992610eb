#!/usr/bin/env bash
# Creates the sandwatch kind cluster, as in the blog, ready for
# `sandwatch-harness run scenarios/blog-demo.yaml --backend kube`:
#   1. preflight (nested virtualisation, /dev/kvm, vhost, BTF, memory, kind/kubectl/helm);
#   2. our images (built when missing); the workload image must hold the staged ncat .deb;
#   3. kind cluster "$CLUSTER_NAME" from kind-cluster/kind-config.yaml, and /dev/shm in
#      every node remounted to NODE_SHM_MIB (Kata's qemu keeps guest RAM there);
#   4. Kata with kata-deploy (Helm chart), waits until the node carries the label
#      katacontainers.io/kata-runtime=true (containerd restarted with Kata), then checks
#      RuntimeClass kata-qemu;
#   5. Falco + Falcosidekick + UI (Helm, chart FALCO_CHART_VERSION), rule_matching=all,
#      stable + incubating rules from one rules release, webhook to the receiver;
#   6. the images saved to archives and loaded with `kind load image-archive`;
#   7. namespace kata-demo: the receiver (NodePort 30080) and the attacker listener.
# Re-running it is safe: each step skips or upgrades what is already there, and /dev/shm
# is enlarged again (a restarted node container is back to 64 MiB).
#
# Usage: make kind-up   (or kind-cluster/scripts/kind-up.sh)
#
# Environment: CLUSTER_NAME (sandwatch), KIND_NODE_IMAGE (kind's default node image),
# KATA_VERSION (4.2.0), FALCO_CHART_VERSION (9.1.1), FALCO_RULES_REFS (the falcoctl refs,
# comma list; default from falco-values.yaml: falco-rules:5.1.0,falco-incubating-rules:5.1.0),
# NODE_SHM_MIB (4608), KATA_DEFAULT_MEMORY_MIB (2048), IMAGE_TAG (dev), BUILD_DIR (build),
# SKIP_PREFLIGHT=1 to skip step 1, WAIT_TIMEOUT (600s).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
handle_args "$@"

BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
IMAGES=(sensor receiver workload)

if [ "${SKIP_PREFLIGHT:-0}" != 1 ]; then
  "$KIND_DIR/scripts/preflight.sh" || fail "preflight checks failed (see above)" \
    "apply each FIX shown above, then run make kind-up again"
fi

engine="$(container_engine)"
if [ "$engine" = podman ]; then export KIND_EXPERIMENTAL_PROVIDER=podman; fi
context="kind-$CLUSTER_NAME"
kc() { kubectl --context "$context" "$@"; }

# 2. Our images, before anything is created: the attack's package, new-binary, ncat and
# reverse-shell steps all need the staged ncat .deb inside the workload image.
missing=0
for i in "${IMAGES[@]}"; do
  "$engine" image inspect "localhost/sandwatch-$i:$IMAGE_TAG" >/dev/null 2>&1 || missing=1
done
if [ "$missing" -eq 1 ]; then
  ls "$DEBS_DIR"/ncat_*.deb >/dev/null 2>&1 || fail "no ncat .deb in $DEBS_DIR" \
    "make deps (fetches it), or: mkdir -p $DEBS_DIR && cd $DEBS_DIR && apt-get download ncat"
  run "$REPO_ROOT/images/build" --build-dir "$BUILD_DIR" --tag "$IMAGE_TAG" --engine "$engine"
fi
workload="localhost/sandwatch-workload:$IMAGE_TAG"
run "$engine" run --rm --entrypoint /bin/sh "$workload" -c \
  'ls /var/cache/sandwatch/debs/ncat_*.deb' >/dev/null ||
  fail "$workload holds no staged ncat .deb: the package, new-binary, ncat and reverse-shell steps would fail in both pods" \
    "make deps, then rebuild it: make images (or $engine rmi $workload and make kind-up again)"

# 3. The cluster.
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  say "cluster $CLUSTER_NAME exists, reusing it"
else
  node_image_args=()
  if [ -n "${KIND_NODE_IMAGE:-}" ]; then node_image_args=(--image "$KIND_NODE_IMAGE"); fi
  run kind create cluster --name "$CLUSTER_NAME" --config "$KIND_DIR/kind-config.yaml" \
    "${node_image_args[@]}" --wait 180s ||
    fail "kind could not create the cluster" \
      "read kind's message above; 'kind delete cluster --name $CLUSTER_NAME' and retry"
fi
# /dev/shm in every node: Kata's qemu backs the whole guest RAM with a file there, and a
# VM whose memory does not fit does not start. The container engine gives kind's node
# 64 MiB, and gives it again whenever the node container restarts, so this runs each time.
nodes="$(kind get nodes --name "$CLUSTER_NAME")"
[ -n "$nodes" ] || fail "kind lists no nodes for cluster $CLUSTER_NAME" \
  "kind delete cluster --name $CLUSTER_NAME, then make kind-up again"
for node in $nodes; do
  run "$engine" exec "$node" mount -o "remount,size=${NODE_SHM_MIB}m" /dev/shm ||
    fail "could not enlarge /dev/shm in node $node" \
      "$engine exec $node mount -o remount,size=${NODE_SHM_MIB}m /dev/shm (the node container must be privileged, as kind makes it)"
  shm_mib="$("$engine" exec "$node" df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 {print $2}')" ||
    shm_mib=""
  shm_mib_ok "$shm_mib" || fail "/dev/shm in node $node is ${shm_mib:-?} MiB, less than Kata's default_memory of $KATA_DEFAULT_MEMORY_MIB MiB: kata-qemu VMs would not start" \
    "$engine exec $node mount -o remount,size=${NODE_SHM_MIB}m /dev/shm"
  say "node $node: /dev/shm ${shm_mib} MiB (Kata default_memory ${KATA_DEFAULT_MEMORY_MIB} MiB per VM)"
done

# 4. Kata, with the chart's documented install (helm install from the OCI registry).
run helm upgrade --install kata-deploy "$KATA_CHART" --version "$KATA_VERSION" \
  --kube-context "$context" --namespace kube-system --wait --timeout "$WAIT_TIMEOUT" ||
  fail "kata-deploy did not install" \
    "kubectl --context $context -n kube-system get pods; kubectl --context $context -n kube-system logs -l name=kata-deploy"
# The RuntimeClass exists as soon as the chart is applied; Kata is usable only once
# kata-deploy has restarted containerd with its handlers and labelled the node.
say "waiting for a node labelled $KATA_READY_LABEL"
deadline=$((SECONDS + 600))
until [ -n "$(kc get nodes -l "$KATA_READY_LABEL" -o name 2>/dev/null)" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no node got the label $KATA_READY_LABEL: kata-deploy did not finish" \
    "kubectl --context $context -n kube-system logs -l name=kata-deploy (containerd restart, /opt/kata)"
  sleep 5
done
kc get runtimeclass kata-qemu >/dev/null ||
  fail "RuntimeClass kata-qemu is missing although kata-deploy finished" \
    "helm show values $KATA_CHART --version $KATA_VERSION (is the qemu shim enabled?)"

run "$KIND_DIR/scripts/credentials.sh"  # per-sensor and Falcosidekick credentials as Secrets
# 5. Falco, Falcosidekick and its UI.
run helm repo add falcosecurity https://falcosecurity.github.io/charts --force-update >/dev/null
run helm repo update falcosecurity >/dev/null
falco_args=()
if [ -n "$FALCO_CHART_VERSION" ]; then falco_args=(--version "$FALCO_CHART_VERSION"); fi
if [ -n "${FALCO_RULES_REFS:-}" ]; then
  falco_args+=(--set "falcoctl.config.artifact.install.refs={$FALCO_RULES_REFS}"
    --set "falcoctl.config.artifact.follow.refs={$FALCO_RULES_REFS}")
fi
run helm upgrade --install falco falcosecurity/falco "${falco_args[@]}" \
  --kube-context "$context" --namespace "$FALCO_NAMESPACE" --create-namespace \
  -f "$KIND_DIR/falco-values.yaml" --wait --timeout "$WAIT_TIMEOUT" ||
  fail "Falco did not become ready" \
    "kubectl --context $context -n $FALCO_NAMESPACE logs -l app.kubernetes.io/name=falco --all-containers. A falcoctl or rules-loading error means the chart's Falco and the rules refs do not match: keep FALCO_CHART_VERSION=9.1.1 (Falco 0.44.1) with the pinned falco-rules/falco-incubating-rules 5.1.0, or set FALCO_RULES_REFS to the one rules release (both files, same version) that your chart's Falco ships"

# 6. Our images, into every node. `kind load docker-image` fails with Docker's containerd
# image store (the default from Docker 29), so both engines go through an archive.
archive_dir="$(mktemp -d)"
trap 'rm -rf "$archive_dir"' EXIT
for i in "${IMAGES[@]}"; do
  image="localhost/sandwatch-$i:$IMAGE_TAG"
  run "$engine" save -o "$archive_dir/$i.tar" "$image" ||
    fail "$engine could not save $image" "$engine image inspect $image; make images"
  run kind load image-archive "$archive_dir/$i.tar" --name "$CLUSTER_NAME" ||
    fail "kind could not load $image" "kind load image-archive needs kind >= 0.20; see kind's message above"
done

# 7. Receiver and listener.
run kubectl --context "$context" apply -k "$KIND_DIR/manifests/overlays/cluster"
kc -n "$DEMO_NAMESPACE" rollout status deployment/kata-receiver --timeout=180s ||
  fail "the receiver is not ready" "kubectl --context $context -n $DEMO_NAMESPACE describe pod -l app=kata-receiver"
kc -n "$DEMO_NAMESPACE" rollout status deployment/attacker --timeout=180s ||
  fail "the attacker listener is not ready" "kubectl --context $context -n $DEMO_NAMESPACE logs deploy/attacker"

cat <<MSG
kind-up: cluster $CLUSTER_NAME is ready.
  receiver:        http://127.0.0.1:30080  (UI, /api/events, /healthz)
  falcosidekick UI: kubectl --context $context -n $FALCO_NAMESPACE port-forward svc/falco-falcosidekick-ui 2802
  next:            build/bin/sandwatch-harness doctor --backend kube
                   build/bin/sandwatch-harness run scenarios/blog-demo.yaml --backend kube
MSG
