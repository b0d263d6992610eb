// `sandwatch-harness tune`: recommend a poll interval from a stored sweep, run a
// sweep (an alias of `run` with a sweep scenario), or re-render one.
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/run.h"
#include "sandwatch/harness/tune/recommend.h"
#include "sandwatch/harness/tune/report.h"
#include "sandwatch/harness/vantage.h"

namespace sandwatch::harness {
namespace {

struct TuneFlags {
  std::string sweep_dir;
  tune::TuneQuery query;
  bool json = false;
  bool run_sweep = false;
  std::string render_dir;
  std::string results_dir;
  RunOptions run;  // --scenario, --out, --sensor, --bin-dir, --quiet of `tune --sweep`
  std::vector<std::string> captures;
  std::vector<std::string> vantages;
  std::vector<std::string> binaries;
  std::vector<double> intervals;
  std::vector<int64_t> lifetimes;
  int trials = 0;
  double window_s = 0;
  uint64_t seed = 0;
};

[[noreturn]] void Fail(const std::string& what, int code = 1) { FailCommand("tune", what, code); }

// The answer from `dir` (empty: the newest sweep under --results-dir).
void Recommend(const TuneFlags& f, std::string dir) {
  if (dir.empty()) {
    const std::string results =
        f.results_dir.empty() ? ResolveSourceDir() + "/results" : f.results_dir;
    dir = NewestPollSweep(results);
    if (dir.empty()) {
      Fail("no results/poll-sweep-*/cells.jsonl under " + results +
           "; run one with `sandwatch-harness tune --sweep` or name a folder");
    }
  }
  auto cells = tune::ReadCells(dir + "/cells.jsonl");
  if (!cells) Fail(cells.error().message);
  auto r = tune::Recommend(*cells, f.query, tune::DisplayFolder(dir));
  if (!r) Fail(r.error().message);
  const std::string answer = f.json ? tune::RecommendationToJson(*r).dump(2) : r->sentence;
  std::printf("%s\n", answer.c_str());
}

// The sweep scenario `tune --sweep` runs: the file (or an empty sweep) with the
// flags' overrides.
Result<std::string> SweepScenario(const std::string& path, const TuneFlags& f) {
  YAML::Node root;
  try {
    root = path.empty() ? YAML::Load("name: poll-sweep\nsweep: {}") : YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return MakeError(path + ": " + e.what());
  }
  if (!root.IsMap() || !root["sweep"].IsMap()) {
    return MakeError(path + ": no `sweep:` map (see docs/tuning.md)");
  }
  root["kind"] = "sweep";
  YAML::Node s = root["sweep"];
  if (!f.captures.empty()) s["captures"] = f.captures;
  if (!f.vantages.empty()) s["vantages"] = f.vantages;
  if (!f.binaries.empty()) s["binaries"] = f.binaries;
  if (!f.intervals.empty()) s["poll_intervals_s"] = f.intervals;
  if (!f.lifetimes.empty()) s["lifetimes_ms"] = f.lifetimes;
  if (f.trials > 0) {
    s["trials"] = f.trials;
    s["trials_for_lifetime"] = YAML::Node(YAML::NodeType::Map);
  }
  if (f.window_s > 0) s["window_s"] = f.window_s;
  if (f.seed != 0) s["seed"] = f.seed;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str());
}

// `tune --sweep`: that scenario through the orchestrator (as `run` would); the folder it
// wrote, which the answer to this query is read from.
std::string RunSweep(const TuneFlags& f) {
  RunOptions o = f.run;
  const std::string shipped = ResolveSourceDir() + "/scenarios/poll-sweep.yaml";
  if (o.scenario_path.empty() && std::filesystem::exists(shipped)) o.scenario_path = shipped;
  auto text = SweepScenario(o.scenario_path, f);
  if (!text) Fail(text.error().message, 2);
  o.scenario_text = *text;
  auto runner = MakeProcessRunner();
  auto out = RunScenario(o, DefaultBackends(), *runner, SystemClock());
  if (!out) Fail(out.error().message, out.error().code == 2 ? 2 : 1);
  return out->out_dir;
}

}  // namespace

void RegisterTuneCommand(CLI::App& app) {
  auto f = std::make_shared<TuneFlags>();
  auto* sub = app.add_subcommand(
      "tune",
      R"help(Recommend a POLL_INTERVAL from a measured sweep: the largest interval that meets a
miss target for processes of a given lifetime within a CPU budget (the polling model
min(1, (L+s)/P) fills in between measured cells), or the capture source that can
when polling cannot. Without a folder it reads the newest results/poll-sweep-*.
Examples:
  sandwatch-harness tune --target-miss 0.05 --min-lifetime-ms 500 --cpu-budget 0.01
  sandwatch-harness tune results/poll-sweep-2026-11-28 --min-lifetime-ms 10 --json
  sandwatch-harness tune --sweep                      # measure (about 11 min), then answer
  sandwatch-harness tune --sweep --captures poll --intervals 0.5,2 --trials 20
  sandwatch-harness tune --render results/poll-sweep-2026-11-28
A sweep interrupted with Ctrl-C continues when rerun with the same --out.)help");
  sub->add_option("sweep_dir", f->sweep_dir, "a results/poll-sweep-* folder (default: the newest)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--target-miss", f->query.target_miss, "acceptable miss rate, 0 <= x < 1")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.999999));
  sub->add_option("--min-lifetime-ms", f->query.min_lifetime_ms,
                  "shortest process lifetime that must be caught (ms, > 0)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--cpu-budget", f->query.cpu_budget,
                  "sensor CPU allowed, as a fraction of one core (0.01 = 1%)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 64.0));
  sub->add_flag("--json", f->json, "print JSON for scripts instead of a sentence");
  sub->add_option("--results-dir", f->results_dir,
                  "where to look for poll-sweep-* (default: results/)");
  sub->add_flag("--sweep", f->run_sweep, "run (or resume) a sweep on this machine first");
  sub->add_option("--render", f->render_dir, "re-render a sweep folder's reports and exit")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--scenario", f->run.scenario_path,
                  "sweep scenario (default scenarios/poll-sweep.yaml)")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", f->run.out_dir, "sweep folder (default results/poll-sweep-<UTC date>)");
  sub->add_option("--sensor", f->run.sensor_path,
                  "sandwatch-sensor binary (default: next to this one)");
  sub->add_option("--bin-dir", f->run.bin_dir, "directory of our binaries");
  sub->add_option("--captures", f->captures, "only these captures (poll,inotify,fanotify,netlink)")
      ->delimiter(',')
      ->check(CLI::IsMember({"poll", "inotify", "fanotify", "netlink"}));
  sub->add_option("--vantages", f->vantages, "only these vantages (privileged,unprivileged)")
      ->delimiter(',')
      ->check(CLI::IsMember({"privileged", "unprivileged"}));
  sub->add_option("--binaries", f->binaries, "only these trial binaries (static,dynamic)")
      ->delimiter(',')
      ->check(CLI::IsMember({"static", "dynamic"}));
  sub->add_option("--intervals", f->intervals, "poll intervals in seconds, e.g. 0.5,2")
      ->delimiter(',')
      ->check(CLI::Range(0.01, 3600.0));
  sub->add_option("--lifetimes", f->lifetimes, "trial lifetimes in ms, e.g. 10,1000")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{600000}));
  sub->add_option("--trials", f->trials, "trials per lifetime (overrides the scenario)")
      ->check(CLI::Range(1, 10000));
  sub->add_option("--window-s", f->window_s, "spread trial starts over this many seconds")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--seed", f->seed, "random seed for trial phases (0: random)");
  sub->add_flag("--quiet", f->run.quiet, "no progress lines");
  sub->callback([f] {
    if (!f->render_dir.empty()) {
      auto out = SweepKind().Rerender(f->render_dir);
      if (!out) Fail(out.error().message);
      std::fputs(out->terminal.c_str(), stdout);
      return;
    }
    Recommend(*f, f->run_sweep ? RunSweep(*f) : f->sweep_dir);
  });
}

}  // namespace sandwatch::harness
