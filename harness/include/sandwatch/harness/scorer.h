// The scorer: matches what each observer reported against attack-sim's ground
// truth. Pure functions over recorded data (no I/O), so tests run on files.
//
// An event counts for (cell, observer, signal) when
//  1. it belongs to the observer's binding (source, pod, sensor mode);
//  2. its rule is the signal (Falco rule names are mapped, see SignalForRule);
//  3. its time lies in [step start - slack, step end + grace] for a step of the
//     cell that expects the signal (so a reused pid outside the window never counts);
//  4. its process is the step's: the same pid (or a child of it) when the pids
//     are comparable, else the same command line (the process, its parent or an
//     ancestor), else, for an observer that only sees its own pod, the same
//     program name. Observers with a shared vantage (a node-wide view) also need
//     lineage: a pid match or an attack-sim ancestor.
// Several matching events are one detection (the earliest gives the latency).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/noise.h"

namespace sandwatch::harness {

struct ScoreOptions {
  double poll_interval_s = 2.0;  // steps held shorter than this are "short-lived"
  double slack_s = 1.0;          // before a step's start (clock granularity, guest clocks)
  double grace_s = 8.0;          // after a step's end (a poll's delay, shipping)
};

struct SignalResult {
  std::string cell_id;
  std::string runtime;
  std::string speed;
  std::string variant;
  int repetition = 0;
  std::string observer;
  std::string signal;
  bool observer_available = true;
  std::string reason;    // why the observer is absent
  bool expected = true;  // can this observer see this runtime (ExpectedVisible)
  bool detected = false;
  std::optional<double> latency_ms;  // first matching event - step start
  std::string step;                  // the ground-truth step that raised it
  std::vector<std::string> command;
  double hold_ms = 0;
  bool short_lived = false;  // hold < poll interval
  std::string basis;         // pid | cmdline | name (how the match was made)
  int events = 0;            // matching events (duplicates included)
  std::string first_event_id;
};

// One coverage entry (contract: summary.json "coverage"), aggregated over repetitions.
struct CoverageEntry {
  std::string runtime;
  std::string observer;
  std::string signal;
  std::string speed;
  std::string variant;
  bool expected = true;
  bool available = true;
  int cells = 0;
  int cells_detected = 0;
  bool detected = false;             // detected in every cell
  std::optional<double> latency_ms;  // median over detections
};

struct ShortLivedMiss {
  std::string cell;  // its id
  std::string observer;
  std::string signal;
  std::string step;
  double hold_ms = 0;
};

struct Score {
  std::vector<SignalResult> results;
  std::vector<CoverageEntry> coverage;
  std::vector<ShortLivedMiss> short_lived_missed;
  // Events of an observer inside a cell's window that matched no step.
  int unmatched_events = 0;
  // Event id -> "CELL STEP" for every event that credited a step (duplicates included).
  std::map<std::string, std::string> attributed;
  // False positives, background and machinery, per observer (see noise.h).
  NoiseScore noise;
};

// "Read sensitive file untrusted" -> shadow_file_access, ...; our own rules map to
// themselves. Empty when a Falco rule has no sandwatch equivalent.
std::string SignalForRule(std::string_view source, std::string_view rule);

Score ScoreRun(const std::vector<CellOutcome>& cells, const std::vector<Event>& events,
               const ScoreOptions& opts);

// Attributes every event of every observer binding to one of the four outcomes and
// aggregates noise[] and precision[] (implemented in noise.cpp; ScoreRun calls it).
// Any observer's events take this path, Falco's included: only pid, ancestors, exe,
// cmdline and time are used.
NoiseScore ScoreNoise(const std::vector<CellOutcome>& cells, const std::vector<Event>& events,
                      const ScoreOptions& opts);

}  // namespace sandwatch::harness
