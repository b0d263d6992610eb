// The poll-interval sweep (the `sweep` scenario kind, host runtime): for each
// (capture, interval) pair one sensor process watches trial processes of every
// lifetime, started at random phases. Finished pairs are appended to
// OUT/cells.jsonl, so a rerun with the same OUT continues where an interrupted one
// stopped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/tune/cell.h"

namespace sandwatch::harness {
class CommandRunner;
}

namespace sandwatch::harness::tune {

struct SweepPlan {
  std::string name = "poll-sweep";  // the scenario's name: results/<name>-<UTC date>
  std::vector<int64_t> lifetimes_ms = {1, 10, 100, 500, 1000, 2000, 5000};
  std::vector<double> intervals_s = {0.1, 0.25, 0.5, 1, 2, 5};
  // poll, then each event-driven source; a source the sensor refuses is skipped
  // and the reason recorded.
  std::vector<std::string> captures = {"poll", "inotify", "fanotify", "netlink"};
  int trials = 100;                                              // per lifetime, unless overridden
  std::map<int64_t, int> trials_for = {{2000, 60}, {5000, 40}};  // long lifetimes: ~certain
  double window_s = 12;       // trials start uniformly in [0, W), W = P * ceil(window_s / P)
  double idle_s = 3;          // idle CPU window: max(idle_s, 2 P)
  int max_in_flight = 128;    // cap on live trial processes
  uint64_t seed = 0;          // 0: random
  std::string mode = "node";  // the sensor's MODE (host runtime)
  // Trial binaries: "static" and/or "dynamic" builds of one small C program, dropped
  // into a directory made after the sensor started; each gets its own cells.
  std::vector<std::string> binaries = {"static", "dynamic"};
  // "privileged": the sensor keeps every capability (MODE as above). "unprivileged":
  // a pod's default capability set (no CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE,
  // CAP_SYS_NICE, ...) and MODE=sidecar; fanotify and netlink are then refused.
  std::vector<std::string> vantages = {"privileged", "unprivileged"};
  int TrialsFor(int64_t lifetime_ms) const;
};

// Reads the `name:` and the `sweep:` section of a scenario file
// (scenarios/poll-sweep.yaml). Strict: unknown keys and bad values are errors
// naming the key.
Result<SweepPlan> ParseSweepPlan(std::string_view yaml_text, std::string_view origin);

struct SweepOptions {
  SweepPlan plan;
  std::string out_dir;               // results/poll-sweep-<date>; created when missing
  std::string sensor_path;           // sandwatch-sensor
  std::string drop_parent = "/tmp";  // where each pair's trial binaries are dropped
  std::string proc_root = "/proc";
  bool quiet = false;  // no progress lines
};

struct SweepOutcome {
  std::string out_dir;
  std::vector<SweepCell> cells;  // all cells, resumed and new
  int pairs_run = 0;
  int pairs_resumed = 0;
  std::map<std::string, std::string> refused;  // capture -> why
};

// Runs the missing pairs, then writes the reports. Interrupted() (Ctrl-C) stops it
// cleanly: finished pairs stay in cells.jsonl.
Result<SweepOutcome> RunSweep(const SweepOptions& opts, CommandRunner& runner, const Clock& clock);

}  // namespace sandwatch::harness::tune
