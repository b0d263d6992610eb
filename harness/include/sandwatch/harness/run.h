// The orchestrator behind `harness run`: scenario -> backend cells -> events
// from the receiver -> scorer -> results/RUN-ID/. Backend-independent.
#pragma once

#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness {

class BackendRegistry;
class CommandRunner;

struct RunOptions {
  std::string scenario_path;
  std::string backend = "local";
  std::string out_dir;                // empty: <source>/results/<scenario>-<UTC time>
  std::string bin_dir;                // empty: ResolveBinDir("")
  std::vector<std::string> runtimes;  // non-empty: only these of the scenario's runtimes
  bool keep = false;                  // keep scratch files
  bool quiet = false;                 // no progress lines
  std::string falco_path;             // --falco: the Falco executable (overrides falco.path)
  bool falco_external = false;        // --falco-external: use an already running Falco
};

struct RunOutcome {
  std::string out_dir;
  bool all_cells_ok = false;
  // The scenario's expect: matrix held (rows judged for the runtimes that ran;
  // false when the scenario has no matrix or none of its runtimes ran).
  bool finding_applicable = false;
  bool finding_holds = false;
  std::string table;             // the blog table (plain text, with its noise row) for the terminal
  std::string noise_line;        // one line: false positives and background alerts per observer
  bool ran_vm_stand_in = false;  // a cell ran the local qemu stand-in for kata-qemu
};

Result<RunOutcome> RunScenario(const RunOptions& opts, BackendRegistry& backends,
                               CommandRunner& runner);

// The scenario at opts.scenario_path, narrowed to opts.runtimes; errors have code 2.
Result<Scenario> LoadRunScenario(const RunOptions& opts);

// `harness report DIR`: re-score and re-render from DIR's stored
// events.jsonl, ground-truth.jsonl and cells.json.
Result<RunOutcome> RerenderReport(const std::string& dir);

}  // namespace sandwatch::harness
