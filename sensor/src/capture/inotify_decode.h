// Pure parts of the inotify trigger: decoding inotify read() buffers and the
// scan coalescer that turns a storm of events into a handful of /proc scans.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sandwatch::sensor {

struct InotifyRecord {
  int wd = -1;
  uint32_t mask = 0;
  std::string name;  // the entry inside a watched directory; empty for the file itself
};

// Appends each record in `buf`; returns false on a truncated record (the rest is dropped).
bool DecodeInotify(std::span<const uint8_t> buf, std::vector<InotifyRecord>* out);

// Coalesces trigger events into scans. A scan is due `delay_ns` after an event
// (0 = now), but never sooner than `min_gap_ns` after the previous scan; at most
// one scan is pending, and it covers every event before it. Not thread-safe;
// times are CLOCK_MONOTONIC ns passed in, so tests drive it by hand.
class ScanCoalescer {
 public:
  explicit ScanCoalescer(int64_t min_gap_ns) : min_gap_ns_(min_gap_ns) {}

  // An event arrived. Returns true when a scan must be emitted now. `gap_ns`
  // overrides min_gap for this event (>= 0): sensitive-file opens are rare and
  // urgent, so they may follow the previous scan sooner.
  bool OnEvent(int64_t now_ns, int64_t delay_ns = 0, int64_t gap_ns = -1);
  // When the pending scan is due (mono ns), or -1 when nothing is pending.
  int64_t Deadline() const { return pending_ ? due_ns_ : -1; }
  // Time passed. Returns true when the pending scan is due now.
  bool OnTimer(int64_t now_ns);

  int64_t events() const { return events_; }
  int64_t scans() const { return scans_; }

 private:
  bool Fire(int64_t now_ns);

  int64_t min_gap_ns_;
  int64_t last_scan_ns_ = INT64_MIN / 2;
  bool pending_ = false;
  int64_t due_ns_ = 0;
  int64_t events_ = 0;
  int64_t scans_ = 0;
};

}  // namespace sandwatch::sensor
