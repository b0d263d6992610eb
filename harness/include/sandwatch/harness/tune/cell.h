// One measured cell of the poll-interval sweep (capture x poll interval x lifetime),
// its JSONL persistence (cells.jsonl, which makes a sweep resumable) and the
// contract's summary.json "sweep" entry.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/tune/stats.h"

namespace sandwatch::harness::tune {

struct SweepCell {
  std::string capture;         // poll | inotify | fanotify | netlink
  double poll_interval_s = 0;  // the sensor's POLL_INTERVAL in this cell
  int64_t lifetime_ms = 0;     // nominal lifetime of the trial processes
  int64_t trials = 0;
  int64_t detected = 0;
  double mean_lifetime_ms = 0;             // measured spawn-to-reap, the L the model uses
  double scan_s = 0;                       // measured duration of one /proc scan (s in the model)
  double model = 0;                        // min(1, (L + s) / P), the pure-polling prediction
  std::optional<double> latency_p50_ms{};  // trial start (wall) to event time (wall)
  std::optional<double> latency_p99_ms{};
  double cpu_s_per_min = 0;        // sensor CPU while idle (no trials), schedstat precision
  double load_cpu_s_per_min = 0;   // sensor CPU while the trials ran
  double stat_cpu_s_per_min = 0;   // the same load window from /proc/PID/stat utime+stime
  int64_t rss_kib = 0;             // VmRSS at the end of the window
  int64_t rss_peak_kib = 0;        // VmHWM
  int64_t delayed_starts = 0;      // trials started late because of the concurrency cap
  int64_t cmdline_unreadable = 0;  // the sensor's counter over the whole pair
  std::string pair_id;             // e.g. "poll-0.5"; cells of one pair share one sensor
  std::string sensor_capture;      // the capture the sensor reported in its events
  double load1 = -1;               // 1-minute load average when the pair started (-1: unknown)
  int64_t processes =
      -1;  // processes on the machine when the pair started (scan cost grows with it)
  // The trial binary: "static" or "dynamic" (a dropped build of one small C program);
  // empty in sweeps that ran /usr/bin/sleep (dynamic, not dropped).
  std::string binary{};
  // The sensor's vantage: "privileged" (every capability) or "unprivileged" (a pod's
  // default capability set, MODE=sidecar); empty in older sweeps (privileged).
  std::string vantage;

  Proportion Rate() const { return Wilson(detected, trials); }
  double Miss() const {
    return trials > 0 ? 1.0 - static_cast<double>(detected) / static_cast<double>(trials) : 1.0;
  }
  double CpuFraction() const { return cpu_s_per_min / 60.0; }
  // Only pure polling is expected to follow the model.
  bool Disagrees() const {
    return capture == "poll" && trials > 0 && ModelDisagrees(model, Rate());
  }
  // "poll P=0.5s L=500ms", then " static" / " dynamic" and ", unprivileged" when set
  std::string Label() const;
};

// The cells that charts and recommendations read, one per (capture, P, L): for each
// capture the least privileged vantage it was measured in (inotify and poll run in a
// sidecar without privileges; fanotify and netlink need privileges), and the static
// binary, the harder case for inotify (no library opens after the exec). Cells of
// older sweeps (no binary, no vantage) are kept as they are.
std::vector<SweepCell> PrimaryCells(const std::vector<SweepCell>& cells);

nlohmann::json CellToJson(const SweepCell& c);
// Strict: a wrong type names the field.
Result<SweepCell> CellFromJson(const nlohmann::json& j);

// The contract's summary.json "sweep" entry (plus the interval and latency extras).
nlohmann::json CellToSummaryEntry(const SweepCell& c);

// Reads cells.jsonl. A missing file is an empty list; a malformed line is an
// Error naming the line, so a damaged sweep is never silently half-read.
Result<std::vector<SweepCell>> ReadCells(const std::string& path);
// Appends one line per cell and fsyncs, so an interrupted sweep keeps them.
Status AppendCells(const std::string& path, const std::vector<SweepCell>& cells);
// Appends `text` to `path` (created when missing) and fsyncs.
Status AppendSynced(const std::string& path, std::string_view text);

}  // namespace sandwatch::harness::tune
