// Builds the capture sources for a `--capture` choice, including `auto`, which
// tries the best source the sensor's privileges and namespace allow and falls back.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"
#include "sandwatch/sensor/capture_source.h"

namespace sandwatch::sensor {

struct CaptureOptions {
  // Given to every source (event receive times); must outlive the sources.
  const Clock* clock = &SystemClock();
  std::string capture = "auto";  // poll | inotify | fanotify | netlink | auto | "a+b" combos
  std::string mode = "kata";     // kata | sidecar | node
  double poll_interval_s = 2.0;
  std::string proc_root = "/proc";
  // The workload's filesystem root as the sensor reaches it (e.g. /proc/PID/root).
  std::string workload_root = "/";
  // inotify: triggered scans are at least this far apart (a storm of events
  // becomes at most 1/trigger_min_gap_s scans a second).
  double trigger_min_gap_s = 0.005;
  // netlink: socket receive buffer requested with SO_RCVBUFFORCE.
  int netlink_rcvbuf_bytes = 16 << 20;
  // netlink/fanotify: read cmdline, exe and stat right after each kernel event.
  bool early_read = true;
  // Priority of the sources' event threads (netlink and fanotify early reads,
  // the inotify trigger), so they win the CPU against a short-lived process on a
  // busy machine. They do a few syscalls per event and block in between.
  // realtime: SCHED_FIFO priority 10 (RT throttling still bounds it); else, or
  // when that is refused, nice `early_read_nice` (0 = leave alone). Both need
  // CAP_SYS_NICE; without it the threads keep the default priority.
  bool early_read_realtime = true;
  int early_read_nice = -10;
  // fanotify: watch the sensitive files with FAN_OPEN_PERM, so the opener waits
  // in open() until its cmdline is read (always answered FAN_ALLOW). false: FAN_OPEN.
  bool fanotify_file_perm = true;
};

struct CaptureSelection {
  // The event-driven sources first, then always a PollSource (the safety net).
  std::vector<std::unique_ptr<CaptureSource>> sources;
  std::string active;   // e.g. "poll" or "fanotify+inotify" (poll underneath is implied)
  std::string why;      // one line: what was chosen and why better ones were refused;
                        // the caller logs it once at start-up
  std::string vantage;  // one line: the vantage point and what it means for
                        // short-lived processes (VantageText)
};

// Checks a --capture value without probing anything (for config validation).
// The Error does not repeat the flag name: print it as "--capture: <message>".
Status ValidateCaptureValue(std::string_view capture);

// `capture`: poll | inotify | fanotify | netlink | auto, or a combination joined
// with '+' (e.g. "fanotify+inotify", "netlink+fanotify"). An explicitly requested
// source that cannot run here is an Error with the one-line reason (e.g.
// "netlink refused: ..."; print it as "--capture: <message>"); auto
// falls back (node: netlink [+fanotify for files] > fanotify > inotify > poll;
// kata/sidecar: fanotify > inotify > poll). Sources are built, not started.
Result<CaptureSelection> MakeCaptureSources(const CaptureOptions& options);

}  // namespace sandwatch::sensor
