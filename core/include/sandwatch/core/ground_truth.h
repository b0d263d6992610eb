// Ground truth written by sandwatch-attack-sim and read by the harness:
// JSONL, one object per step that really ran.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch {

struct GroundTruthStep {
  std::string run_id;  // attack-sim run id
  int repeat = 0;      // 0-based chain repetition
  std::string
      step;  // shell | shadow | aws-creds | package-install | new-binary | reverse-shell | listener
  std::string signal;                // primary expected signal
  std::vector<std::string> signals;  // every expected signal (includes `signal`)
  std::string variant;               // e.g. "default", "head", "socat"
  std::string speed;                 // blog | human | fast | burst | custom
  std::vector<std::string> command;  // argv
  int pid = 0;
  int64_t start_wall_ns = 0;
  int64_t end_wall_ns = 0;
  int64_t start_mono_ns = 0;
  int64_t end_mono_ns = 0;
  double requested_hold_ms = 0;
  double hold_ms = 0;  // achieved: end - start of the step's process
  int exit_code = 0;
  std::string note;  // free text, e.g. the listener's captured output
  // Added by attack-sim (optional on read, defaults shown):
  std::string status = "ran";  // ran | skipped (the variant cannot run here; note says why)
  int ppid = 0;                // parent of `pid` when it ran (the shell step's pid when nested)
  // attack: a step of the chain (its signals are expected); benign: everyday activity that
  // looks like an attack and must stay quiet (signals empty; any alert on it is a false positive).
  std::string kind = "attack";
};

nlohmann::json GroundTruthToJson(const GroundTruthStep& s);
Result<GroundTruthStep> GroundTruthFromJson(const nlohmann::json& j);

// Reads a whole JSONL file; a malformed line is an error naming its line number.
Result<std::vector<GroundTruthStep>> ReadGroundTruthFile(const std::string& path);

}  // namespace sandwatch
