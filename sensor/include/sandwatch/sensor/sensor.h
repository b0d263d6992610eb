// Run(config): the sensor's ordered start-up, its heartbeat loop and its teardown.
//
// Start-up is the list of named steps in startup_steps.h (rules, workload, state,
// output, capture, publisher, pipeline, capture_start, announce, heartbeats); the
// announce step logs one key=value line saying what capture was chosen and why. A step
// that fails ends start-up with an error naming it, after the steps before it were torn
// down. Teardown always runs, in reverse order: sources stop, the pipeline drains, a
// final heartbeat is sent, the state is saved and the output flushes (HTTP: up to 3 s,
// the rest stays in the spool).
#pragma once

#include <string>

#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/sensor/config.h"

namespace sandwatch::sensor {

struct WorkloadChoice {
  int pid = 0;       // the process whose root is used (0: none)
  std::string root;  // filesystem root for the baseline
  std::string why;   // one line for the start-up log
};

// Root for the baseline: `configured_root` when set; /proc/W/root for a workload
// pid W; "/" in mode node (the host, or the guest the sensor runs in); otherwise
// (kata, sidecar) /proc/P/root of the oldest process P that is not the sensor, not
// a kernel thread and not the pod's "pause" process, preferring one in another mount
// namespace (another container of the pod); "/" when every candidate shares the
// sensor's mount namespace. `why` says which of these applied.
WorkloadChoice ChooseWorkload(const procfs::ProcFs& fs, int self_pid, int workload_pid,
                              const std::string& configured_root, const std::string& mode);

// --print-config: the merged configuration as JSON plus "workload_choice" (root, pid
// and why) as Run() would choose it now.
std::string DescribeConfig(const SensorConfig& config);

// Returns the process exit status: 0 after a clean shutdown, 2 for a bad rules
// file, 1 for other start-up failures.
int Run(const SensorConfig& config);

// Asks a running Run() to shut down (what SIGTERM does); for tests.
void RequestStop();

}  // namespace sandwatch::sensor
