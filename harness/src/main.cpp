// sandwatch-harness: flag parsing only. Each subcommand lives in src/cli_*.cpp
// (or src/tune/, src/kube/) and is registered here.
#include <cstdio>
#include <exception>

#include "sandwatch/core/cli.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/commands.h"

int main(int argc, char** argv) {
  try {
    CLI::App app{
        "sandwatch-harness: run attack scenarios against sandwatch observers, score what each\n"
        "observer saw against the attack simulator's ground truth, and write reports.\n\n"
        "Examples:\n"
        "  sandwatch-harness doctor --backend local\n"
        "  sandwatch-harness run scenarios/blog-demo.yaml\n"
        "  sandwatch-harness run scenarios/speed-sweep.yaml --runtimes host --out results/sweep1\n"
        "  sandwatch-harness report results/RUN-ID\n"
        "  sandwatch-harness demo"};
    sandwatch::AddVersionFlag(app, "sandwatch-harness");
    app.require_subcommand(1, 1);
    sandwatch::harness::RegisterRunCommand(app);
    sandwatch::harness::RegisterReportCommand(app);
    sandwatch::harness::RegisterDoctorCommand(app);
    sandwatch::harness::RegisterDemoCommand(app);
    sandwatch::harness::RegisterTuneCommand(app);
    sandwatch::harness::InstallInterruptHandlers();
    if (auto rc = sandwatch::ParseCommandLine(app, argc, argv, "sandwatch-harness")) return *rc;
  } catch (const std::exception& e) {
    // Building the CLI::App throws only on a programming error (a duplicate option).
    std::fprintf(stderr, "sandwatch-harness: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
