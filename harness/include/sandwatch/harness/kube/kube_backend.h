// The kube backend: runs a scenario's runc and kata-qemu cells on a real cluster made by
// `make kind-up` (kind + Kata + Falco + our receiver and listener), all through kubectl:
//   per cell: render the overlay (normal-app / kata-app) with the scenario's sensor
//   settings, apply it, wait for the pod and for its sensor's first heartbeat, run
//   sandwatch-attack-sim inside the app container (kubectl exec) reverse-shelling to the
//   in-cluster listener, read its ground truth back, let late events settle, delete the
//   pod. Sensor and Falco events all land in the receiver, which the common scorer reads
//   through ReceiverUrl() (the NodePort, or a kubectl port-forward).
// See docs/kind.md. Registered as "kube" by RegisterKubeBackend().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/http_client.h"
#include "sandwatch/harness/kube/kube_config.h"

namespace sandwatch::harness::kube {

struct KubeDeps {
  std::shared_ptr<HttpClient> http;                      // null: MakeHttpClient(5 s)
  std::function<void(std::chrono::milliseconds)> sleep;  // null: std::this_thread::sleep_for
  std::string source_dir;                                // null: ResolveSourceDir()
  const Clock* clock = nullptr;  // null: SystemClock(); must outlive the backend
};

std::unique_ptr<Backend> MakeKubeBackend(CommandRunner& runner, KubeConfig config, KubeDeps deps);

// The pod (and overlay) name a runtime runs as: runc -> normal-app, kata-qemu ->
// kata-app; "" for runtimes the kube backend does not run (host).
std::string PodForRuntime(const std::string& runtime);

}  // namespace sandwatch::harness::kube
