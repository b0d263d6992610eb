// Follows the sensor's JSONL output file (--output file:PATH) while it grows:
// events whose process cmdline carries a sweep marker, and heartbeat counters.
// Lines are parsed strictly with core's schema; anything else is counted, not
// trusted. Not thread-safe (one reader). Internal to sandwatch_harness_tune.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sandwatch/core/event.h"

namespace sandwatch::harness::tune {

struct MarkedEvent {
  int64_t time_ns = 0;  // the event's "time" (wall clock, when observed)
  std::string capture;  // sensor.capture
};

class SensorOutput {
 public:
  SensorOutput(std::string path, std::string marker_prefix);
  // Reads whatever was appended since the last call.
  void Poll();
  // The first event seen for each marker (argv[0] of the process).
  const std::map<std::string, MarkedEvent>& Events() const { return first_; }
  const std::vector<Heartbeat>& Heartbeats() const { return heartbeats_; }
  int64_t bad_lines() const { return bad_lines_; }
  int64_t events_total() const { return events_total_; }
  // The newest heartbeat's counter, or -1.
  int64_t LastCounter(const std::string& name) const;

 private:
  void Line(const std::string& line);
  std::string path_;
  std::string prefix_;
  uint64_t offset_ = 0;
  std::string partial_;
  std::map<std::string, MarkedEvent> first_;
  std::vector<Heartbeat> heartbeats_;
  int64_t bad_lines_ = 0;
  int64_t events_total_ = 0;
};

}  // namespace sandwatch::harness::tune
