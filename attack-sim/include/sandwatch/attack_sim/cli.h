// Flag definitions for sandwatch-attack-sim (CLI11). Only main.cpp and tests include this.
#pragma once

#include <CLI/CLI.hpp>

#include "sandwatch/attack_sim/options.h"
#include "sandwatch/attack_sim/run.h"

namespace sandwatch::attacksim {

struct CliState {
  RunOptions run;
  ListenOptions listen;
  bool list = false;
  bool list_json = false;
  std::string log_level = "info";
  CLI::App* run_cmd = nullptr;
  CLI::App* listen_cmd = nullptr;
};

void BuildCli(CLI::App& app, CliState* state);

// Parses argv. Returns -1 to go on, or the exit code to return at once (help/version: 0,
// bad flags: 2 with a one-line message on stderr naming the flag).
int ParseCli(CLI::App& app, int argc, const char* const* argv);

// After ParseCli: validates (bad values exit 2) and runs the chosen subcommand.
int Dispatch(CliState& state);

}  // namespace sandwatch::attacksim
