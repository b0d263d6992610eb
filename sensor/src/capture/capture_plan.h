// Pure planning for `--capture`: parses the value (a name, "a+b" combos, or
// auto) and, given a probe for each source, decides what runs and writes the
// one-line reason. The factory (capture_factory.cpp) supplies real probes;
// tests supply canned ones.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

// Canonical order, best first. "poll" always runs underneath as the safety net.
inline constexpr std::array<std::string_view, 3> kEventSources = {"netlink", "fanotify", "inotify"};

inline constexpr std::string_view kCaptureHelp =
    "use poll, inotify, fanotify, netlink, auto, or a '+' combination such as fanotify+inotify";

// "auto" -> {"auto"}; "fanotify+inotify" -> {"fanotify","inotify"} (canonical
// order, unique). Errors name the bad part but not the flag: the caller prefixes
// "--capture: ".
Result<std::vector<std::string>> ParseCaptureList(std::string_view text);

struct CapturePlan {
  std::vector<std::string> sources;  // event sources to start, canonical order (no "poll")
  bool fanotify_files_only = false;  // netlink covers execs; fanotify only marks files
  std::string active;                // "netlink+fanotify", "inotify", "poll"
  std::string why;                   // one line for the start-up log
};

// Probe(name, files_only) says whether a source can run here.
using ProbeFn = std::function<Status(const std::string& name, bool files_only)>;

// mode: kata | sidecar | node. An explicit source that fails its probe is an
// error carrying the probe's one-line reason ("netlink refused: ..."): the
// sensor must not claim what it cannot see. auto falls back.
Result<CapturePlan> PlanCapture(std::string_view capture, std::string_view mode,
                                double poll_interval_s, const ProbeFn& probe);

// What the chosen sources can see, in one line for the start-up log and
// `doctor`: the vantage point and what it means for short-lived processes.
// `active` is CapturePlan::active ("netlink+fanotify", "inotify", "poll").
std::string VantageText(std::string_view active, std::string_view mode);

}  // namespace sandwatch::sensor
