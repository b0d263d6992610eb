// The orchestrator behind `harness run` and `harness report`: it reads the
// scenario's `kind:` and hands the run to that ScenarioKind (chain: scenario ->
// backend cells -> receiver events -> scorer -> results/RUN-ID/; sweep: the
// poll-interval sweep). `report DIR` goes to the kind that wrote DIR.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness {

class BackendRegistry;
class CommandRunner;
class Progress;

struct RunOptions {
  std::string scenario_path;
  std::string scenario_text;  // non-empty: this scenario instead of the file's text
  std::string backend = "local";
  std::string out_dir;                // empty: <source>/results/<scenario>-<UTC time>
  std::string bin_dir;                // empty: ResolveBinDir("")
  std::string sensor_path;            // empty: bin_dir's sandwatch-sensor (sweep only)
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
  bool finding_holds = false;
  std::string table{};           // the blog table (plain text, with its noise row) for the terminal
  std::string noise_line{};      // one line: false positives and background alerts per observer
  bool ran_vm_stand_in = false;  // a cell ran the local qemu stand-in for kata-qemu
  std::string terminal;          // what `run` and `report` print on stdout
};

// What a kind gets for one run.
struct KindRun {
  const RunOptions& opts;
  std::string text;  // the scenario file's YAML
  BackendRegistry& backends;
  CommandRunner& runner;
  const Clock& clock;
};

// A kind of scenario (`kind:` in the file). A new kind is one class registered in
// builtin.cpp; see harness/EXTENDING.md.
class ScenarioKind {
 public:
  virtual ~ScenarioKind() = default;
  virtual std::string_view Name() const = 0;
  // Runs the scenario and writes its results folder.
  virtual Result<RunOutcome> Run(const KindRun& run) const = 0;
  // True when `dir` is a results folder this kind wrote (by the files in it).
  virtual bool WroteFolder(const std::string& dir) const = 0;
  // Re-renders the reports of such a folder from its stored data.
  virtual Result<RunOutcome> Rerender(const std::string& dir) const = 0;
};

// Every kind this binary has; the first is the default (chain). Defined in orchestrator.cpp.
const std::vector<const ScenarioKind*>& ScenarioKinds();
const ScenarioKind& ChainKind();  // src/chain_kind.cpp
const ScenarioKind& SweepKind();  // src/tune/sweep_kind.cpp

Result<RunOutcome> RunScenario(const RunOptions& opts, BackendRegistry& backends,
                               CommandRunner& runner, const Clock& clock);

// The scenario at opts.scenario_path, narrowed to opts.runtimes; errors have code 2.
Result<Scenario> LoadRunScenario(const RunOptions& opts);

// `harness report DIR`: re-score and re-render from DIR's stored data.
Result<RunOutcome> RerenderReport(const std::string& dir);

// The cells of a run, in order, with progress lines: `run(i)` runs cell i (skipped
// when `label(i)` is empty). Stops at Ctrl-C (returns "interrupted") or when `run`
// returns kStop with a reason; returns "" when every cell ran.
enum class CellEnd { kOk, kFailed, kStop };
struct CellStep {
  CellEnd end = CellEnd::kOk;
  std::string stop_reason;
};
std::string RunCells(Progress& progress, size_t n, const std::function<std::string(size_t)>& label,
                     const std::function<CellStep(size_t)>& run);

// The run's results folder (created; absolute): `out_dir`, else
// <source>/results/<default_name>. Errors have code 2.
Result<std::string> MakeResultsDir(const std::string& out_dir, const std::string& default_name);

// "20261128T101500Z" (with_time) or "2026-11-28" for a wall time.
std::string UtcStamp(int64_t wall_ns, bool with_time);

}  // namespace sandwatch::harness
