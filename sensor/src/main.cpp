// sandwatch-sensor: flag parsing and a catch-all; the work is in Run().
#include <malloc.h>

#include <cstdio>
#include <exception>

#include "sandwatch/sensor/config.h"
#include "sandwatch/sensor/sensor.h"
#include "sandwatch/sensor/state_keeper.h"

int main(int argc, char** argv) {
  using sandwatch::sensor::Command;
  // One malloc arena for the sensor's few threads: a per-thread arena keeps its own free
  // pages resident (about 0.25 MiB at 1,000 processes, docs/performance.md).
  mallopt(M_ARENA_MAX, 1);
  try {
    std::vector<std::string> args(argv, argv + argc);
    auto cmd = sandwatch::sensor::ParseCommand(sandwatch::sensor::ProcessEnv(), args);
    if (!cmd.ok()) {
      std::fprintf(stderr, "sandwatch-sensor: %s\n", cmd.error().message.c_str());
      return 2;
    }
    switch (cmd->action) {
      case Command::Action::kHelp:
      case Command::Action::kVersion:
        std::printf("%s\n", cmd->text.c_str());
        return 0;
      case Command::Action::kPrintConfig:
        // The token keys the state file's seal, so the inspection needs it too; a token
        // file that cannot be read is reported by the run itself, not here.
        (void)sandwatch::sensor::LoadReceiverToken(&cmd->config);
        std::printf("%s\n", sandwatch::sensor::PrintConfigJson(cmd->config).c_str());
        return 0;
      case Command::Action::kRun:
        if (auto st = sandwatch::sensor::LoadReceiverToken(&cmd->config); !st.ok()) {
          std::fprintf(stderr, "sandwatch-sensor: %s\n", st.error().message.c_str());
          return 2;
        }
        return sandwatch::sensor::Run(cmd->config);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sandwatch-sensor: fatal: %s\n", e.what());
    return 1;
  }
  return 1;
}
