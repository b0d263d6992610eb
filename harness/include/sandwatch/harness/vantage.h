// Which vantage a sensor has (what its privileges and PID namespace let it use),
// what that means for short-lived processes, and the measured figures behind it
// (the newest poll-interval sweep under results/). Used by `doctor`.
#pragma once

#include <string>

#include "sandwatch/harness/backend.h"

namespace sandwatch::harness {

struct VantageFacts {
  bool initial_pid_ns = false;  // the proc connector needs it
  bool sys_admin = false;       // fanotify
  bool net_admin = false;       // the proc connector
};

// This process's vantage: CapEff from <proc_root>/self/status and the inode of
// <proc_root>/self/ns/pid. A sensor started from here inherits it.
VantageFacts ProbeVantage(const std::string& proc_root = "/proc");

// The capture `--capture auto` picks in `mode` (node, sidecar, kata) with these facts.
std::string AutoCapture(const VantageFacts& facts, const std::string& mode);

// One line: the vantage a sensor running `capture` in `mode` has, which sources it
// allows, and what it means for short-lived processes.
std::string VantageSummary(const std::string& capture, const std::string& mode);

// The newest results_dir/poll-sweep-* folder that has a cells.jsonl, or "".
std::string NewestPollSweep(const std::string& results_dir);

// The newest results/poll-sweep-*/cells.jsonl under `results_dir`, as measured
// for `capture` (at the unprivileged vantage when `unprivileged`): detection of the
// 1 ms and 10 ms static and dynamic trials at the interval closest to 2 s, e.g.
// "measured in results/poll-sweep-2026-12-06 (inotify, unprivileged, P=2 s): 1 ms static
// 99/100, 1 ms dynamic 100/100, 10 ms static ...". Says so when nothing is measured.
std::string MeasuredShortLived(const std::string& results_dir, const std::string& capture,
                               bool unprivileged);

// A doctor line for a sensor running `capture` in `mode`: the summary and the figures.
DoctorCheck VantageCheck(const std::string& name, const std::string& capture,
                         const std::string& mode, const std::string& results_dir);

}  // namespace sandwatch::harness
