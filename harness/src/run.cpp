#include "sandwatch/harness/run.h"

#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness {

Result<RunOutcome> RunScenario(const RunOptions& opts, BackendRegistry& backends,
                               CommandRunner& runner) {
  auto scenario = LoadScenario(opts.scenario_path);
  if (!scenario.ok()) return scenario.error();
  auto backend = backends.Create(opts.backend, runner);
  if (!backend.ok()) return backend.error();
  return MakeError("run: orchestrator work in progress");
}

Result<RunOutcome> RerenderReport(const std::string& dir) {
  return MakeError("report: work in progress for " + dir);
}

}  // namespace sandwatch::harness
