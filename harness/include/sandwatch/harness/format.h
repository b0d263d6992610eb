// Number formatting for every report, progress line and generated manifest. One function
// per format, so the same number reads the same everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandwatch::harness {

// printf "%.*f": Fixed(2.345, 1) == "2.3".
std::string Fixed(double v, int digits);
// printf "%g": the shortest of fixed or scientific, 6 significant digits ("0.5", "1e+06").
std::string Compact(double v);
// Seconds as the shortest decimal that reads back as the same double: 2 -> "2",
// 0.05 -> "0.05". Used for POLL_INTERVAL values and interval labels.
std::string FormatSeconds(double s);
// A duration for people: "45s", "1m02s", "1h03m" (negative counts as 0).
std::string FormatDuration(double s);
// Milliseconds for people: "850 ms", "1.2 s"; empty for no value.
std::string FormatMs(std::optional<double> ms);
// A fraction as a percentage with the digits it needs: 0 -> "0%", 0.25 -> "25%",
// 0.012 -> "1.2%", 0.0012 -> "0.12%".
std::string Percent(double fraction);
// The parts with `sep` between them.
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace sandwatch::harness
