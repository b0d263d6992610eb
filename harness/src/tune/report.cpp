// report.md, report.html and summary.json for a poll-interval sweep.
#include "sandwatch/harness/tune/report.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "sandwatch/core/files.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/report/doc.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness::tune {
namespace {

std::string Str(const nlohmann::json& j, const std::string& ptr) {
  try {
    const auto& v = j.at(nlohmann::json::json_pointer(ptr));
    return v.is_string() ? v.get<std::string>() : v.dump();
  } catch (const nlohmann::json::exception&) {
    return "?";
  }
}

std::string OptMs(const std::optional<double>& v) { return v ? Fixed(*v, 1) : "-"; }

std::vector<std::string> Captures(const std::vector<SweepCell>& cells) {
  std::vector<std::string> out;
  for (const auto& c : cells) {
    if (std::find(out.begin(), out.end(), c.capture) == out.end()) out.push_back(c.capture);
  }
  std::stable_partition(out.begin(), out.end(), [](const std::string& c) { return c == "poll"; });
  return out;
}

std::string Answer(const Recommendation& r) {
  if (r.poll_interval_s)
    return "POLL_INTERVAL=" + FormatSeconds(*r.poll_interval_s) +
           (r.interpolated ? " (model)" : "");
  if (r.capture) return "--capture " + *r.capture + " (polling cannot)";
  return "nothing measured meets it";
}

// A sentence when the 1-minute load at the start exceeded the CPU count.
std::string BusyNote(const nlohmann::json& env) {
  try {
    const double load = env.at("load").at("start").at(0).get<double>();
    const double cpus = env.at("machine").at("nproc").get<double>();
    if (cpus > 0 && load > cpus) {
      return " The machine was busy (load above its CPU count): scans and trial starts competed "
             "for CPU, which the per-cell load1 and processes columns show.";
    }
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

// Detection of the static and the dynamic binary side by side, per vantage, capture,
// interval and lifetime.
std::vector<report::Row> BinarySplitRows(const std::vector<SweepCell>& cells) {
  std::vector<report::Row> rows;
  std::map<std::vector<std::string>, size_t> row_of;  // (vantage, capture, P, L) -> its row
  for (const auto& c : cells) {
    if (c.binary != "static" && c.binary != "dynamic") continue;
    const std::vector<std::string> head = {c.vantage.empty() ? "privileged" : c.vantage, c.capture,
                                           FormatSeconds(c.poll_interval_s),
                                           std::to_string(c.lifetime_ms)};
    auto [it, fresh] = row_of.emplace(head, rows.size());
    if (fresh) rows.push_back({head[0], head[1], head[2], head[3], "-", "-"});
    const Proportion r = c.Rate();
    rows[it->second][c.binary == "static" ? 4 : 5] =
        std::to_string(c.detected) + "/" + std::to_string(c.trials) + " (" + Percent(r.p) + ")";
  }
  return rows;
}

// The recommendation for common targets: miss {1, 5, 10} % x lifetimes
// {10, 100, 500, 1000, 2000} ms within `cpu_budget`.
std::vector<Recommendation> RecommendationTable(const std::vector<SweepCell>& cells,
                                                const std::string& folder, double cpu_budget) {
  std::vector<Recommendation> rows;
  for (double miss : {0.01, 0.05, 0.10}) {
    for (double l : {10.0, 100.0, 500.0, 1000.0, 2000.0}) {
      auto r = Recommend(cells, TuneQuery{miss, l, cpu_budget}, folder);
      if (r.ok()) rows.push_back(std::move(*r));
    }
  }
  return rows;
}

}  // namespace

report::Doc SweepDoc(const SweepReportInput& in) {
  report::Doc d;
  const auto& env = in.environment;
  d.Heading(1, "Poll-interval sweep: " + in.folder);
  d.Para("Machine: " + Str(env, "/machine/model_name") + ", " + Str(env, "/machine/nproc") +
         " CPUs, kernel " + Str(env, "/machine/kernel") + ", host " +
         Str(env, "/machine/hostname") + ". Run started " + Str(env, "/started") + " and took " +
         Str(env, "/duration_s") + " s. Load average at start " + Str(env, "/load/start") +
         ", at end " + Str(env, "/load/end") + " with " + Str(env, "/load/processes_start") +
         " processes on the machine." + BusyNote(env));
  if (env.contains("runs") && env["runs"].is_array() && env["runs"].size() > 1) {
    std::string runs;
    for (const auto& r : env["runs"]) {
      runs += (runs.empty() ? "" : "; ") + Str(r, "/finished") + ": " + Str(r, "/pairs_run") +
              " pairs measured (" + Str(r, "/pairs_resumed") + " kept from before), load " +
              Str(r, "/load_start");
    }
    d.Para("The sweep was resumed; runs: " + runs + ".");
  }
  d.Para("Runtime host: every trial is a real process (" + Str(env, "/settings/trial_program") +
         " with a unique marker as argv[0]) started at a uniformly random moment of a " +
         Str(env, "/settings/window_note") +
         " window, so its phase against the scan clock is random. One sensor process per "
         "(capture, interval) pair watches all lifetimes at once; a trial counts as detected when "
         "the sensor emitted an event whose cmdline carries its marker. Trials per lifetime: " +
         Str(env, "/settings/trials") + ". Intervals are 95% Wilson score intervals.");

  d.Heading(2, "Answer for a typical target (5% miss, 500 ms, 1% of a core)");
  d.Code("sandwatch-harness tune --target-miss 0.05 --min-lifetime-ms 500 --cpu-budget 0.01");
  auto ex = Recommend(in.cells, TuneQuery{0.05, 500, 0.01}, in.folder);
  d.Para(ex.ok() ? ex->sentence : ex.error().message);

  // Charts and the model check read one cell per (capture, P, L); the split follows.
  const std::vector<SweepCell> view = PrimaryCells(in.cells);
  const auto caps = Captures(view);
  d.Heading(2, "Miss-rate curves");
  d.Para(
      "Solid lines: measured miss rate per poll interval with 95% Wilson whiskers. Dashed: the "
      "polling model 1 - min(1, (L + s)/P) with s the measured scan duration. A ring marks a cell "
      "where the model lies outside the measured interval. For event-driven sources the dashed "
      "line is what pure polling at the same P would have missed.");
  for (const auto& c : caps)
    d.Chart("Miss rate vs lifetime, " + c, "miss-" + c + ".svg", MissCurvesSvg(view, c));
  d.Heading(2, "Detection heatmaps");
  for (const auto& c : caps)
    d.Chart("Detection, lifetime x interval, " + c, "heatmap-" + c + ".svg", HeatmapSvg(view, c));
  d.Heading(2, "CPU cost");
  d.Para(
      "Idle: sensor CPU with no trials running, from /proc/PID/schedstat (ns precision). Under "
      "load: while the trials ran (several new processes a second to enrich). /proc/PID/stat "
      "utime+stime is recorded per cell too (stat_cpu_s_per_min, 10 ms ticks). The recommendation "
      "uses the idle cost.");
  d.Chart("Sensor CPU vs poll interval", "cpu.svg", CpuSvg(view));

  d.Heading(2, "Recommendations for common targets (CPU budget 1% of a core)");
  d.Para(
      "A target is met only when the upper end of the miss's Wilson 95% interval is at or "
      "below it: with 100 trials and no miss the bound is 3.7%, so a 1% target needs more "
      "trials than this sweep has.");
  std::vector<report::Row> rows;
  for (const auto& a : RecommendationTable(in.cells, in.folder, 0.01)) {
    std::string basis;
    for (const auto& c : a.basis) basis += (basis.empty() ? "" : "; ") + c.Label();
    rows.push_back({Percent(a.query.target_miss), Fixed(a.query.min_lifetime_ms, 0) + " ms",
                    Answer(a),
                    a.met ? Percent(a.expected_miss) + " (" + Percent(a.miss_upper) + ")" : "-",
                    a.met ? Percent(a.cpu_fraction) : "-", basis});
  }
  d.Table({"target miss", "min lifetime", "answer", "expected miss (95% upper bound)",
           "CPU (% core)", "rests on"},
          std::move(rows));

  d.Heading(2, "Model against measurement");
  int flagged = 0;
  for (const auto& c : view) {
    if (!c.Disagrees()) continue;
    ++flagged;
    const Proportion r = c.Rate();
    const bool below = c.model > r.hi;
    d.Para(c.Label() + ": measured " + Percent(r.p) + " [" + Percent(r.lo) + ", " + Percent(r.hi) +
           "], model " + Percent(c.model) + " (L measured " + Fixed(c.mean_lifetime_ms, 1) +
           " ms, s " + Fixed(c.scan_s * 1000, 2) + " ms). " +
           (below ? "The sensor catches fewer than scan timing explains: scans late or skipped "
                    "under load (scan jitter), or the process was gone before its cmdline was "
                    "read (slow enrichment; cmdline_unreadable=" +
                        std::to_string(c.cmdline_unreadable) + " for this sensor)."
                  : "The sensor catches more than a strict every-P scan would: scans more often "
                    "than P, or trials lived longer than the measured mean suggests."));
  }
  if (flagged == 0) d.Para("Every poll cell agrees with the model within its 95% interval.");

  if (view.size() != in.cells.size()) {
    d.Heading(2, "Static and dynamic binaries, by vantage");
    d.Para(
        "Charts and recommendations above use, for each capture, the least privileged vantage "
        "it ran in and the static binary. A dynamic binary opens ld.so.cache and its libraries "
        "after the exec, while it is alive, which gives an inotify watcher a trigger a static "
        "one does not.");
    d.Table({"vantage", "capture", "P (s)", "L (ms)", "static", "dynamic"},
            BinarySplitRows(in.cells));
  }
  d.Heading(2, "All cells");
  rows.clear();
  for (const auto& c : in.cells) {
    const Proportion r = c.Rate();
    rows.push_back({c.capture, c.vantage.empty() ? "privileged" : c.vantage,
                    c.binary.empty() ? "sleep" : c.binary, FormatSeconds(c.poll_interval_s),
                    std::to_string(c.lifetime_ms), Fixed(c.mean_lifetime_ms, 1),
                    std::to_string(c.detected) + "/" + std::to_string(c.trials),
                    Percent(r.p) + " [" + Percent(r.lo) + ", " + Percent(r.hi) + "]",
                    Percent(c.model), c.Disagrees() ? "model outside CI" : "",
                    OptMs(c.latency_p50_ms) + " / " + OptMs(c.latency_p99_ms),
                    Fixed(c.cpu_s_per_min, 3) + " / " + Fixed(c.load_cpu_s_per_min, 3),
                    std::to_string(c.rss_kib), c.load1 >= 0 ? Fixed(c.load1, 1) : "-",
                    c.processes >= 0 ? std::to_string(c.processes) : "-"});
  }
  d.Table({"capture", "vantage", "binary", "P (s)", "L (ms)", "L measured (ms)", "detected",
           "rate [95% CI]", "model", "flag", "latency p50/p99 (ms)", "CPU idle / load (s/min)",
           "RSS (KiB)", "load avg", "processes"},
          std::move(rows));

  rows.clear();
  if (env.contains("captures") && env["captures"].is_object()) {
    for (const auto& [name, v] : env["captures"].items()) {
      rows.push_back({name, Str(v, "/status"), Str(v, "/detail")});
    }
  }
  d.Heading(2, "Capture sources").Table({"capture", "status", "detail"}, std::move(rows));
  d.Para("Re-render with: sandwatch-harness tune --render " + in.folder);
  return d;
}

std::string DisplayFolder(const std::string& dir) {
  std::string p = dir;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto pos = p.rfind("results/");
  return pos == std::string::npos ? p : p.substr(pos);
}

nlohmann::json RenderSummary(const SweepReportInput& in) {
  nlohmann::json sweep = nlohmann::json::array();
  for (const auto& c : in.cells) sweep.push_back(CellToSummaryEntry(c));
  nlohmann::json recs = nlohmann::json::array();
  for (const auto& a : RecommendationTable(in.cells, in.folder, 0.01)) {
    recs.push_back(RecommendationToJson(a));
  }
  return {{"run_id", std::filesystem::path(DisplayFolder(in.folder)).filename().string()},
          {"scenario", "poll-sweep"},
          {"backend", "local"},
          {"runtime", "host"},
          {"coverage", nlohmann::json::array()},
          {"sweep", sweep},
          {"recommendations", recs},
          {"generated_by", std::string("sandwatch-harness ") + Version()}};
}

Status RerenderSweep(const std::string& dir) {
  auto cells = ReadCells(dir + "/cells.jsonl");
  if (!cells) return cells.error();
  if (cells->empty()) return MakeError(dir + "/cells.jsonl: no cells to render");
  SweepReportInput in;
  in.folder = DisplayFolder(dir);
  in.cells = std::move(*cells);
  if (auto env = ReadFileToString(dir + "/environment.json")) {
    try {
      in.environment = nlohmann::json::parse(*env);
    } catch (const nlohmann::json::exception& e) {
      return MakeError(dir + "/environment.json: " + e.what());
    }
  }
  if (auto st = WriteDoc(dir, SweepDoc(in), "sandwatch poll-interval sweep " + in.folder); !st) {
    return st;
  }
  return WriteFileAtomic(dir + "/summary.json", RenderSummary(in).dump(2) + "\n");
}

}  // namespace sandwatch::harness::tune
