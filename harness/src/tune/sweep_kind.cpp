// The sweep kind: the poll-interval sweep. RunSweep measures the pairs of the grid,
// resumable through OUT/cells.jsonl; the kind adapts it to the orchestrator.
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "proc_sample.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/cleanup.h"
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

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return Trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

nlohmann::json LoadAvg() {
  double a = 0, b = 0, c = 0;
  const std::string text = ReadLoadAvg();
  if (std::sscanf(text.c_str(), "%lf %lf %lf", &a, &b, &c) != 3) return nullptr;
  return {a, b, c};
}

// environment.json of an earlier run of this sweep; {} when there is none (or it is damaged).
nlohmann::json ReadJsonFile(const std::string& path) {
  auto j = nlohmann::json::parse(ReadFileToString(path).value_or(""), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
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

}  // namespace

Result<SweepOutcome> RunSweep(const SweepOptions& in_opts, CommandRunner& runner,
                              const Clock& clock) {
  SweepOptions opts = in_opts;
  if (access(opts.sensor_path.c_str(), X_OK) != 0) {
    return MakeError(
        "sandwatch-sensor not found at " + opts.sensor_path +
        " (build it: cmake --build build --target sandwatch-sensor, or pass --sensor PATH)");
  }
  std::error_code ec;
  const std::string raw_dir = opts.out_dir + "/raw";
  std::filesystem::create_directories(raw_dir, ec);
  if (ec) return MakeError("cannot create " + raw_dir + ": " + ec.message());
  auto built = BuildTrialBinaries(raw_dir);
  if (!built) return built.error();
  // Raw sensor output is large and stays out of git; the reports, cells and trials are kept.
  if (auto st = WriteFileAtomic(opts.out_dir + "/.gitignore", "raw/\n*.tmp\n"); !st)
    return st.error();
  const std::string rules_path = opts.out_dir + "/sweep-rules.yaml";
  if (auto st = WriteFileAtomic(rules_path, SweepRulesYaml()); !st) return st.error();

  const std::string cells_path = opts.out_dir + "/cells.jsonl";
  auto existing = ReadCells(cells_path);
  if (!existing) return existing.error();
  std::set<std::string> done;
  for (const auto& c : *existing) done.insert(c.pair_id);

  const std::string env_path = opts.out_dir + "/environment.json";
  nlohmann::json env = ReadJsonFile(env_path);
  nlohmann::json captures = env.value("captures", nlohmann::json::object());
  const int64_t run_start = clock.MonoNs();
  if (!env.contains("started")) env["started"] = FormatRfc3339(clock.WallNs());
  utsname un{};
  uname(&un);
  CommandSpec ver_spec;
  ver_spec.argv = {opts.sensor_path, "--version"};
  auto ver = runner.Run(ver_spec);
  env["machine"] = {{"nproc", sysconf(_SC_NPROCESSORS_ONLN)},
                    {"model_name", CpuModel()},
                    {"kernel", std::string(un.sysname) + " " + un.release + " " + un.version},
                    {"arch", un.machine},
                    {"hostname", Hostname()}};
  // A resumed sweep keeps the first run's start figures; each run is listed in "runs".
  const nlohmann::json load_now = LoadAvg();
  if (!env.contains("load") || !env["load"].contains("start")) {
    env["load"]["start"] = load_now;
    env["load"]["processes_start"] = CountProcesses(opts.proc_root);
  }
  env["sensor"] = {{"path", opts.sensor_path},
                   {"version", ver.ok() ? Trim(ver->out) : "unknown"},
                   {"mode", opts.plan.mode}};
  env["runtime"] = "host";
  std::string trials_desc;
  for (auto l : opts.plan.lifetimes_ms) {
    trials_desc += (trials_desc.empty() ? "" : ", ") + std::to_string(opts.plan.TrialsFor(l)) +
                   " at " + std::to_string(l) + " ms";
  }
  env["settings"] = {
      {"trial_program",
       "a static and a dynamic build of one small C program (raw/trial.c), copied into a new "
       "directory under " +
           opts.drop_parent + " after each sensor started"},
      {"binaries", opts.plan.binaries},
      {"vantages", opts.plan.vantages},
      {"trials", trials_desc},
      {"window_s", opts.plan.window_s},
      {"window_note", FormatSeconds(opts.plan.window_s) + " s (rounded up to whole intervals)"},
      {"idle_s", opts.plan.idle_s},
      {"max_in_flight", opts.plan.max_in_flight},
      {"lifetimes_ms", opts.plan.lifetimes_ms},
      {"poll_intervals_s", opts.plan.intervals_s},
      {"captures", opts.plan.captures},
      {"sensor_argv", SensorArgv(opts, PairKey{"privileged", "CAPTURE", 0}, "P", "sweep-rules.yaml",
                                 "raw/PAIR.events.jsonl")},
      {"unprivileged_sensor_argv", SensorArgv(opts, PairKey{"unprivileged", "CAPTURE", 0}, "P",
                                              "sweep-rules.yaml", "raw/PAIR.events.jsonl")}};

  std::mt19937_64 rng(opts.plan.seed != 0 ? opts.plan.seed : std::random_device{}());
  std::array<char, 16> sid{};
  std::snprintf(sid.data(), sid.size(), "%08x", static_cast<unsigned>(rng() & 0xffffffffu));
  PairContext ctx{&opts, &runner, &clock, sid.data(), rules_path, raw_dir, &rng, &*built};

  std::vector<PairKey> todo;
  SweepOutcome outcome;
  outcome.out_dir = opts.out_dir;
  for (const auto& v : opts.plan.vantages) {
    for (const auto& cap : opts.plan.captures) {
      for (double p : opts.plan.intervals_s) {
        if (done.count(PairId({v, cap, p})) != 0) {
          ++outcome.pairs_resumed;
        } else {
          todo.push_back({v, cap, p});
        }
      }
    }
  }
  if (!opts.quiet && outcome.pairs_resumed > 0) {
    std::fprintf(stderr, "[tune] resuming %s: %d pairs already measured, %zu to go\n",
                 opts.out_dir.c_str(), outcome.pairs_resumed, todo.size());
  }
  Progress progress(clock, static_cast<int>(todo.size()), opts.quiet);
  const size_t cells_per_pair = opts.plan.lifetimes_ms.size();
  // environment.json's captures map: "inotify", or "inotify (unprivileged)"
  auto capture_name = [](const PairKey& key) {
    return key.capture + (key.vantage == "unprivileged" ? " (" + key.vantage + ")" : "");
  };
  Status written = OkStatus();
  const std::string stop = RunCells(
      progress, todo.size(),
      [&](size_t i) {
        const std::string cap = capture_name(todo[i]);
        if (captures.contains(cap) && captures[cap].value("status", "") == "refused")
          return std::string();
        return cap + " P=" + FormatSeconds(todo[i].interval_s) + "s (" +
               std::to_string(cells_per_pair) + " lifetimes x " +
               std::to_string(opts.plan.binaries.size()) + " binaries)";
      },
      [&](size_t i) -> CellStep {
        const PairKey& key = todo[i];
        const std::string cap = capture_name(key);
        PairResult r =
            RunPair(ctx, key, static_cast<int>(i + static_cast<size_t>(outcome.pairs_resumed)));
        CellEnd end = CellEnd::kFailed;
        if (r.status == PairResult::Status::kMeasured) {
          written = AppendCells(cells_path, r.cells);
          if (written) written = AppendTrials(opts.out_dir + "/ground-truth.jsonl", r, key);
          if (!written) return {CellEnd::kStop, "write"};
          if (!captures.contains(cap) || captures[cap].value("status", "") != "failed") {
            captures[cap] = {{"status", "measured"},
                             {"detail", "sensor reported capture " +
                                            (r.cells.empty() ? std::string("?")
                                                             : r.cells.front().sensor_capture)}};
          }
          ++outcome.pairs_run;
          end = CellEnd::kOk;
        } else if (r.status == PairResult::Status::kRefused) {
          captures[cap] = {{"status", "refused"}, {"detail", r.reason}};
          outcome.refused[cap] = r.reason;
          if (!opts.quiet)
            std::fprintf(stderr, "[tune] capture %s refused: %s\n", cap.c_str(), r.reason.c_str());
        } else if (r.status == PairResult::Status::kFailed) {
          captures[cap] = {{"status", "failed"}, {"detail", PairId(key) + ": " + r.reason}};
          if (!opts.quiet)
            std::fprintf(stderr, "[tune] pair %s failed: %s\n", PairId(key).c_str(),
                         r.reason.c_str());
        } else {
          end = CellEnd::kStop;
        }
        env["captures"] = captures;
        return {end, end == CellEnd::kStop ? "interrupted" : ""};
      });
  if (!written) return written.error();
  const bool interrupted = !stop.empty();
  env["load"]["end"] = LoadAvg();
  env["load"]["processes_end"] = CountProcesses(opts.proc_root);
  const double took = static_cast<double>(clock.MonoNs() - run_start) / 1e9;
  env["duration_s"] = std::round(env.value("duration_s", 0.0) + took);
  // One entry per invocation, so a resumed sweep says which pairs ran when.
  nlohmann::json run_entry = {{"finished", FormatRfc3339(clock.WallNs())},
                              {"duration_s", std::round(took)},
                              {"pairs_run", outcome.pairs_run},
                              {"pairs_resumed", outcome.pairs_resumed},
                              {"load_start", load_now},
                              {"load_end", env["load"]["end"]}};
  if (!env.contains("runs") || !env["runs"].is_array()) env["runs"] = nlohmann::json::array();
  env["runs"].push_back(run_entry);
  env["captures"] = captures;
  if (auto st = WriteFileAtomic(env_path, env.dump(2) + "\n"); !st) return st.error();
  if (interrupted) {
    return MakeError("interrupted; finished pairs are kept in " + cells_path +
                     ", rerun with the same --out to continue");
  }
  auto all = ReadCells(cells_path);
  if (!all) return all.error();
  outcome.cells = std::move(*all);
  if (outcome.cells.empty()) return MakeError("no pair could be measured; see " + env_path);
  SweepReportInput report{DisplayFolder(opts.out_dir), outcome.cells, env};
  if (auto st = WriteSweepReport(opts.out_dir, report); !st) return st.error();
  return outcome;
}

namespace {

class Sweep : public ScenarioKind {
 public:
  std::string_view Name() const override { return "sweep"; }

  Result<RunOutcome> Run(const KindRun& run) const override {
    const RunOptions& o = run.opts;
    auto plan = ParseSweepPlan(run.text, o.scenario_path);
    if (!plan) return MakeError(plan.error().message, 2);
    auto dir = MakeResultsDir(o.out_dir, plan->name + "-" + UtcStamp(run.clock.WallNs(), false));
    if (!dir) return dir.error();
    const SweepOptions so{.plan = *plan,
                          .out_dir = *dir,
                          .sensor_path = o.sensor_path.empty()
                                             ? ResolveBinDir(o.bin_dir) + "/sandwatch-sensor"
                                             : o.sensor_path,
                          .quiet = o.quiet};
    auto out = RunSweep(so, run.runner, run.clock);
    if (!out) return out.error();
    for (const auto& [cap, why] : out->refused) {
      std::fprintf(stderr, "[tune] %s refused by the sensor: %s\n", cap.c_str(), why.c_str());
    }
    std::fprintf(stderr, "[tune] %d pairs measured, %d resumed; results: %s\n", out->pairs_run,
                 out->pairs_resumed, out->out_dir.c_str());
    auto answer = Recommend(out->cells, TuneQuery{}, DisplayFolder(out->out_dir));
    if (!answer) return answer.error();
    RunOutcome res;
    res.out_dir = out->out_dir;
    res.all_cells_ok = true;
    res.terminal = answer->sentence + "\n";
    return res;
  }

  bool WroteFolder(const std::string& dir) const override {
    return std::filesystem::exists(dir + "/cells.jsonl") &&
           !std::filesystem::exists(dir + "/events.jsonl");
  }

  Result<RunOutcome> Rerender(const std::string& dir) const override {
    if (auto st = RerenderSweep(dir); !st) return st.error();
    RunOutcome res;
    res.out_dir = dir;
    res.all_cells_ok = true;
    res.terminal = "results: " + dir + "\n";
    return res;
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
