#include "sandwatch/harness/tune/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sandwatch::harness::tune {

Proportion Wilson(int64_t successes, int64_t trials) {
  constexpr double kZ95 = 1.959963984540054;  // two-sided 95 %
  Proportion out;
  if (trials <= 0) return out;
  const int64_t k = std::clamp<int64_t>(successes, 0, trials);
  const auto n = static_cast<double>(trials);
  const double p = static_cast<double>(k) / n;
  const double z2 = kZ95 * kZ95;
  const double denom = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denom;
  const double half = kZ95 * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;
  out.p = p;
  // The exact ends: no successes means the lower bound is 0, all means the upper is 1.
  out.lo = k == 0 ? 0.0 : std::clamp(center - half, 0.0, 1.0);
  out.hi = k == trials ? 1.0 : std::clamp(center + half, 0.0, 1.0);
  return out;
}

double PollDetectProbability(double lifetime_s, double interval_s, double scan_s) {
  if (interval_s <= 0) return 1.0;
  const double window = std::max(0.0, lifetime_s) + std::max(0.0, scan_s);
  return std::min(1.0, window / interval_s);
}

bool ModelDisagrees(double model, const Proportion& ci) {
  constexpr double kEps = 1e-9;
  return model < ci.lo - kEps || model > ci.hi + kEps;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(i);
  return values[i] + (values[j] - values[i]) * frac;
}

}  // namespace sandwatch::harness::tune
