// The sweep kind: the poll-interval sweep (host runtime). For each (vantage, capture,
// interval) pair one sensor process watches trial processes of every lifetime, started
// at random phases (sweep_pair.cpp). Finished pairs are appended to OUT/cells.jsonl,
// so a rerun with the same --out continues where an interrupted one stopped; Ctrl-C
// stops it cleanly.
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/procfs/usage.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/run.h"
#include "sandwatch/harness/tune/recommend.h"
#include "sandwatch/harness/tune/report.h"
#include "sandwatch/harness/tune/sweep.h"
#include "sweep_pair.h"

namespace sandwatch::harness::tune {
namespace {

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n\v\f\r");
  return first == std::string::npos
             ? ""
             : s.substr(first, s.find_last_not_of(" \t\n\v\f\r") - first + 1);
}

std::string CpuModel(const std::string& proc_root) {
  const std::string info = procfs::ProcFs(proc_root).ReadRootFile("cpuinfo").value_or("");
  for (const std::string& line : SplitLines(info)) {
    const auto colon = line.find(':');
    if (line.rfind("model name", 0) == 0 && colon != std::string::npos) {
      return Trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

nlohmann::json LoadAvg(const std::string& proc_root) {
  const std::vector<double> load = procfs::ReadLoadAverages(procfs::ProcFs(proc_root));
  return load.empty() ? nlohmann::json(nullptr) : nlohmann::json(load);
}

Status AppendTrials(const std::string& path, const PairResult& r, const PairKey& key) {
  std::string text;
  for (const auto& t : r.trials) {
    if (!t.started) continue;
    nlohmann::json j = {{"tag", t.spec.tag},
                        {"capture", key.capture},
                        {"vantage", key.vantage},
                        {"binary", std::filesystem::path(t.spec.program).filename().string()},
                        {"poll_interval_s", key.interval_s},
                        {"lifetime_ms", t.spec.lifetime_ms},
                        {"pid", t.pid},
                        {"start_wall_ns", t.start_wall_ns},
                        {"start_mono_ns", t.start_mono_ns},
                        {"end_mono_ns", t.end_mono_ns},
                        {"lived_ms", t.LifetimeMs()},
                        {"delayed", t.delayed},
                        {"detected", t.event_wall_ns != 0},
                        {"event_wall_ns", t.event_wall_ns}};
    if (t.event_wall_ns != 0)
      j["latency_ms"] = static_cast<double>(t.event_wall_ns - t.start_wall_ns) / 1e6;
    text += j.dump() + "\n";
  }
  return AppendSynced(path, text);
}

// environment.json's facts about this machine, the sensor and the sweep's settings,
// over what an earlier run of this folder recorded. A resumed sweep keeps the first
// run's start figures.
void DescribeRun(const PairContext& ctx, const nlohmann::json& load_now, nlohmann::json& env) {
  const SweepPlan& plan = *ctx.plan;
  if (!env.contains("started")) env["started"] = FormatRfc3339(ctx.clock->WallNs());
  utsname un{};
  uname(&un);
  CommandSpec ver_spec;
  ver_spec.argv = {ctx.sensor_path, "--version"};
  auto ver = ctx.runner->Run(ver_spec);
  env["machine"] = {{"nproc", sysconf(_SC_NPROCESSORS_ONLN)},
                    {"model_name", CpuModel(ctx.proc_root)},
                    {"kernel", std::string(un.sysname) + " " + un.release + " " + un.version},
                    {"arch", un.machine},
                    {"hostname", Hostname()}};
  if (!env.contains("load") || !env["load"].contains("start")) {
    env["load"]["start"] = load_now;
    env["load"]["processes_start"] = CountProcesses(ctx.proc_root);
  }
  env["sensor"] = {{"path", ctx.sensor_path},
                   {"version", ver.ok() ? Trim(ver->out) : "unknown"},
                   {"mode", plan.mode}};
  env["runtime"] = "host";
  std::vector<std::string> trials_at;
  for (auto l : plan.lifetimes_ms) {
    trials_at.push_back(std::to_string(plan.TrialsFor(l)) + " at " + std::to_string(l) + " ms");
  }
  env["settings"] = {
      {"trial_program",
       "a static and a dynamic build of one small C program (raw/trial.c), copied into a new "
       "directory under " +
           ctx.drop_parent + " after each sensor started"},
      {"binaries", plan.binaries},
      {"vantages", plan.vantages},
      {"trials", Join(trials_at, ", ")},
      {"window_s", plan.window_s},
      {"window_note", FormatSeconds(plan.window_s) + " s (rounded up to whole intervals)"},
      {"idle_s", plan.idle_s},
      {"max_in_flight", plan.max_in_flight},
      {"lifetimes_ms", plan.lifetimes_ms},
      {"poll_intervals_s", plan.intervals_s},
      {"captures", plan.captures},
      {"sensor_argv", SensorArgv(ctx, PairKey{"privileged", "CAPTURE", 0}, "P", "sweep-rules.yaml",
                                 "raw/PAIR.events.jsonl")},
      {"unprivileged_sensor_argv", SensorArgv(ctx, PairKey{"unprivileged", "CAPTURE", 0}, "P",
                                              "sweep-rules.yaml", "raw/PAIR.events.jsonl")}};
}

// environment.json's captures map: "inotify", or "inotify (unprivileged)"
std::string CaptureName(const PairKey& key) {
  return key.capture + (key.vantage == "unprivileged" ? " (" + key.vantage + ")" : "");
}

struct PairCounts {
  int run = 0;
  int resumed = 0;
  std::map<std::string, std::string> refused;  // capture -> why, in this run
  bool interrupted = false;
};

// Runs the pairs not in cells.jsonl yet, appending each measured one (cells and
// trials) and recording each capture's status in env["captures"]. Errors: the
// stored cells could not be read or a measured pair not written.
Result<PairCounts> RunPairs(const PairContext& ctx, const std::string& out_dir, bool quiet,
                            nlohmann::json& env) {
  const SweepPlan& plan = *ctx.plan;
  const std::string cells_path = out_dir + "/cells.jsonl";
  auto existing = ReadCells(cells_path);
  if (!existing) return existing.error();
  std::set<std::string> done;
  for (const auto& c : *existing) done.insert(c.pair_id);
  PairCounts counts;
  std::vector<PairKey> todo;
  for (const auto& v : plan.vantages) {
    for (const auto& cap : plan.captures) {
      for (double p : plan.intervals_s) {
        if (done.count(PairId({v, cap, p})) != 0) {
          ++counts.resumed;
        } else {
          todo.push_back({v, cap, p});
        }
      }
    }
  }
  if (!quiet && counts.resumed > 0) {
    std::fprintf(stderr, "[tune] resuming %s: %d pairs already measured, %zu to go\n",
                 out_dir.c_str(), counts.resumed, todo.size());
  }
  nlohmann::json captures = env.value("captures", nlohmann::json::object());
  Progress progress(*ctx.clock, static_cast<int>(todo.size()), quiet);
  Status written = OkStatus();
  const std::string stop = RunCells(
      progress, todo.size(),
      [&](size_t i) {
        const std::string cap = CaptureName(todo[i]);
        if (captures.contains(cap) && captures[cap].value("status", "") == "refused")
          return std::string();  // skipped: the sensor refused this capture
        return cap + " P=" + FormatSeconds(todo[i].interval_s) + "s (" +
               std::to_string(plan.lifetimes_ms.size()) + " lifetimes x " +
               std::to_string(plan.binaries.size()) + " binaries)";
      },
      [&](size_t i) -> CellStep {
        const PairKey& key = todo[i];
        const std::string cap = CaptureName(key);
        PairResult r = RunPair(ctx, key, static_cast<int>(i) + counts.resumed);
        if (r.status == PairResult::Status::kInterrupted) return {CellEnd::kStop, "interrupted"};
        if (r.status == PairResult::Status::kMeasured) {
          written = AppendCells(cells_path, r.cells);
          if (written) written = AppendTrials(out_dir + "/ground-truth.jsonl", r, key);
          if (!written) return {CellEnd::kStop, "write"};
          if (!captures.contains(cap) || captures[cap].value("status", "") != "failed") {
            captures[cap] = {{"status", "measured"},
                             {"detail", "sensor reported capture " +
                                            (r.cells.empty() ? std::string("?")
                                                             : r.cells.front().sensor_capture)}};
          }
          ++counts.run;
        } else if (r.status == PairResult::Status::kRefused) {
          captures[cap] = {{"status", "refused"}, {"detail", r.reason}};
          counts.refused[cap] = r.reason;
          if (!quiet)
            std::fprintf(stderr, "[tune] capture %s refused: %s\n", cap.c_str(), r.reason.c_str());
        } else {
          captures[cap] = {{"status", "failed"}, {"detail", PairId(key) + ": " + r.reason}};
          if (!quiet)
            std::fprintf(stderr, "[tune] pair %s failed: %s\n", PairId(key).c_str(),
                         r.reason.c_str());
        }
        env["captures"] = captures;
        return {r.status == PairResult::Status::kMeasured ? CellEnd::kOk : CellEnd::kFailed, ""};
      });
  env["captures"] = captures;
  if (!written) return written.error();
  counts.interrupted = !stop.empty();
  return counts;
}

// Measures the missing pairs into `dir`, then writes environment.json and the reports.
Result<std::vector<SweepCell>> RunSweep(const SweepPlan& plan, const std::string& dir,
                                        const KindRun& run) {
  PairContext ctx{.plan = &plan,
                  .sensor_path = run.opts.sensor_path.empty()
                                     ? ResolveBinDir(run.opts.bin_dir) + "/sandwatch-sensor"
                                     : run.opts.sensor_path,
                  .runner = &run.runner,
                  .clock = &run.clock};
  if (access(ctx.sensor_path.c_str(), X_OK) != 0) {
    return MakeError(
        "sandwatch-sensor not found at " + ctx.sensor_path +
        " (build it: cmake --build build --target sandwatch-sensor, or pass --sensor PATH)");
  }
  std::error_code ec;
  ctx.raw_dir = dir + "/raw";
  std::filesystem::create_directories(ctx.raw_dir, ec);
  if (ec) return MakeError("cannot create " + ctx.raw_dir + ": " + ec.message());
  auto built = BuildTrialBinaries(ctx.raw_dir);
  if (!built) return built.error();
  ctx.built = &*built;
  // Raw sensor output is large and stays out of git; the reports, cells and trials are kept.
  if (auto st = WriteFileAtomic(dir + "/.gitignore", "raw/\n*.tmp\n"); !st) return st.error();
  ctx.rules_path = dir + "/sweep-rules.yaml";
  if (auto st = WriteFileAtomic(ctx.rules_path, SweepRulesYaml()); !st) return st.error();
  std::mt19937_64 rng(plan.seed != 0 ? plan.seed : std::random_device{}());
  ctx.rng = &rng;
  std::array<char, 16> sid{};
  std::snprintf(sid.data(), sid.size(), "%08x", static_cast<unsigned>(rng() & 0xffffffffu));
  ctx.sweep_id = sid.data();

  const std::string env_path = dir + "/environment.json";
  // An earlier run's environment.json, if any (a damaged one starts afresh).
  auto env = nlohmann::json::parse(ReadFileToString(env_path).value_or(""), nullptr, false);
  if (!env.is_object()) env = nlohmann::json::object();
  const int64_t run_start = ctx.clock->MonoNs();
  const nlohmann::json load_now = LoadAvg(ctx.proc_root);
  DescribeRun(ctx, load_now, env);
  auto counts = RunPairs(ctx, dir, run.opts.quiet, env);
  if (!counts) return counts.error();
  env["load"]["end"] = LoadAvg(ctx.proc_root);
  env["load"]["processes_end"] = CountProcesses(ctx.proc_root);
  const double took = static_cast<double>(ctx.clock->MonoNs() - run_start) / 1e9;
  env["duration_s"] = std::round(env.value("duration_s", 0.0) + took);
  // One entry per invocation, so a resumed sweep says which pairs ran when.
  if (!env.contains("runs") || !env["runs"].is_array()) env["runs"] = nlohmann::json::array();
  env["runs"].push_back({{"finished", FormatRfc3339(ctx.clock->WallNs())},
                         {"duration_s", std::round(took)},
                         {"pairs_run", counts->run},
                         {"pairs_resumed", counts->resumed},
                         {"load_start", load_now},
                         {"load_end", env["load"]["end"]}});
  if (auto st = WriteFileAtomic(env_path, env.dump(2) + "\n"); !st) return st.error();
  if (counts->interrupted) {
    return MakeError("interrupted; finished pairs are kept in " + dir +
                     "/cells.jsonl, rerun with the same --out to continue");
  }
  auto cells = ReadCells(dir + "/cells.jsonl");
  if (!cells) return cells.error();
  if (cells->empty()) return MakeError("no pair could be measured; see " + env_path);
  if (auto st = RerenderSweep(dir); !st) return st.error();
  for (const auto& [cap, why] : counts->refused) {
    std::fprintf(stderr, "[tune] %s refused by the sensor: %s\n", cap.c_str(), why.c_str());
  }
  std::fprintf(stderr, "[tune] %d pairs measured, %d resumed; results: %s\n", counts->run,
               counts->resumed, dir.c_str());
  return cells;
}

class Sweep : public ScenarioKind {
 public:
  std::string_view Name() const override { return "sweep"; }

  Result<RunOutcome> Run(const KindRun& run) const override {
    auto plan = ParseSweepPlan(run.text, run.opts.scenario_path);
    if (!plan) return MakeError(plan.error().message, 2);
    auto dir =
        MakeResultsDir(run.opts.out_dir, plan->name + "-" + UtcStamp(run.clock.WallNs(), false));
    if (!dir) return dir.error();
    auto cells = RunSweep(*plan, *dir, run);
    if (!cells) return cells.error();
    auto answer = Recommend(*cells, TuneQuery{}, DisplayFolder(*dir));
    if (!answer) return answer.error();
    return RunOutcome{.out_dir = *dir, .all_cells_ok = true, .terminal = answer->sentence + "\n"};
  }

  bool WroteFolder(const std::string& dir) const override {
    return std::filesystem::exists(dir + "/cells.jsonl") &&
           !std::filesystem::exists(dir + "/events.jsonl");
  }

  Result<RunOutcome> Rerender(const std::string& dir) const override {
    if (auto st = RerenderSweep(dir); !st) return st.error();
    return RunOutcome{.out_dir = dir, .all_cells_ok = true, .terminal = "results: " + dir + "\n"};
  }
};

}  // namespace

}  // namespace sandwatch::harness::tune

namespace sandwatch::harness {

const ScenarioKind& SweepKind() {
  static const tune::Sweep kind;
  return kind;
}

}  // namespace sandwatch::harness
