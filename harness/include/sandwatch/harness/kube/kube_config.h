// Settings of the kube backend (`sandwatch-harness run ... --backend kube`). Every field
// has a default that matches `make kind-up`; each can be overridden from the environment
// (names below), so the CLI needs no kube-specific flags.
#pragma once

#include <functional>
#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::harness::kube {

// Where Falco's events are read from.
enum class FalcoSource {
  kReceiver,    // Falcosidekick's webhook posts them to our receiver (default)
  kSidekickUi,  // read falcosidekick-ui's /api/v1/events/search, copied into the receiver
};

struct KubeConfig {
  std::string kubectl = "kubectl";         // SANDWATCH_KUBECTL
  std::string context = "kind-sandwatch";  // SANDWATCH_KUBE_CONTEXT ("" = current context)
  std::string namespace_ = "kata-demo";    // SANDWATCH_KUBE_NAMESPACE
  std::string falco_namespace = "falco";   // SANDWATCH_KUBE_FALCO_NAMESPACE
  // kind-cluster/manifests; empty: <source dir>/kind-cluster/manifests.
  std::string manifests_dir;  // SANDWATCH_KUBE_MANIFESTS
  // The receiver's NodePort as kind publishes it on the host. When it does not answer
  // /healthz, the backend starts `kubectl port-forward svc/kata-receiver` instead.
  std::string receiver_url = "http://127.0.0.1:30080";  // SANDWATCH_KUBE_RECEIVER_URL
  bool force_port_forward = false;                      // SANDWATCH_KUBE_PORT_FORWARD=1
  FalcoSource falco_source =
      FalcoSource::kReceiver;                    // SANDWATCH_KUBE_FALCO_SOURCE=receiver|sidekick-ui
  std::string sidekick_ui_user = "admin:admin";  // SANDWATCH_KUBE_SIDEKICK_UI_USER (basic auth)
  // The attacker pods (label app=NAME). Per cell the backend starts its own
  // `sandwatch-attack-sim listen` there on `listener_port`, with the cell's speed, and the
  // chain reverse-shells to that pod's IP. (The Deployment's own listener on 4444 stays
  // for trying the blog's steps by hand.)
  std::string listener_service = "attacker";  // SANDWATCH_KUBE_LISTENER_SERVICE
  int listener_port = 4445;
  // The workload image used by `doctor` for its Kata probe pod.
  std::string workload_image = "localhost/sandwatch-workload:dev";  // SANDWATCH_KUBE_WORKLOAD_IMAGE
  double wait_timeout_s = 180;  // SANDWATCH_KUBE_WAIT_TIMEOUT (pods, probes)
  // The engine running the kind node containers, for doctor's checks inside the node
  // (docker exec NODE ...). "" = docker when its daemon answers, else podman.
  std::string container_engine;  // SANDWATCH_KUBE_ENGINE=docker|podman
};

// Builds a KubeConfig from defaults plus `getenv` (pass std::getenv, or a fake in tests).
// A bad value is an Error naming the variable.
Result<KubeConfig> KubeConfigFromEnv(const std::function<const char*(const char*)>& getenv);

}  // namespace sandwatch::harness::kube
