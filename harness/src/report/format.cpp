#include "sandwatch/harness/format.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sandwatch::harness {

std::string Fixed(double v, int digits) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", digits, v);
  return buf.data();
}

std::string Compact(double v) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%g", v);
  return buf.data();
}

std::string FormatSeconds(double s) {
  std::array<char, 32> buf{};
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf.data(), buf.size(), "%.*g", prec, s);
    if (std::strtod(buf.data(), nullptr) == s) break;
  }
  return buf.data();
}

std::string FormatDuration(double s) {
  if (s < 0) s = 0;
  const long total = std::lround(s);
  std::array<char, 32> buf{};
  if (total >= 3600) {
    std::snprintf(buf.data(), buf.size(), "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(buf.data(), buf.size(), "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf.data(), buf.size(), "%lds", total);
  }
  return buf.data();
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

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;  // by position: an empty first part keeps its separator
    out += parts[i];
  }
  return out;
}

}  // namespace sandwatch::harness
