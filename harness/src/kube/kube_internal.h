// Internal to src/kube: the doctor checks and the falcosidekick-ui import, shared by
// the backend and its tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/http_client.h"
#include "sandwatch/harness/kube/kubectl.h"

namespace sandwatch::harness::kube {

// Whole seconds, rounded up, at least 1.
std::chrono::seconds Secs(double s);
// `s` without trailing newlines, carriage returns and spaces.
std::string TrimRight(std::string s);
// `s` split at spaces, tabs and newlines.
std::vector<std::string> SplitWords(const std::string& s);
// The first word of `s`; "" when there is none.
std::string FirstWord(const std::string& s);
// A doctor check with its name, whether it is required and its fix; not ok until set.
DoctorCheck Check(std::string name, bool required, std::string fix);

// `harness doctor --backend kube`: RuntimeClass, Falco pods, Falcosidekick (+UI), the
// receiver (deployment and NodePort /healthz), the listener, and whether a kata-qemu pod
// really runs its own kernel (a probe pod's `uname -r` against the node's).
std::vector<DoctorCheck> KubeDoctor(Kubectl& kubectl, HttpClient& http,
                                    const std::vector<std::string>& runtimes);

// The container engine that runs the kind nodes: SANDWATCH_KUBE_ENGINE, else docker when
// its daemon answers, else podman; "" when neither is there.
std::string DetectContainerEngine(Kubectl& kubectl);
// kind and helm (for make kind-up) and the engine's image store.
std::vector<DoctorCheck> KubeToolChecks(Kubectl& kubectl, const std::string& engine);
// Inside the kind node: Kata's ready label, /dev/kvm, /dev/shm against Kata's
// default_memory, BTF for Falco's modern eBPF, our workload image loaded.
std::vector<DoctorCheck> KubeNodeChecks(Kubectl& kubectl, const std::string& engine,
                                        bool want_kata);

// Turns falcosidekick-ui's /api/v1/events/search answer into Falco json_output events
// (one JSON object per element), ready to POST to the receiver's /falco.
Result<std::vector<std::string>> SidekickUiEventsToFalcoJson(const std::string& body);

}  // namespace sandwatch::harness::kube
