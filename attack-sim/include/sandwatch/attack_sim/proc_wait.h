// Watching a process we may not be the parent of: a pidfd (poll readable = exited),
// with a /proc fallback where pidfd_open is missing. Signals go to the step's process
// group when it leads one, otherwise to the process and all its descendants.
#pragma once

#include <cstdint>

#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

class ExitWatcher {
 public:
  // Fails when `pid` no longer exists (a zombie still counts as existing).
  static Result<ExitWatcher> Open(int pid);
  ExitWatcher(ExitWatcher&& o) noexcept;
  ExitWatcher& operator=(ExitWatcher&&) = delete;
  ExitWatcher(const ExitWatcher&) = delete;
  ~ExitWatcher();

  // Blocks until the process exits or CLOCK_MONOTONIC reaches deadline_mono_ns
  // (< 0: no deadline). True when it exited. When `interruptible`, it also returns (false)
  // as soon as attack-sim is interrupted (see interrupt.h). Thread-compatible.
  bool WaitUntil(int64_t deadline_mono_ns, bool interruptible = true);
  int pid() const { return pid_; }

 private:
  ExitWatcher(int pid, int fd) : pid_(pid), fd_(fd) {}
  bool Exited() const;
  int pid_;
  int fd_;  // pidfd, or -1 for the /proc fallback
};

// Sends `sig` to the step: its process group if it leads one, else it and its descendants.
void SignalStep(int pid, int sig);

// ppid of a live process from /proc/<pid>/stat, 0 if unknown.
int ParentPid(int pid);

// Exit status as a shell reports it: the code, or 128 + signal.
int ShellExitCode(int wait_status);

}  // namespace sandwatch::attacksim
