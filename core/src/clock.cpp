#include "sandwatch/core/clock.h"

#include <time.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace sandwatch {
namespace {

int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class RealClock : public Clock {
 public:
  int64_t WallNs() const override { return ReadClock(CLOCK_REALTIME); }
  int64_t MonoNs() const override { return ReadClock(CLOCK_MONOTONIC); }
};

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, *out);
  return r.ec == std::errc();
}

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

int64_t BootTimeNs() { return ReadClock(CLOCK_BOOTTIME); }

std::string FormatRfc3339(int64_t wall_ns) {
  int64_t secs = wall_ns / 1'000'000'000;
  int64_t frac = wall_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    secs -= 1;
  }
  auto t = static_cast<time_t>(secs);
  tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(frac));
  return buf.data();
}

Result<int64_t> ParseRfc3339(std::string_view s) {
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (s.size() < 20 || !ReadInt(s, 0, 4, &year) || s[4] != '-' || !ReadInt(s, 5, 2, &mon) ||
      s[7] != '-' || !ReadInt(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadInt(s, 11, 2, &hour) || s[13] != ':' || !ReadInt(s, 14, 2, &min) || s[16] != ':' ||
      !ReadInt(s, 17, 2, &sec)) {
    return MakeError("not an RFC 3339 timestamp: expected YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)");
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return MakeError("RFC 3339 timestamp has a field out of range");
  }
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 9) {
        frac_ns = frac_ns * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return MakeError("RFC 3339 timestamp has an empty fraction");
    for (; digits < 9; ++digits) frac_ns *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!ReadInt(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadInt(s, pos + 4, 2, &om)) {
      return MakeError("RFC 3339 timestamp has a malformed offset");
    }
    offset_s = (int64_t{oh} * 3600 + int64_t{om} * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return MakeError("RFC 3339 timestamp needs Z or an offset");
  }
  if (pos != s.size()) return MakeError("RFC 3339 timestamp has trailing characters");
  tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = mon - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = min;
  t.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&t)) - offset_s;
  // int64 nanoseconds cover 1677..2262; outside that the multiplication would overflow.
  if (secs < -9'223'372'035LL || secs > 9'223'372'035LL) {
    return MakeError("RFC 3339 timestamp outside the representable range (years 1677 to 2262)");
  }
  return secs * 1'000'000'000 + frac_ns;
}

Result<int64_t> ParseDuration(std::string_view s) {
  if (s.empty()) return MakeError("empty duration");
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return MakeError("duration must start with a number, as in 15m or 2h");
  double value = 0;
  auto r = std::from_chars(s.data(), s.data() + i, value);
  if (r.ec != std::errc() || r.ptr != s.data() + i || value < 0) {
    return MakeError("duration has a malformed number");
  }
  std::string_view unit = s.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else if (unit == "d")
    scale = 86400e9;
  else
    return MakeError("duration unit must be one of ns, us, ms, s, m, h, d");
  double ns = value * scale;
  if (ns > 9.2e18) return MakeError("duration too large");
  return static_cast<int64_t>(ns);
}

}  // namespace sandwatch
