// results/RUN-ID/ stored data: write and read back (for `harness report`).
#include <filesystem>
#include <functional>
#include <map>

#include "sandwatch/core/files.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;
using nlohmann::json;

// cells.json keys are the field names (found by ADL, so outside the unnamed namespace); a
// key missing on read keeps the struct's default. A cell's line holds its Cell's fields and
// its outcome's, beside its id.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ObserverBinding, observer, source, pod, sensor_mode,
                                                pids_comparable, shared_vantage, available, reason,
                                                label, capture_active, lineage, container_id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ScoreOptions, poll_interval_s, slack_s, grace_s)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunInfo, run_id, scenario, scenario_path,
                                                description, backend, started_wall_ns,
                                                finished_wall_ns, score_options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Cell, index, runtime, speed, variant, repetition)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CellOutcome, ok, error, start_wall_ns, end_wall_ns,
                                                observers, notes)

namespace {

// Runs stored before cells.json carried the matrix: take it from the scenario file
// (the recorded path, else scenarios/NAME.yaml in this source tree; the first with one).
std::vector<Expectation> ExpectFromScenarioFile(const std::string& path, const std::string& name) {
  for (const std::string& p : {path, ResolveSourceDir() + "/scenarios/" + name + ".yaml"}) {
    if (p.empty() || !fs::exists(p)) continue;
    auto s = LoadScenario(p);
    if (s.ok() && s->name == name && !s->expect.empty()) return s->expect;
  }
  return {};
}

}  // namespace

Status WriteRunData(const std::string& dir, const RunRecord& run) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return MakeError("cannot create " + dir + ": " + ec.message());
  std::string events;
  for (const auto& j : run.raw_events) events += j.dump() + "\n";
  if (auto s = WriteFileAtomic(dir + "/events.jsonl", events); !s.ok()) return s;
  std::string gt;
  json meta = static_cast<const RunInfo&>(run);
  meta["expect"] = run.expect;
  meta["cells"] = json::array();
  for (const auto& c : run.cells) {
    for (const auto& s : c.ground_truth) {
      json j = GroundTruthToJson(s);
      j["cell"] = c.cell.Id();
      gt += j.dump() + "\n";
    }
    json cell = c;
    cell.update(c.cell);
    cell["id"] = c.cell.Id();
    meta["cells"].push_back(std::move(cell));
  }
  if (auto s = WriteFileAtomic(dir + "/ground-truth.jsonl", gt); !s.ok()) return s;
  if (auto s = WriteFileAtomic(dir + "/cells.json", meta.dump(2) + "\n"); !s.ok()) return s;
  return WriteFileAtomic(dir + "/environment.json", run.environment.dump(2) + "\n");
}

namespace {
Result<json> ReadJsonFile(const fs::path& p) {
  auto text = ReadFileToString(p.string());
  if (!text.ok()) return text.error();
  try {
    return json::parse(*text);
  } catch (const std::exception& e) {
    return MakeError(p.string() + ": " + e.what());
  }
}

// Calls on_line with each non-blank line of DIR/NAME; an Error names the file and the line.
Status ForEachJsonLine(const std::string& dir, const std::string& name,
                       const std::function<Status(json)>& on_line) {
  auto text = ReadFileToString(dir + "/" + name);
  if (!text.ok()) return text.error();
  int n = 0;
  for (const auto& line : SplitLines(*text)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Status st = OkStatus();
    try {
      st = on_line(json::parse(line));
    } catch (const std::exception& e) {
      st = MakeError(e.what());
    }
    if (!st.ok()) return MakeError(name + ":" + std::to_string(n) + ": " + st.error().message);
  }
  return OkStatus();
}

}  // namespace

Result<RunRecord> ReadRunData(const std::string& dir) {
  RunRecord run;
  auto meta = ReadJsonFile(fs::path(dir) / "cells.json");
  if (!meta.ok()) return meta.error();
  try {
    const json& m = *meta;
    static_cast<RunInfo&>(run) = m.get<RunInfo>();
    if (m.contains("expect")) {
      run.expect = m.at("expect").get<std::vector<Expectation>>();
    } else {
      run.expect = ExpectFromScenarioFile(run.scenario_path, run.scenario);
    }
    for (const auto& c : m.at("cells")) {
      run.cells.push_back(c.get<CellOutcome>());
      run.cells.back().cell = c.get<Cell>();
    }
  } catch (const std::exception& e) {
    return MakeError(dir + "/cells.json: " + e.what());
  }
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < run.cells.size(); ++i) by_id[run.cells[i].cell.Id()] = i;
  Status gt = ForEachJsonLine(dir, "ground-truth.jsonl", [&](const json& j) -> Status {
    auto step = GroundTruthFromJson(j);
    if (!step.ok()) return step.error();
    auto it = by_id.find(j.value("cell", ""));
    if (it == by_id.end()) return MakeError("unknown cell");
    run.cells[it->second].ground_truth.push_back(std::move(*step));
    return OkStatus();
  });
  if (!gt.ok()) return gt.error();
  Status ev = ForEachJsonLine(dir, "events.jsonl", [&](json j) -> Status {
    if (auto e = EventFromJson(j); e.ok()) run.events.push_back(std::move(*e));
    run.raw_events.push_back(std::move(j));
    return OkStatus();
  });
  if (!ev.ok()) return ev.error();
  auto env = ReadJsonFile(fs::path(dir) / "environment.json");
  if (env.ok()) run.environment = std::move(*env);
  return run;
}

}  // namespace sandwatch::harness
