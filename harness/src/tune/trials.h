// Trial processes for the sweep: real processes of a given lifetime, each with a
// unique marker as argv[0], started at planned offsets. The trial program is one
// small C program built twice (static and dynamic) and dropped into a directory
// made after the sensor started, as an attacker drops a tool. posix_spawn starts
// each trial directly: no shell and no helper exec between trials, which would
// open libraries and files and hand an inotify watcher a free trigger. posix_spawn starts them;
// one pidfd per child in an epoll set reaps them, so a child's end time is taken
// the moment it exits, and only our own trial pids are ever waited for (the
// sensor, started elsewhere, is never reaped here). Internal to sandwatch_harness_tune.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"

namespace sandwatch::harness::tune {

struct TrialSpec {
  std::string tag;          // the marker, argv[0] of the trial
  int64_t lifetime_ms = 0;  // how long the trial program is asked to live
  double offset_s = 0;      // start time after the batch start
  std::string program;      // absolute path executed (a dropped trial binary)
};

// The trial program built twice, once static and once dynamically linked.
struct TrialBinaries {
  std::string static_path;
  std::string dynamic_path;
};

// Writes the trial program's C source into `dir` and builds it with `cc` (and
// `cc -static`). An Error names the compiler's exit and its log file.
Result<TrialBinaries> BuildTrialBinaries(const std::string& dir);

// A fresh directory under `parent` (mkdtemp) holding copies of both binaries, named
// static-trial and dynamic-trial; the returned paths point into it.
Result<TrialBinaries> DropTrialBinaries(const TrialBinaries& built, const std::string& parent);
// Removes a directory made by DropTrialBinaries.
void RemoveDroppedBinaries(const TrialBinaries& dropped);

struct TrialRecord {
  TrialSpec spec;
  int pid = 0;
  bool started = false;
  bool delayed = false;       // started more than 5 ms late (concurrency cap or a busy machine)
  int64_t start_mono_ns = 0;  // just before posix_spawn
  int64_t start_wall_ns = 0;
  int64_t end_mono_ns = 0;  // when its pidfd became readable (it exited)
  int exit_code = -1;
  int64_t event_wall_ns = 0;  // the sensor's event for it (set by the sweep); 0: not seen
  double LifetimeMs() const { return static_cast<double>(end_mono_ns - start_mono_ns) / 1e6; }
};

// argv for a trial living `lifetime_ms`: {tag, microseconds}, e.g. {tag, "10000"}.
std::vector<std::string> TrialArgv(const TrialSpec& spec);

// Runs every trial (sorted by offset internally), at most `max_in_flight` alive at
// once, and returns when all have exited; offsets and start and end times are read
// from `clock`. `stop()` is polled; when it returns true every live trial is killed
// and reaped and an Error is returned.
Result<std::vector<TrialRecord>> RunTrials(const std::vector<TrialSpec>& specs, int max_in_flight,
                                           const Clock& clock, const std::function<bool()>& stop);

// One long-lived trial (the canary that proves the sensor is watching).
Result<int> StartTrial(const TrialSpec& spec);
// Kills and reaps a trial; its exit code (128 + signal), -1 when it could not be reaped.
int KillTrial(int pid);

}  // namespace sandwatch::harness::tune
