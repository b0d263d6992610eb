#include "sandwatch/sensor/startup_sequence.h"

#include <exception>

#include "sandwatch/core/log.h"

namespace sandwatch::sensor {

StartupSequence::~StartupSequence() { TearDown(); }

void StartupSequence::Add(StartupStep step) { steps_.push_back(std::move(step)); }

Status StartupSequence::RunAll() {
  for (const StartupStep& step : steps_) {
    SW_LOG(kDebug, "startup", "step", {"step", step.name});
    Status st = OkStatus();
    try {
      st = step.run();
    } catch (...) {
      failed_step_ = step.name;
      exit_code_ = step.exit_code;
      SW_LOG(kError, "startup", "start-up step threw; tearing down", {"step", step.name});
      TearDown();
      throw;
    }
    if (!st.ok()) {
      failed_step_ = step.name;
      exit_code_ = step.exit_code;
      TearDown();
      return MakeError(st.error().message + " (start-up step \"" + step.name + "\")",
                       st.error().code);
    }
    ++finished_;
  }
  return OkStatus();
}

void StartupSequence::TearDown() {
  while (finished_ > 0) {
    const StartupStep& step = steps_[--finished_];
    if (!step.teardown) continue;
    try {
      step.teardown();
    } catch (const std::exception& e) {
      SW_LOG(kError, "startup", "teardown failed", {"step", step.name}, {"error", e.what()});
    }
  }
}

std::vector<std::string> StartupSequence::Running() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < finished_; ++i) names.push_back(steps_[i].name);
  return names;
}

}  // namespace sandwatch::sensor
