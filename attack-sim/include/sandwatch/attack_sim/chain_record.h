// ChainRecorder: the ground-truth lines of one `run` of the chain. It builds each
// step's record, fills it from a launch, writes it to the truth sink and logs it, and
// keeps the run's tallies (ran, skipped, failed).
#pragma once

#include <string>

#include "sandwatch/attack_sim/launcher.h"
#include "sandwatch/attack_sim/options.h"
#include "sandwatch/attack_sim/truth_sink.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ground_truth.h"

namespace sandwatch::attacksim {

// "12.345": milliseconds (or seconds) with three decimals, for the logs.
std::string FormatMs(double ms);

// Appends `more` to a record's note, "; "-separated.
void AddNote(std::string* note, const std::string& more);

class ChainRecorder {
 public:
  // `cfg`, `sink` and `clock` must outlive the recorder.
  ChainRecorder(const ChainConfig& cfg, TruthSink* sink, const Clock& clock)
      : cfg_(cfg), sink_(sink), clock_(clock) {}

  // A record with the run's id and speed, for `step` as `variant` in repeat `repeat`.
  GroundTruthStep Base(int repeat, const std::string& step, const std::string& variant) const;
  // Marks `g` skipped now: start and end are this instant (wall and monotonic).
  void MarkSkippedNow(GroundTruthStep* g, int exit_code) const;
  // Copies pid, times, hold and exit code from a launch, and says how it ended.
  static void Fill(GroundTruthStep* g, const LaunchResult& r);
  // Writes the line (a write error fails the run) and logs it.
  void Emit(const GroundTruthStep& g);

  const Clock& clock() const { return clock_; }
  bool failed() const { return failed_; }
  bool* failed_flag() { return &failed_; }
  void Fail() { failed_ = true; }
  int ran() const { return ran_; }
  int skipped() const { return skipped_; }

 private:
  const ChainConfig& cfg_;
  TruthSink* sink_;
  const Clock& clock_;
  bool failed_ = false;
  int ran_ = 0;
  int skipped_ = 0;
};

}  // namespace sandwatch::attacksim
