// A non-shell spawner for short-lived benchmarks: posix_spawn (a vfork-style
// fork + execve, stdio on /dev/null) of one binary, `runs` times, at most `inflight` children alive
// at once, with no helper process and no exec between trials. A shell or a `sleep` between trials
// would open shared libraries and files that give an inotify watcher a free
// trigger while the trial is still alive, which makes detection look better
// than it is against an attacker who starts a static binary directly.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sandwatch::sensor::testing {

struct SpawnPlan {
  std::vector<std::string> argv;  // argv[0] is the path executed (no PATH search)
  int runs = 300;
  int inflight = 8;
  int gap_us = 0;  // pause after each fork (0: start the next as soon as a slot is free)
};

struct SpawnedRun {
  pid_t pid = -1;
  int64_t start_mono_ns = 0;  // just before posix_spawn()
  int64_t reap_mono_ns = 0;   // when waitpid() returned it
  int status = -1;            // wait status
};

// Runs the plan; one entry per run, in start order. Runs whose fork failed are
// absent (the caller compares the size with plan.runs). Waits only for its own
// children (a pidfd per child), so the caller's other children are left alone.
std::vector<SpawnedRun> RunSpawnPlan(const SpawnPlan& plan);

}  // namespace sandwatch::sensor::testing
