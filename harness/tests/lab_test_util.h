// Shared helpers for the harness's integration and root tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness::testing {

// $SANDWATCH_SOURCE_DIR, else the checkout above the test binary (ctest sets only
// SANDWATCH_BIN_DIR reliably: see the note in cmake/Dependencies.cmake's ENVIRONMENT).
inline std::string SourceDir() { return ResolveSourceDir(); }
inline std::string BinDir() {
  const char* d = std::getenv("SANDWATCH_BIN_DIR");
  return d != nullptr ? d : "./bin";
}
inline std::string Slurp(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline std::string TempOut(const std::string& tag) {
  auto p = std::filesystem::temp_directory_path() /
           ("sandwatch-harness-" + tag + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}
// Runs the scenario at `path` quietly with the real binaries (BinDir) and the default
// backends; the results folder is `out_dir`. `runtimes` narrows the scenario's runtimes.
inline Result<RunOutcome> RunForReal(const std::string& path, const std::string& out_dir,
                                     std::vector<std::string> runtimes = {}, bool keep = false) {
  RunOptions o;
  o.keep = keep;
  o.scenario_path = path;
  o.runtimes = std::move(runtimes);
  o.out_dir = out_dir;
  o.bin_dir = BinDir();
  o.quiet = true;
  auto runner = MakeProcessRunner();
  return RunScenario(o, DefaultBackends(), *runner, SystemClock());
}
// blog-demo-ci on `runtimes` into `out_dir`, as `harness run` runs it.
inline Result<RunOutcome> RunBlogDemoCi(const std::vector<std::string>& runtimes,
                                        const std::string& out_dir, bool keep = false) {
  return RunForReal(SourceDir() + "/scenarios/blog-demo-ci.yaml", out_dir, runtimes, keep);
}
// Which of the six seed signals `observer` detected in `runtime`, from summary.json.
inline std::string MissedSignals(const nlohmann::json& summary, const std::string& runtime,
                                 const std::string& observer) {
  std::string missed;
  for (auto sig : signals::kSeedSignals) {
    bool found = false;
    for (const auto& c : summary["coverage"]) {
      if (c["runtime"] == runtime && c["observer"] == observer && c["signal"] == std::string(sig)) {
        found = c["detected"].get<bool>();
      }
    }
    if (!found) missed += std::string(sig) + " ";
  }
  return missed;
}

}  // namespace sandwatch::harness::testing
