// Internal to src/kube: the doctor checks and the falcosidekick-ui import, shared by
// the backend and its tests.
#pragma once

#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/kube/http_client.h"
#include "sandwatch/harness/kube/kubectl.h"

namespace sandwatch::harness::kube {

// `harness doctor --backend kube`: RuntimeClass, Falco pods, Falcosidekick (+UI), the
// receiver (deployment and NodePort /healthz), the listener, and whether a kata-qemu pod
// really runs its own kernel (a probe pod's `uname -r` against the node's).
std::vector<DoctorCheck> KubeDoctor(Kubectl& kubectl, HttpClient& http,
                                    const std::vector<std::string>& runtimes);

// Turns falcosidekick-ui's /api/v1/events/search answer into Falco json_output events
// (one JSON object per element), ready to POST to the receiver's /falco.
Result<std::vector<std::string>> SidekickUiEventsToFalcoJson(const std::string& body);

}  // namespace sandwatch::harness::kube
