// sandwatch-attack-sim: flag parsing only; the work is in sandwatch_attack_sim.
#include <exception>
#include <iostream>

#include "sandwatch/attack_sim/cli.h"

int main(int argc, char** argv) {
  try {
    CLI::App app;
    sandwatch::attacksim::CliState state;
    sandwatch::attacksim::BuildCli(app, &state);
    int rc = sandwatch::attacksim::ParseCli(app, argc, argv);
    if (rc >= 0) return rc;
    return sandwatch::attacksim::Dispatch(state);
  } catch (const std::exception& e) {
    std::cerr << "sandwatch-attack-sim: fatal: " << e.what() << "\n";
    return 1;
  }
}
