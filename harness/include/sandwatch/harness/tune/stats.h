// Pure statistics for the poll-interval sweep: the Wilson score interval, the
// polling model and percentiles. No I/O; every function is thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace sandwatch::harness::tune {

// A measured proportion with its Wilson score interval.
struct Proportion {
  double p = 0;   // successes / trials (0 when trials == 0)
  double lo = 0;  // lower bound, in [0, 1]
  double hi = 1;  // upper bound, in [0, 1]
};

// Wilson score interval (two-sided 95 %) for `successes` out of `trials`. With no
// trials the interval is the whole of [0, 1]. successes is clamped into [0, trials].
Proportion Wilson(int64_t successes, int64_t trials);

// The polling model: the chance that a scan every `interval_s` sees a process
// that lives `lifetime_s`, when one scan itself takes `scan_s`:
// min(1, (L + s) / P). A non-positive interval means "always scanning" (1).
double PollDetectProbability(double lifetime_s, double interval_s, double scan_s);

// True when `model` lies outside the measured interval [ci.lo, ci.hi].
bool ModelDisagrees(double model, const Proportion& ci);

// Linear-interpolated percentile, q in [0, 1]. Empty input gives NaN.
double Percentile(std::vector<double> values, double q);

}  // namespace sandwatch::harness::tune
