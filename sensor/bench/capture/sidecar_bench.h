// capture_bench --sidecar: the sensor end to end (MODE=sidecar) in a private PID
// namespace against 1 ms runs of a dropped static and a dropped dynamic binary
// (300 each, 8 in flight, non-shell spawner), with pspy beside it, for each
// capture source in two vantages: a pod's default capabilities (no
// CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_NICE) and privileged.
#pragma once

#include <string>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor::bench {

struct SidecarBenchConfig {
  std::string source_dir;
  std::string bin_dir;
  int runs = 300;
  int inflight = 8;
};

// Runs the matrix and returns the markdown block (figures and the counters that
// explain them). Error when a run could not be made at all.
Result<std::string> RunSidecarBench(const SidecarBenchConfig& config);

}  // namespace sandwatch::sensor::bench
