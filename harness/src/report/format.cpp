#include "sandwatch/harness/format.h"

#include <cstdio>
#include <cstdlib>

namespace sandwatch::harness {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Compact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string FormatSeconds(double s) {
  char buf[32];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, s);
    if (std::strtod(buf, nullptr) == s) break;
  }
  return buf;
}

std::string FormatDuration(double s) {
  if (s < 0) s = 0;
  const auto total = static_cast<long>(s + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", total);
  }
  return buf;
}

std::string FormatMs(std::optional<double> ms) {
  if (!ms) return "";
  return *ms >= 1000 ? Fixed(*ms / 1000, 1) + " s" : Fixed(*ms, 0) + " ms";
}

std::string Percent(double fraction) {
  const double pct = fraction * 100.0;
  if (pct == 0) return "0%";
  return Fixed(pct, pct >= 10 ? 0 : pct >= 1 ? 1 : 2) + "%";
}

}  // namespace sandwatch::harness
