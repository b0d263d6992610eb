// Launchers run one StepCommand as a real process and measure it.
//  - ShellSession: an interactive bash on a pty (as `kubectl exec -it ... /bin/bash`);
//    every step is a child of that bash, so process ancestry looks like the blog's.
//  - DirectLauncher: each step is a direct child of attack-sim (used when the chain
//    is run without its shell step, and for cleanup).
// Start = the instant the forked child is released to exec (shell) or fork (direct);
// end = the instant its exit is observed (pidfd readable). Both wall and monotonic ns.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/attack_sim/catalog.h"
#include "sandwatch/attack_sim/proc_wait.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

struct LaunchResult {
  int pid = 0;
  int ppid = 0;
  int64_t start_wall_ns = 0;
  int64_t start_mono_ns = 0;
  int64_t end_wall_ns = 0;
  int64_t end_mono_ns = 0;
  int exit_code = 0;
  bool killed_at_hold = false;
  bool killed_at_timeout = false;
  bool interrupted = false;  // attack-sim got SIGINT/SIGTERM and ended the step early
};

// Waits for a launched step: kills a held step at start + hold_ms (SIGTERM to its group,
// SIGKILL 2 s later), kills any other step at its timeout, then records the end time.
void WaitForStep(ExitWatcher& watcher, const StepCommand& cmd, double hold_ms, LaunchResult* r,
                 const Clock& clock);

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Runs `cmd` for `hold_ms` (held commands) or until it exits. Blocks until it is gone.
  virtual Result<LaunchResult> Launch(const StepCommand& cmd, double hold_ms) = 0;
  virtual bool has_tty() const = 0;
};

class DirectLauncher : public Launcher {
 public:
  // `clock` (start/end times, the hold) must outlive the launcher.
  explicit DirectLauncher(const Clock& clock) : clock_(clock) {}
  Result<LaunchResult> Launch(const StepCommand& cmd, double hold_ms) override;
  bool has_tty() const override { return false; }

 private:
  const Clock& clock_;
};

class ShellSession : public Launcher {
 public:
  // `clock` (start/end times, the hold, timeouts) must outlive the session.
  explicit ShellSession(const Clock& clock) : clock_(clock) {}
  ~ShellSession() override;
  ShellSession(const ShellSession&) = delete;
  ShellSession& operator=(const ShellSession&) = delete;

  // Spawns bash on a pty (falls back to pipes when no pty can be opened, or when
  // `use_pty` is false) and waits until it answers. `extra_env` is added to its environment.
  Status Start(const std::vector<std::pair<std::string, std::string>>& extra_env,
               bool use_pty = true);
  Result<LaunchResult> Launch(const StepCommand& cmd, double hold_ms) override;
  bool has_tty() const override { return master_fd_ >= 0; }
  // Sends `exit`, reaps bash (killing it if it does not go within 5 s).
  Result<LaunchResult> Finish();

  const std::vector<std::string>& argv() const { return argv_; }
  int pid() const { return pid_; }
  int64_t start_mono_ns() const { return self_.start_mono_ns; }

 private:
  Status WriteCommand(const std::string& line);
  Result<std::string> ReadReport(char tag, int64_t timeout_ms);

  const Clock& clock_;
  std::vector<std::string> argv_;
  int pid_ = -1;
  int master_fd_ = -1;  // pty master (we write commands, a thread drains output)
  int cmd_fd_ = -1;     // where commands go: master_fd_ or a pipe
  int report_fd_ = -1;  // bash fd 3 -> us
  int go_fd_ = -1;      // us -> bash fd 4
  int hold_fd_ = -1;    // write end of the pipe that is bash's fd 5 (never written)
  std::string report_buf_;
  LaunchResult self_;
  std::atomic<bool> stop_{false};
  std::thread drain_;
};

}  // namespace sandwatch::attacksim
