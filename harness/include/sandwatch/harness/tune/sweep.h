// The poll-interval sweep's plan: the `sweep:` section of a sweep scenario (the
// `sweep` kind, src/tune/sweep_kind.cpp, runs it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

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

}  // namespace sandwatch::harness::tune
