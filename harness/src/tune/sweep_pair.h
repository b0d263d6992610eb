// One (capture, interval) pair of the sweep: start one sensor, prove it watches
// (a canary process), measure its idle cost, run the trials of every lifetime at
// random phases, stop it and turn what it emitted into cells. Also the sweep's
// count of this machine's processes (through core/procfs). Internal to
// sandwatch_harness_tune.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/tune/cell.h"
#include "sandwatch/harness/tune/sweep.h"
#include "trials.h"

namespace sandwatch::harness {
class CommandRunner;
}

namespace sandwatch::harness::tune {

struct PairContext {
  const SweepPlan* plan = nullptr;
  std::string sensor_path;  // sandwatch-sensor
  CommandRunner* runner = nullptr;
  const Clock* clock = nullptr;
  std::string sweep_id{};    // 8 hex, part of every marker
  std::string rules_path{};  // the generated rules file
  std::string raw_dir{};     // OUT/raw: sensor output and logs
  std::mt19937_64* rng = nullptr;
  const TrialBinaries* built = nullptr;  // dropped afresh for every pair
  std::string drop_parent = "/tmp";      // where each pair's trial binaries are dropped
  std::string proc_root = "/proc";
};

// One sensor of the sweep: a capture at an interval, seen from one vantage.
struct PairKey {
  std::string vantage;  // "privileged" | "unprivileged"
  std::string capture;
  double interval_s = 0;
};

struct PairResult {
  enum class Status { kMeasured, kRefused, kFailed, kInterrupted };
  Status status = Status::kFailed;
  std::string reason;  // for refused / failed
  std::vector<SweepCell> cells;
  std::vector<TrialRecord> trials;  // with event_wall_ns set
};

// "inotify-0.5"; "unprivileged-inotify-0.5" for the unprivileged vantage.
std::string PairId(const PairKey& k);

// The sensor's command line for one pair (without --sensor-id). The unprivileged
// vantage starts it through setpriv(1) with a pod's default capability set (no
// shell) and MODE=sidecar.
std::vector<std::string> SensorArgv(const PairContext& ctx, const PairKey& k,
                                    const std::string& interval, const std::string& rules,
                                    const std::string& events_path);

PairResult RunPair(const PairContext& ctx, const PairKey& key, int pair_index);

// The rules file the sweep's sensors load: one rule matching the markers.
std::string SweepRulesYaml();

// Numeric entries under proc_root (processes on the machine), -1 when unreadable.
int64_t CountProcesses(const std::string& proc_root);

}  // namespace sandwatch::harness::tune
