#include "sandwatch/attack_sim/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/attack_sim/proc_wait.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::attacksim {

namespace {
int64_t MsToNs(double ms) { return static_cast<int64_t>(ms * 1'000'000.0); }
}  // namespace

void WaitForStep(ExitWatcher& watcher, const StepCommand& cmd, double hold_ms, LaunchResult* r,
                 const Clock& clock) {
  int64_t deadline = -1;
  if (cmd.held) {
    deadline = r->start_mono_ns + MsToNs(hold_ms);
  } else if (cmd.timeout_ms > 0) {
    deadline = r->start_mono_ns + MsToNs(cmd.timeout_ms);
  }
  if (!watcher.WaitUntil(deadline)) {
    if (Interrupted()) {
      r->interrupted = true;
    } else {
      (cmd.held ? r->killed_at_hold : r->killed_at_timeout) = true;
    }
    SignalStep(watcher.pid(), SIGTERM);
    if (!watcher.WaitUntil(clock.MonoNs() + 2'000'000'000, false)) {
      SignalStep(watcher.pid(), SIGKILL);
      watcher.WaitUntil(-1, false);
    }
  }
  r->end_mono_ns = clock.MonoNs();
  r->end_wall_ns = clock.WallNs();
}

Result<LaunchResult> DirectLauncher::Launch(const StepCommand& cmd, double hold_ms) {
  std::array<int, 2> hold{-1, -1};
  SpawnSpec spec;
  spec.argv = cmd.argv;
  spec.new_pgrp = true;
  if (cmd.stdin_hold) {
    if (pipe2(hold.data(), O_CLOEXEC) != 0)
      return MakeError(std::string("pipe: ") + strerror(errno), errno);
    spec.fds.emplace_back(hold[0], 0);
  }
  LaunchResult r;
  r.start_mono_ns = clock_.MonoNs();
  r.start_wall_ns = clock_.WallNs();
  auto pid = Spawn(spec);
  if (hold[0] >= 0) close(hold[0]);
  if (!pid.ok()) {
    if (hold[1] >= 0) close(hold[1]);
    return pid.error();
  }
  r.pid = *pid;
  r.ppid = getpid();
  auto watcher = ExitWatcher::Open(r.pid);
  if (watcher.ok()) WaitForStep(*watcher, cmd, hold_ms, &r, clock_);
  int status = 0;
  while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!watcher.ok()) {
    r.end_mono_ns = clock_.MonoNs();
    r.end_wall_ns = clock_.WallNs();
  }
  if (hold[1] >= 0) close(hold[1]);
  r.exit_code = ShellExitCode(status);
  return r;
}

}  // namespace sandwatch::attacksim
