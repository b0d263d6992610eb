// Counting for the unprivileged-sidecar comparison (unpriv_sidecar_run.sh):
// which of the spawned runs the sensor reported as post_start_binary_execution,
// and which pspy printed, from the files the run left in its output directory.
// Shared by the root integration test (asserts on counts) and sidecar_bench
// (records the figures).
#pragma once

#include <map>
#include <string>

namespace sandwatch::sensor::testing {

struct SidecarSide {
  int runs = 0;    // runs that started and exited 0
  int sensor = 0;  // of those, reported by the sensor (post_start_binary_execution, same pid)
  int sensor_with_argv = 0;  // ... with the trial's argv in the event
  int pspy = 0;              // of those, printed by pspy (same pid)
};

struct SidecarRun {
  SidecarSide static_bin;
  SidecarSide dynamic_bin;
  bool pspy_ran = false;
  std::string capture;  // the sensor's "capture" from its heartbeat ("inotify+poll" expected)
  std::map<std::string, long long> counters;  // the sensor's last heartbeat counters
  std::string error;                          // non-empty when the files could not be read
};

// Reads OUTDIR/{static,dynamic}.jsonl, sensor.jsonl, pspy.log and dropdir.txt.
SidecarRun CountSidecarRun(const std::string& outdir);

// pspy next to the clone (<source>/../shared/peers/pspy/pspy, or one level up
// more for a worktree), or $SANDWATCH_PSPY; "" when there is none.
std::string FindPspy(const std::string& source_dir);

struct SidecarSetup {
  std::string source_dir;  // the repository (for the script and the trial source)
  std::string bin_dir;     // sandwatch-sensor and short_spawn
  std::string workdir;     // trial binaries and the run's files go here
  std::string pspy;        // "" to run without pspy
  int runs = 300;
  int inflight = 8;
  std::string capture = "auto";  // the sensor's CAPTURE
  bool privileged = false;       // keep every capability (the privileged-sidecar vantage)
  std::string run_dir = "run";   // under workdir
};

// Compiles short/one_ms.c as workdir/static (gcc -static) and workdir/dynamic,
// then runs unpriv_sidecar_run.sh into workdir/RUN_DIR. "" on success, else why not.
std::string RunSidecarComparison(const SidecarSetup& setup);

}  // namespace sandwatch::sensor::testing
