// Builds the capture sources for a `--capture` choice, including `auto`, which
// tries the best source the sensor's privileges and namespace allow and falls back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/sensor/capture_source.h"

namespace sandwatch::sensor {

struct CaptureOptions {
  std::string capture = "auto";  // poll | inotify | fanotify | netlink | auto | "a+b" combos
  std::string mode = "kata";     // kata | sidecar | node
  double poll_interval_s = 2.0;
  std::string proc_root = "/proc";
  // The workload's filesystem root as the sensor reaches it (e.g. /proc/PID/root).
  std::string workload_root = "/";
};

struct CaptureSelection {
  std::vector<std::unique_ptr<CaptureSource>> sources;
  std::string active;     // e.g. "poll" or "fanotify+inotify"
  std::string why;        // one line: what was chosen and why better ones were refused
};

Result<CaptureSelection> MakeCaptureSources(const CaptureOptions& options);

}  // namespace sandwatch::sensor
