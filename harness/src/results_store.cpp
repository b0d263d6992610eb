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
// key missing on read keeps the struct's default.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ObserverBinding, observer, source, pod, sensor_mode,
                                                pids_comparable, shared_vantage, available, reason,
                                                label, capture_active, lineage, container_id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ScoreOptions, poll_interval_s, slack_s, grace_s)

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

// cells.json's fields of a run and of a cell, one list for writing and reading: f(key, field)
// for each. A key missing on read keeps the field's default.
template <typename Run, typename F>
void RunFields(Run& run, F&& f) {
  f("run_id", run.run_id);
  f("scenario", run.scenario);
  f("scenario_path", run.scenario_path);
  f("description", run.description);
  f("backend", run.backend);
  f("started_wall_ns", run.started_wall_ns);
  f("finished_wall_ns", run.finished_wall_ns);
  f("score_options", run.score_options);
}

template <typename Outcome, typename F>
void CellFields(Outcome& c, F&& f) {
  f("index", c.cell.index);
  f("runtime", c.cell.runtime);
  f("speed", c.cell.speed);
  f("variant", c.cell.variant);
  f("repetition", c.cell.repetition);
  f("ok", c.ok);
  f("error", c.error);
  f("start_wall_ns", c.start_wall_ns);
  f("end_wall_ns", c.end_wall_ns);
  f("observers", c.observers);
  f("notes", c.notes);
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
  json meta{{"expect", run.expect}, {"cells", json::array()}};
  RunFields(run, [&](const char* key, const auto& v) { meta[key] = v; });
  for (const auto& c : run.cells) {
    for (const auto& s : c.ground_truth) {
      json j = GroundTruthToJson(s);
      j["cell"] = c.cell.Id();
      gt += j.dump() + "\n";
    }
    json cell{{"id", c.cell.Id()}};
    CellFields(c, [&](const char* key, const auto& v) { cell[key] = v; });
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
    RunFields(run, [&](const char* key, auto& v) { v = m.value(key, v); });
    if (m.contains("expect")) {
      run.expect = m.at("expect").get<std::vector<Expectation>>();
    } else {
      run.expect = ExpectFromScenarioFile(run.scenario_path, run.scenario);
    }
    for (const auto& c : m.at("cells")) {
      CellOutcome o;
      CellFields(o, [&](const char* key, auto& v) { v = c.value(key, v); });
      run.cells.push_back(std::move(o));
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
