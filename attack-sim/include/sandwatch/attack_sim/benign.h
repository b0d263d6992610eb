// Benign steps: everyday operator and image activity that resembles the six attack
// behaviours but is no attack. Each one is written to the ground truth as
// kind "benign" with the signal it resembles; any alert on it is a false positive.
// The catalogue and the reason each step must stay quiet are in docs/attack-sim.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/attack_sim/catalog.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

class TruthSink;

struct BenignStepInfo {
  std::string name;         // "stat-secrets"
  std::string resembles;    // the signal it looks like (shadow_file_access, ...)
  std::string tool;         // executable that must be on PATH
  std::string description;  // one line, with the real command
};
const std::vector<BenignStepInfo>& BenignSteps();
const BenignStepInfo* FindBenignStep(std::string_view name);

// Runs benign steps, one at a time, as direct children of attack-sim. Owns a scratch
// directory (under the drop dir) with the files the steps work on and a loopback
// listener that drains what the health check sends.
class BenignPlayer {
 public:
  // `clock` (the steps' times) must outlive the player.
  BenignPlayer(std::string run_id, std::string speed, std::string work_parent, const Clock& clock);
  ~BenignPlayer();
  BenignPlayer(const BenignPlayer&) = delete;
  BenignPlayer& operator=(const BenignPlayer&) = delete;

  // Creates the scratch directory, its files and the listener.
  Status Prepare();
  // Runs `name` and returns its ground-truth line (status "skipped" with the reason
  // when it cannot run here).
  GroundTruthStep Run(int repeat, const std::string& name);
  // Runs the next step of the catalogue, round robin.
  GroundTruthStep RunNext(int repeat);
  // Removes the scratch directory and stops the listener.
  void Cleanup();

 private:
  Result<StepCommand> Command(const std::string& name) const;

  std::string run_id_;
  const Clock& clock_;
  std::string speed_;
  std::string work_parent_;
  std::string dir_;  // scratch directory
  size_t next_ = 0;
  struct Drain;
  std::unique_ptr<Drain> drain_;
};

// Writes a benign step's ground-truth line and logs it; a write error sets *failed.
void EmitBenign(TruthSink* sink, const GroundTruthStep& g, bool* failed);

// `run --chain benign`: benign steps, round robin, at cfg.benign_rate_per_min for
// cfg.benign_duration_s. Exit codes as RunChain.
int RunBenignSoak(const ChainConfig& cfg, TruthSink* sink, const Clock& clock);

}  // namespace sandwatch::attacksim
