// The chain kind (the default): scenario -> backend cells -> receiver events ->
// scorer -> results/RUN-ID/.
#include <ftw.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/run.h"
#include "sandwatch/harness/scenario.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;

namespace {

// rm -rf that never crosses into another filesystem (FTW_MOUNT), so a mount a failed
// cleanup step left behind (an overlay of the cached rootfs) is never emptied. A
// directory's rmdir fails (and it stays) when something below it could not be removed.
void RemoveTreeOneFilesystem(const std::string& dir) {
  const auto remove = [](const char* path, const struct stat*, int type, struct FTW*) {
    (type == FTW_DP ? ::rmdir : ::unlink)(path);
    return 0;
  };
  ::nftw(dir.c_str(), remove, 32, FTW_DEPTH | FTW_MOUNT | FTW_PHYS);
}

nlohmann::json BaseEnvironment(const Scenario& s, const std::map<std::string, std::string>& be) {
  nlohmann::json env = nlohmann::json::object();
  utsname u{};
  if (uname(&u) == 0) {
    env["host_kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  }
  env["hostname"] = Hostname();
  env["harness_version"] = Version();
  env["scenario_poll_interval_s"] = s.sensor.poll_interval_s;
  env["scenario_capture"] = s.sensor.capture;
  for (const auto& [k, v] : be) env[k] = v;
  return env;
}

Result<RunOutcome> Finalise(const std::string& dir, RunRecord& run) {
  // Falco events in the scorer's shape (pids in the workload's namespace, ancestors).
  Score score = ScoreRun(run.cells, EventsForScoring(run.events), run.score_options);
  if (auto st = WriteReports(dir, run, score); !st.ok()) return st.error();
  RunOutcome out;
  out.out_dir = dir;
  out.all_cells_ok = !run.cells.empty() && std::all_of(run.cells.begin(), run.cells.end(),
                                                       [](const CellOutcome& c) { return c.ok; });
  FindingVerdict verdict = JudgeExpectations(run.expect, score, run.cells);
  out.finding_holds = verdict.holds;
  out.table = BlogTable(run, score, false);
  out.noise_line = NoiseLine(score);
  out.ran_vm_stand_in = RanLocalStandIn(run);
  if (verdict.applicable && !verdict.holds) {
    out.table += "expected finding does not hold: " + verdict.problems + "\n";
  }
  for (const auto& c : run.cells) {
    if (!c.ok) out.table += "cell " + c.cell.Id() + " failed: " + c.error + "\n";
  }
  out.terminal = out.table + "\n" + out.noise_line + "results: " + dir + "\n";
  return out;
}

// What each observer really captured with, per cell (from the sensors' heartbeats).
nlohmann::json CaptureActive(const std::vector<CellOutcome>& cells) {
  nlohmann::json active = nlohmann::json::object();
  for (const auto& c : cells) {
    for (const auto& b : c.observers) {
      const std::string v = Join(b.capture_active, ",");
      active[c.cell.Id()][b.observer] =
          b.available ? (v.empty() ? "unknown (no heartbeat)" : v) : "absent: " + b.reason;
    }
  }
  return active;
}

Result<Scenario> NarrowRuntimes(Result<Scenario> loaded, const RunOptions& opts) {
  if (!loaded.ok()) return MakeError(loaded.error().message, 2);
  Scenario scenario = std::move(*loaded);
  for (const auto& r : opts.runtimes) {
    if (std::find(scenario.runtimes.begin(), scenario.runtimes.end(), r) ==
        scenario.runtimes.end()) {
      return MakeError("--runtimes: '" + r + "' is not a runtime of " + scenario.path, 2);
    }
  }
  if (!opts.runtimes.empty()) scenario.runtimes = opts.runtimes;
  return scenario;
}

class Chain : public ScenarioKind {
 public:
  std::string_view Name() const override { return "chain"; }
  Result<RunOutcome> Run(const KindRun& run) const override;
  bool WroteFolder(const std::string& dir) const override {
    return fs::exists(dir + "/events.jsonl");
  }
  Result<RunOutcome> Rerender(const std::string& dir) const override {
    auto run = ReadRunData(dir);
    if (!run.ok()) return run.error();
    return Finalise(dir, *run);
  }
};

}  // namespace

Result<Scenario> LoadRunScenario(const RunOptions& opts) {
  return NarrowRuntimes(LoadScenario(opts.scenario_path), opts);
}

Result<RunOutcome> Chain::Run(const KindRun& kr) const {
  const RunOptions& opts = kr.opts;
  auto loaded = NarrowRuntimes(ParseScenario(kr.text, opts.scenario_path), opts);
  if (!loaded.ok()) return loaded.error();
  Scenario scenario = std::move(*loaded);
  CommandRunner& runner = kr.runner;
  auto backend = kr.backends.Create(opts.backend, runner);
  if (!backend.ok()) return MakeError("--backend: " + backend.error().message, 2);

  const Clock& clock = kr.clock;
  RunRecord run;
  run.started_wall_ns = clock.WallNs();
  run.run_id = scenario.name + "-" + UtcStamp(run.started_wall_ns, true);
  run.scenario = scenario.name;
  run.scenario_path = scenario.path;
  run.description = scenario.description;
  run.backend = opts.backend;
  run.score_options = {.poll_interval_s = scenario.sensor.poll_interval_s,
                       .grace_s = std::max(8.0, 2 * scenario.sensor.poll_interval_s + 4)};
  run.expect = scenario.expect;
  auto made = MakeResultsDir(opts.out_dir, run.run_id);
  if (!made.ok()) return made.error();
  const std::string dir = *made;

  CleanupRegistry cleanup;
  std::string work = "/tmp/sandwatch-run-" + run.run_id + "-XXXXXX";
  if (mkdtemp(work.data()) == nullptr) return MakeError("cannot create a scratch dir", errno);
  if (!opts.keep) {
    // Not through the (possibly injected) runner: the scratch dir is ours to remove.
    cleanup.Add("scratch dir " + work, [work] { RemoveTreeOneFilesystem(work); });
  }
  std::vector<Cell> cells = ExpandCells(scenario);
  Progress progress(clock, static_cast<int>(cells.size()), opts.quiet);
  RunContext ctx;
  ctx.scenario = &scenario;
  ctx.run_id = run.run_id;
  ctx.out_dir = dir;
  ctx.work_dir = work;
  ctx.tools.bin_dir = ResolveBinDir(opts.bin_dir);
  ctx.runner = &runner;
  ctx.cleanup = &cleanup;
  ctx.progress = &progress;
  ctx.clock = &clock;
  ctx.keep = opts.keep;
  ctx.falco_path = opts.falco_path.empty() ? scenario.falco.path : opts.falco_path;
  ctx.falco_external = opts.falco_external || scenario.falco.external;
  SW_LOG(kInfo, "harness", "run starting", {"run_id", run.run_id}, {"out", dir},
         {"cells", std::to_string(cells.size())}, {"bin_dir", ctx.tools.bin_dir});

  if (auto st = (*backend)->Prepare(ctx); !st.ok()) {
    cleanup.RunAll();
    return MakeError("prepare: " + st.error().message);
  }
  std::string abort_reason = RunCells(
      progress, cells.size(), [&](size_t i) { return cells[i].Id(); },
      [&](size_t i) -> CellStep {
        auto outcome = (*backend)->RunCell(ctx, cells[i]);
        if (!outcome.ok()) return {CellEnd::kStop, outcome.error().message};
        run.cells.push_back(std::move(*outcome));
        return {run.cells.back().ok ? CellEnd::kOk : CellEnd::kFailed, ""};
      });
  (*backend)->Finish(ctx);
  ReceiverClient client((*backend)->ReceiverUrl());
  auto fetched = client.FetchAll();
  if (fetched.ok()) {
    run.events = std::move(fetched->events);
    run.raw_events = std::move(fetched->raw);
  } else if (abort_reason.empty()) {
    abort_reason = "fetching events: " + fetched.error().message;
  }
  run.environment = BaseEnvironment(scenario, (*backend)->Environment());
  run.environment["capture_active"] = CaptureActive(run.cells);
  cleanup.RunAll();
  run.finished_wall_ns = clock.WallNs();
  if (auto st = WriteRunData(dir, run); !st.ok()) return st.error();
  auto out = Finalise(dir, run);
  if (!abort_reason.empty()) {
    return MakeError("run stopped (" + abort_reason + "); partial results in " + dir,
                     abort_reason == "interrupted" ? 130 : 1);
  }
  return out;
}

const ScenarioKind& ChainKind() {
  static const Chain kind;
  return kind;
}

}  // namespace sandwatch::harness
