// Turns the rendered kustomize overlay (normal-app or kata-app) into the manifest one
// cell applies: the scenario's sensor settings go into the blog's env variables (names
// unchanged, values replaced) and the pod gets sandwatch run/cell labels. Pure: YAML in,
// JSON out (kubectl apply takes JSON; it keeps "2" a string where YAML could make it a
// number), so tests compare it with golden files.
#pragma once

#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness::kube {

struct CellManifestOptions {
  std::string pod_name;                         // must match the rendered Pod's name
  double poll_interval_s = 2;                   // POLL_INTERVAL
  double heartbeat_interval_s = 15;             // HEARTBEAT_INTERVAL
  std::vector<std::string> expected_processes;  // EXPECTED_PROCESSES; empty keeps the overlay's
  std::string capture;                          // CAPTURE, added when not empty
  std::string run_id;                           // label sandwatch.dev/run
  std::string cell_id;                          // label sandwatch.dev/cell
};

// Error when the YAML does not hold exactly one Pod named `pod_name` with a `sensor`
// container, or does not parse.
Result<std::string> RenderCellManifest(const std::string& kustomized_yaml,
                                       const CellManifestOptions& options);

}  // namespace sandwatch::harness::kube
