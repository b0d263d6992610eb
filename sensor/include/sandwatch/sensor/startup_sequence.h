// StartupSequence: an ordered list of named start-up steps with guaranteed teardown.
//
// Each step has a name, a run function and an optional teardown. RunAll() runs the
// steps in order and stops at the first one that fails, by returning an Error or by
// throwing. The teardowns of the steps that had finished then run at once, in reverse
// order; the returned Error names the failing step, and an exception is rethrown after
// the teardown. A failing step's own teardown does not run: a step that fails halfway
// undoes its own partial work before it returns.
//
// After a successful RunAll() the teardowns run in reverse order on TearDown() or, at
// the latest, in the destructor, so whatever ends the caller's main loop (a signal, an
// exception) still tears everything down. Each teardown runs at most once. A teardown
// that throws is logged and the remaining teardowns still run.
// Not thread-safe: one thread drives a sequence.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

struct StartupStep {
  std::string name;                // short, for the error and the logs ("rules", "output")
  std::function<Status()> run;     // required
  std::function<void()> teardown;  // optional; undoes what `run` did
  int exit_code = 1;               // the process exit status when `run` fails
};

class StartupSequence {
 public:
  StartupSequence() = default;
  explicit StartupSequence(std::vector<StartupStep> steps) : steps_(std::move(steps)) {}
  ~StartupSequence();
  StartupSequence(const StartupSequence&) = delete;
  StartupSequence& operator=(const StartupSequence&) = delete;

  // Appends a step; only before RunAll().
  void Add(StartupStep step);

  // Runs every step in order. On failure: the finished steps are torn down and the
  // Error reads "<message> (start-up step \"<name>\")"; failed_step() and exit_code()
  // then say which step failed and with what exit status.
  Status RunAll();

  // Runs the teardowns of the finished steps in reverse order; idempotent.
  void TearDown();

  // Names of the steps whose run finished and whose teardown has not run yet.
  std::vector<std::string> Running() const;
  const std::string& failed_step() const { return failed_step_; }
  int exit_code() const { return exit_code_; }

 private:
  std::vector<StartupStep> steps_;
  size_t finished_ = 0;  // steps_[0, finished_) ran and are not torn down yet
  std::string failed_step_;
  int exit_code_ = 0;
};

}  // namespace sandwatch::sensor
