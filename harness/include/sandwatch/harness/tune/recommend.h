// The poll-interval recommendation: the largest POLL_INTERVAL that meets a miss
// target for processes of a given lifetime within a CPU budget, read from a
// measured sweep with the polling model filling in between measured cells.
// When polling cannot meet it, the event-driven source that can (measured).
// Pure: no I/O, thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/tune/cell.h"

namespace sandwatch::harness::tune {

struct TuneQuery {
  double target_miss = 0.05;     // acceptable miss rate, in [0, 1)
  double min_lifetime_ms = 500;  // shortest process lifetime that must be caught
  double cpu_budget = 0.01;      // sensor CPU, fraction of one core (idle cost)
};

struct Recommendation {
  TuneQuery query;                        // what was asked
  bool met = false;                       // some capture meets target and budget
  std::optional<double> poll_interval_s;  // null when polling cannot meet it
  std::optional<std::string> capture;     // "poll", an event-driven source, or none
  // For an event-driven answer: the measured cell's POLL_INTERVAL (the safety-net scan).
  std::optional<double> safety_net_poll_interval_s;
  double expected_miss = 1.0;
  double miss_upper = 1.0;  // upper end of its Wilson 95 % interval: what the target is held to
  double cpu_fraction = 0;
  bool interpolated = false;  // the interval lies between measured cells (model filled in)
  std::string folder;         // the results folder the answer rests on
  std::vector<SweepCell> basis;
  std::string polling_verdict;  // why polling can or cannot meet it, one clause
  std::string sentence;         // the human answer, one or two sentences
};

// Estimated detection rate for pure polling at (lifetime, interval): the model
// min(1, (L + s)/P) plus the measured residual (rate - model) interpolated
// bilinearly over (log L, log P) between measured poll cells. At a measured
// cell it returns the measured rate. Clamped to [0, 1]. Requires poll cells.
double EstimatePollDetection(const std::vector<SweepCell>& cells, double lifetime_ms,
                             double interval_s);
// Idle sensor CPU (fraction of a core) of pure polling at `interval_s`,
// interpolated linearly in 1/P between measured intervals (cost per scan is constant).
double EstimatePollCpu(const std::vector<SweepCell>& cells, double interval_s);

// Errors: no cells, or a query outside its domain.
Result<Recommendation> Recommend(const std::vector<SweepCell>& cells, const TuneQuery& q,
                                 const std::string& folder);

// {"poll_interval_s", "capture", "expected_miss", "cpu_fraction", "met", "basis": {...}, ...}
nlohmann::json RecommendationToJson(const Recommendation& r);

}  // namespace sandwatch::harness::tune
