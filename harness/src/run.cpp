// The orchestrator: scenario -> backend cells -> receiver events -> scorer -> results.
#include "sandwatch/harness/run.h"

#include <ftw.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/scenario.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;

namespace {

std::string CompactUtc(int64_t wall_ns) {
  std::time_t t = static_cast<std::time_t>(wall_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// rm -rf that never crosses into another filesystem (FTW_MOUNT), so a mount a failed
// cleanup step left behind (an overlay of the cached rootfs) is never emptied.
int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  if (type == FTW_DP) {
    ::rmdir(path);  // fails (and stays) when something could not be removed below it
  } else {
    ::unlink(path);
  }
  return 0;
}

void RemoveTreeOneFilesystem(const std::string& dir) {
  ::nftw(dir.c_str(), RemoveEntry, 32, FTW_DEPTH | FTW_MOUNT | FTW_PHYS);
}

ScoreOptions ScoreOptionsFor(const Scenario& s) {
  ScoreOptions o;
  o.poll_interval_s = s.sensor.poll_interval_s;
  o.grace_s = std::max(8.0, 2 * s.sensor.poll_interval_s + 4);
  return o;
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
  out.finding_applicable = verdict.applicable;
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
  return out;
}

}  // namespace

Result<Scenario> LoadRunScenario(const RunOptions& opts) {
  auto loaded = LoadScenario(opts.scenario_path);
  if (!loaded.ok()) return MakeError(loaded.error().message, 2);
  Scenario scenario = std::move(*loaded);
  if (!opts.runtimes.empty()) {
    for (const auto& r : opts.runtimes) {
      if (std::find(scenario.runtimes.begin(), scenario.runtimes.end(), r) ==
          scenario.runtimes.end()) {
        return MakeError("--runtimes: '" + r + "' is not a runtime of " + scenario.path, 2);
      }
    }
    scenario.runtimes = opts.runtimes;
  }
  return scenario;
}

Result<RunOutcome> RunScenario(const RunOptions& opts, BackendRegistry& backends,
                               CommandRunner& runner) {
  auto loaded = LoadRunScenario(opts);
  if (!loaded.ok()) return loaded.error();
  Scenario scenario = std::move(*loaded);
  auto backend = backends.Create(opts.backend, runner);
  if (!backend.ok()) return MakeError("--backend: " + backend.error().message, 2);

  const Clock& clock = SystemClock();
  RunRecord run;
  run.started_wall_ns = clock.WallNs();
  run.run_id = scenario.name + "-" + CompactUtc(run.started_wall_ns);
  run.scenario = scenario.name;
  run.scenario_path = scenario.path;
  run.description = scenario.description;
  run.backend = opts.backend;
  run.score_options = ScoreOptionsFor(scenario);
  run.expect = scenario.expect;
  std::string dir =
      opts.out_dir.empty() ? ResolveSourceDir() + "/results/" + run.run_id : opts.out_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return MakeError("--out: cannot create " + dir + ": " + ec.message(), 2);
  dir = fs::absolute(dir).string();

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
  ctx.keep = opts.keep;
  ctx.falco_path = opts.falco_path.empty() ? scenario.falco.path : opts.falco_path;
  ctx.falco_external = opts.falco_external || scenario.falco.external;
  SW_LOG(kInfo, "harness", "run starting", {"run_id", run.run_id}, {"out", dir},
         {"cells", std::to_string(cells.size())}, {"bin_dir", ctx.tools.bin_dir});

  if (auto st = (*backend)->Prepare(ctx); !st.ok()) {
    cleanup.RunAll();
    return MakeError("prepare: " + st.error().message);
  }
  std::string abort_reason;
  for (const auto& cell : cells) {
    if (Interrupted()) {
      abort_reason = "interrupted";
      break;
    }
    progress.BeginCell(cell.index, cell.Id());
    auto outcome = (*backend)->RunCell(ctx, cell);
    if (!outcome.ok()) {
      progress.EndCell(cell.index, false);
      abort_reason = outcome.error().message;
      break;
    }
    progress.EndCell(cell.index, outcome->ok);
    run.cells.push_back(std::move(*outcome));
  }
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
  // What each observer really captured with, per cell (from the sensors' heartbeats).
  nlohmann::json active = nlohmann::json::object();
  for (const auto& c : run.cells) {
    for (const auto& b : c.observers) {
      std::string v;
      for (const auto& x : b.capture_active) v += (v.empty() ? "" : ",") + x;
      active[c.cell.Id()][b.observer] =
          b.available ? (v.empty() ? "unknown (no heartbeat)" : v) : "absent: " + b.reason;
    }
  }
  run.environment["capture_active"] = active;
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

Result<RunOutcome> RerenderReport(const std::string& dir) {
  auto run = ReadRunData(dir);
  if (!run.ok()) return run.error();
  return Finalise(dir, *run);
}

}  // namespace sandwatch::harness
