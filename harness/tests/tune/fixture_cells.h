// Synthetic sweep cells for the unit tests: counts drawn from the model itself,
// CPU proportional to 1/P, as a real sweep on an idle machine would give.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "sandwatch/harness/tune/cell.h"
#include "sandwatch/harness/tune/stats.h"

namespace sandwatch::harness::tune::testing {

inline SweepCell MakeCell(const std::string& capture, double p, int64_t l_ms, int64_t trials,
                          int64_t detected, double cpu_fraction, double scan_s = 0.002) {
  SweepCell c;
  c.capture = capture;
  c.poll_interval_s = p;
  c.lifetime_ms = l_ms;
  c.trials = trials;
  c.detected = detected;
  c.mean_lifetime_ms = static_cast<double>(l_ms);
  c.scan_s = scan_s;
  c.model = PollDetectProbability(static_cast<double>(l_ms) / 1000.0, p, scan_s);
  c.cpu_s_per_min = cpu_fraction * 60.0;
  c.pair_id = capture + "-" + FormatSeconds(p);
  return c;
}

// Poll cells whose detected counts follow the model, cost 0.002 s of CPU per scan.
inline std::vector<SweepCell> ModelPollSweep(const std::vector<double>& intervals,
                                             const std::vector<int64_t>& lifetimes,
                                             int64_t trials = 100) {
  std::vector<SweepCell> out;
  for (double p : intervals) {
    for (int64_t l : lifetimes) {
      const double m = PollDetectProbability(static_cast<double>(l) / 1000.0, p, 0.002);
      const auto k = static_cast<int64_t>(std::llround(m * static_cast<double>(trials)));
      out.push_back(MakeCell("poll", p, l, trials, k, 0.002 / p));
    }
  }
  return out;
}

}  // namespace sandwatch::harness::tune::testing
