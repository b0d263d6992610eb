#!/usr/bin/env bash
# Creates the sandwatch kind cluster, as in the blog, ready for
# `sandwatch-harness run scenarios/blog-demo.yaml --backend kube`:
#   1. preflight (nested virtualisation, /dev/kvm, vhost, kind/kubectl/helm versions);
#   2. kind cluster "$CLUSTER_NAME" from kind-cluster/kind-config.yaml;
#   3. Kata with kata-deploy (Helm chart), waits for RuntimeClass kata-qemu;
#   4. Falco + Falcosidekick + UI (Helm), rule_matching=all, incubating rules, webhook
#      to the receiver;
#   5. our images (make images if missing), loaded into the node;
#   6. namespace kata-demo: the receiver (NodePort 30080) and the attacker listener.
# Re-running it is safe: each step skips or upgrades what is already there.
#
# Usage: make kind-up   (or kind-cluster/scripts/kind-up.sh)
#
# Environment: CLUSTER_NAME (sandwatch), KIND_NODE_IMAGE (kind's default node image),
# KATA_VERSION (3.19.1), FALCO_CHART_VERSION (chart default), FALCO_RULES_REFS (the
# falcoctl refs, comma list; default from falco-values.yaml: falco-rules:5,
# falco-incubating-rules:5), IMAGE_TAG (dev), BUILD_DIR (build), SKIP_PREFLIGHT=1 to skip
# step 1, WAIT_TIMEOUT (600s).
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

# 2. The cluster.
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
kc() { kubectl --context "$context" "$@"; }

# 3. Kata.
run helm upgrade --install kata-deploy "$KATA_CHART" --version "$KATA_VERSION" \
  --kube-context "$context" --namespace kube-system --wait --timeout "$WAIT_TIMEOUT" ||
  fail "kata-deploy did not install" \
    "kubectl --context $context -n kube-system logs -l name=kata-deploy; check /dev/kvm inside the node"
say "waiting for RuntimeClass kata-qemu"
deadline=$((SECONDS + 600))
until kc get runtimeclass kata-qemu >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || fail "RuntimeClass kata-qemu never appeared" \
    "kubectl --context $context -n kube-system logs -l name=kata-deploy"
  sleep 5
done

run "$KIND_DIR/scripts/credentials.sh"  # per-sensor and Falcosidekick credentials as Secrets
# 4. Falco, Falcosidekick and its UI.
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
    "kubectl --context $context -n $FALCO_NAMESPACE logs -l app.kubernetes.io/name=falco --all-containers (a falcoctl error about a rules ref: set FALCO_RULES_REFS, e.g. falco-rules:4,falco-incubating-rules:4)"

# 5. Our images.
missing=0
for i in "${IMAGES[@]}"; do
  "$engine" image inspect "localhost/sandwatch-$i:$IMAGE_TAG" >/dev/null 2>&1 || missing=1
done
if [ "$missing" -eq 1 ]; then
  run "$REPO_ROOT/images/build" --build-dir "$BUILD_DIR" --tag "$IMAGE_TAG" --engine "$engine"
fi
archive_dir="$(mktemp -d)"
trap 'rm -rf "$archive_dir"' EXIT
for i in "${IMAGES[@]}"; do
  image="localhost/sandwatch-$i:$IMAGE_TAG"
  if [ "$engine" = docker ]; then
    run kind load docker-image "$image" --name "$CLUSTER_NAME"
  else
    run "$engine" save -o "$archive_dir/$i.tar" "$image"
    run kind load image-archive "$archive_dir/$i.tar" --name "$CLUSTER_NAME"
  fi
done

# 6. Receiver and listener.
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
