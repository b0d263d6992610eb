// Entry points called by main.cpp after flag parsing.
#pragma once

#include <ostream>
#include <string>

#include "sandwatch/attack_sim/options.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::attacksim {

// Exit codes: 0 = the chain ran (skipped variants are reported, not failures);
// 1 = a runtime failure (no shell, ground truth unwritable, reverse shell output missing).
// `clock` gives every ground-truth time; SystemClock() outside tests.
int RunChain(const ChainConfig& config, const Clock& clock);

struct ListenOptions {
  std::string bind = "127.0.0.1";
  int port = 4444;
  int count = 1;
  double linger_ms = -1;        // wait before sending exit; < 0 = the --speed preset's hold
  std::string speed = "burst";  // preset whose hold is the linger (match the run's --speed)
  double timeout_s = 60;
  std::string commands = "id; uname -a";
  std::string ground_truth;  // appended; empty = none
  std::string run_id;
  bool quiet = false;
};
int RunListen(const ListenOptions& options, const Clock& clock);

// `--list`: steps, variants (with availability here), speeds. json = machine-readable.
void PrintList(std::ostream& out, bool json);

}  // namespace sandwatch::attacksim
