// Clocks and time formatting. All times inside sandwatch are int64 nanoseconds:
// wall-clock since the Unix epoch, or CLOCK_MONOTONIC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sandwatch/core/result.h"

namespace sandwatch {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t WallNs() const = 0;  // CLOCK_REALTIME
  virtual int64_t MonoNs() const = 0;  // CLOCK_MONOTONIC
};

// The process-wide real clock. Thread-safe.
const Clock& SystemClock();

// A clock tests set by hand. Not thread-safe.
class ManualClock : public Clock {
 public:
  ManualClock(int64_t wall_ns, int64_t mono_ns) : wall_(wall_ns), mono_(mono_ns) {}
  int64_t WallNs() const override { return wall_; }
  int64_t MonoNs() const override { return mono_; }
  void Advance(int64_t ns) {
    wall_ += ns;
    mono_ += ns;
  }

 private:
  int64_t wall_;
  int64_t mono_;
};

// CLOCK_BOOTTIME now: the clock of /proc start times, which also counts suspend. For
// comparing with process start times and across restarts within one boot.
int64_t BootTimeNs();

// "2026-11-28T09:00:00.123456789Z" (always UTC, always 9 fraction digits).
std::string FormatRfc3339(int64_t wall_ns);

// Accepts RFC 3339 with 0-9 fraction digits and a Z or +hh:mm offset.
Result<int64_t> ParseRfc3339(std::string_view text);

// "500ms", "15s", "15m", "2h", "7d" -> nanoseconds. A bare number is seconds.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace sandwatch
