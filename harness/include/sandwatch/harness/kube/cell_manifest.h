// Turns the rendered kustomize overlay (normal-app or kata-app) into the manifest one
// cell applies: the scenario's sensor settings go into the blog's env variables (names
// unchanged, values replaced) and the pod gets sandwatch run/cell labels. Pure: YAML in,
// JSON out (kubectl apply takes JSON; it keeps "2" a string where YAML could make it a
// number), so tests compare it with golden files.
#pragma once

#include <string>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness::kube {

// The Pod gets the sensor's POLL_INTERVAL, HEARTBEAT_INTERVAL, EXPECTED_PROCESSES (when not
// empty; else the overlay's stays) and CAPTURE (added when not empty), and the labels
// sandwatch.dev/run and sandwatch.dev/cell (when not empty). Error when the YAML does not
// hold exactly one Pod named `pod_name` with a `sensor` container, or does not parse.
Result<std::string> RenderCellManifest(const std::string& kustomized_yaml,
                                       const std::string& pod_name, const SensorSettings& sensor,
                                       const std::string& run_id, const std::string& cell_id);

}  // namespace sandwatch::harness::kube
