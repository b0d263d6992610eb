// Trial processes for the sweep: real processes of a given lifetime, each with a
// unique marker as argv[0], started at planned offsets. posix_spawn starts them;
// one pidfd per child in an epoll set reaps them, so a child's end time is taken
// the moment it exits, and only our own trial pids are ever waited for (the
// sensor, started elsewhere, is never reaped here). Internal to sandwatch_harness_tune.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::harness::tune {

struct TrialSpec {
  std::string tag;          // the marker, argv[0] of the trial
  int64_t lifetime_ms = 0;  // how long the trial program is asked to live
  double offset_s = 0;      // start time after the batch start
};

struct TrialRecord {
  TrialSpec spec;
  int pid = 0;
  bool started = false;
  bool delayed = false;       // started more than 5 ms late (concurrency cap or a busy machine)
  int64_t start_mono_ns = 0;  // just before posix_spawn
  int64_t start_wall_ns = 0;
  int64_t end_mono_ns = 0;  // when its pidfd became readable (it exited)
  int exit_code = -1;
  double LifetimeMs() const { return static_cast<double>(end_mono_ns - start_mono_ns) / 1e6; }
};

// argv for a trial living `lifetime_ms` with the given program (a sleep(1)):
// {tag, "0.010"}.
std::vector<std::string> TrialArgv(const TrialSpec& spec);

// Runs every trial (sorted by offset internally), at most `max_in_flight` alive at
// once, and returns when all have exited. `stop()` is polled; when it returns true
// every live trial is killed and reaped and an Error is returned.
Result<std::vector<TrialRecord>> RunTrials(const std::string& program,
                                           const std::vector<TrialSpec>& specs, int max_in_flight,
                                           const std::function<bool()>& stop);

// One long-lived trial (the canary that proves the sensor is watching).
// Killed and reaped by KillTrial.
Result<int> StartTrial(const std::string& program, const TrialSpec& spec);
void KillTrial(int pid);

}  // namespace sandwatch::harness::tune
