// `harness doctor`: what this machine has and lacks for a backend.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {

void RegisterDoctorCommand(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand(
      "doctor",
      "Check what this machine has and lacks for a backend, and how to get what is missing.\n"
      "Exit 0 when every required item is present.\n"
      "Examples:\n"
      "  sandwatch-harness doctor\n"
      "  sandwatch-harness doctor --backend local --runtimes runc,kata-qemu\n"
      "  sandwatch-harness doctor --backend kube");
  AddBackendFlags(*sub, *opts, "only check what these runtimes need");
  sub->callback([opts] {
    auto runner = MakeProcessRunner();
    auto backend = DefaultBackends().Create(opts->backend, *runner);
    if (!backend.ok()) throw CLI::ValidationError("--backend", backend.error().message);
    auto checks = (*backend)->Doctor(opts->runtimes);
    bool all_ok = true;
    std::printf("sandwatch-harness doctor --backend %s\n", opts->backend.c_str());
    for (const auto& c : checks) {
      const char* mark = c.ok ? "ok  " : (c.required ? "MISS" : "opt ");
      std::printf("  [%s] %-22s %s\n", mark, c.name.c_str(), c.detail.c_str());
      if (!c.ok && !c.fix.empty()) std::printf("         %-22s fix: %s\n", "", c.fix.c_str());
      if (!c.ok && c.required) all_ok = false;
    }
    std::printf("%s\n", all_ok ? "ready." : "not ready: see the MISS lines above.");
    if (!all_ok) throw CLI::RuntimeError(1);
  });
}

}  // namespace sandwatch::harness
