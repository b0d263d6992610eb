// results/RUN-ID/ stored data: write and read back (for `harness report`).
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status WriteFile(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return MakeError("cannot write " + tmp.string(), errno);
    out << text;
    if (!out.flush()) return MakeError("write failed: " + tmp.string(), errno);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return MakeError("cannot rename to " + path.string() + ": " + ec.message());
  return OkStatus();
}

json BindingToJson(const ObserverBinding& b) {
  return json{{"observer", b.observer},
              {"source", b.source},
              {"pod", b.pod},
              {"sensor_mode", b.sensor_mode},
              {"pids_comparable", b.pids_comparable},
              {"shared_vantage", b.shared_vantage},
              {"available", b.available},
              {"reason", b.reason},
              {"label", b.label},
              {"capture_active", b.capture_active},
              {"lineage", b.lineage},
              {"container_id", b.container_id}};
}

ObserverBinding BindingFromJson(const json& j) {
  ObserverBinding b;
  b.observer = j.value("observer", "");
  b.source = j.value("source", "sandwatch");
  b.pod = j.value("pod", "");
  b.sensor_mode = j.value("sensor_mode", "");
  b.pids_comparable = j.value("pids_comparable", false);
  b.shared_vantage = j.value("shared_vantage", false);
  b.available = j.value("available", true);
  b.reason = j.value("reason", "");
  b.label = j.value("label", "");
  b.capture_active = j.value("capture_active", std::vector<std::string>{});
  b.lineage = j.value("lineage", std::vector<std::string>{});
  b.container_id = j.value("container_id", "");
  return b;
}

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
  if (auto s = WriteFile(fs::path(dir) / "events.jsonl", events); !s.ok()) return s;
  std::string gt;
  json cells = json::array();
  for (const auto& c : run.cells) {
    for (const auto& s : c.ground_truth) {
      json j = GroundTruthToJson(s);
      j["cell"] = c.cell.Id();
      gt += j.dump() + "\n";
    }
    json observers = json::array();
    for (const auto& b : c.observers) observers.push_back(BindingToJson(b));
    cells.push_back(json{{"id", c.cell.Id()},
                         {"index", c.cell.index},
                         {"runtime", c.cell.runtime},
                         {"speed", c.cell.speed},
                         {"variant", c.cell.variant},
                         {"repetition", c.cell.repetition},
                         {"ok", c.ok},
                         {"error", c.error},
                         {"start_wall_ns", c.start_wall_ns},
                         {"end_wall_ns", c.end_wall_ns},
                         {"observers", observers},
                         {"notes", c.notes}});
  }
  if (auto s = WriteFile(fs::path(dir) / "ground-truth.jsonl", gt); !s.ok()) return s;
  json expect = json::array();
  for (const auto& e : run.expect) {
    expect.push_back(json{{"runtime", e.runtime},
                          {"observer", e.observer},
                          {"signals", e.signals},
                          {"detected", e.detected}});
  }
  json meta{{"run_id", run.run_id},
            {"scenario", run.scenario},
            {"scenario_path", run.scenario_path},
            {"description", run.description},
            {"backend", run.backend},
            {"started_wall_ns", run.started_wall_ns},
            {"finished_wall_ns", run.finished_wall_ns},
            {"score_options",
             {{"poll_interval_s", run.score_options.poll_interval_s},
              {"slack_s", run.score_options.slack_s},
              {"grace_s", run.score_options.grace_s}}},
            {"expect", expect},
            {"cells", cells}};
  if (auto s = WriteFile(fs::path(dir) / "cells.json", meta.dump(2) + "\n"); !s.ok()) return s;
  return WriteFile(fs::path(dir) / "environment.json", run.environment.dump(2) + "\n");
}

namespace {
Result<json> ReadJsonFile(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return MakeError("cannot read " + p.string());
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    return MakeError(p.string() + ": " + e.what());
  }
}
}  // namespace

Result<RunRecord> ReadRunData(const std::string& dir) {
  RunRecord run;
  auto meta = ReadJsonFile(fs::path(dir) / "cells.json");
  if (!meta.ok()) return meta.error();
  try {
    const json& m = *meta;
    run.run_id = m.value("run_id", "");
    run.scenario = m.value("scenario", "");
    run.scenario_path = m.value("scenario_path", "");
    run.description = m.value("description", "");
    run.backend = m.value("backend", "");
    run.started_wall_ns = m.value("started_wall_ns", int64_t{0});
    run.finished_wall_ns = m.value("finished_wall_ns", int64_t{0});
    if (m.contains("score_options")) {
      const auto& so = m["score_options"];
      run.score_options.poll_interval_s = so.value("poll_interval_s", 2.0);
      run.score_options.slack_s = so.value("slack_s", 1.0);
      run.score_options.grace_s = so.value("grace_s", 8.0);
    }
    if (m.contains("expect")) {
      for (const auto& e : m.at("expect")) {
        run.expect.push_back(
            {e.at("runtime").get<std::string>(), e.at("observer").get<std::string>(),
             e.at("signals").get<std::vector<std::string>>(), e.at("detected").get<bool>()});
      }
    } else {
      run.expect = ExpectFromScenarioFile(run.scenario_path, run.scenario);
    }
    for (const auto& c : m.at("cells")) {
      CellOutcome o;
      o.cell.index = c.value("index", 0);
      o.cell.runtime = c.value("runtime", "");
      o.cell.speed = c.value("speed", "");
      o.cell.variant = c.value("variant", "");
      o.cell.repetition = c.value("repetition", 0);
      o.ok = c.value("ok", false);
      o.error = c.value("error", "");
      o.start_wall_ns = c.value("start_wall_ns", int64_t{0});
      o.end_wall_ns = c.value("end_wall_ns", int64_t{0});
      for (const auto& b : c.value("observers", json::array())) {
        o.observers.push_back(BindingFromJson(b));
      }
      o.notes = c.value("notes", std::vector<std::string>{});
      run.cells.push_back(std::move(o));
    }
  } catch (const std::exception& e) {
    return MakeError(dir + "/cells.json: " + e.what());
  }
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < run.cells.size(); ++i) by_id[run.cells[i].cell.Id()] = i;
  std::ifstream gt(fs::path(dir) / "ground-truth.jsonl");
  if (!gt) return MakeError("cannot read " + dir + "/ground-truth.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(gt, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      json j = json::parse(line);
      auto step = GroundTruthFromJson(j);
      if (!step.ok())
        return MakeError("ground-truth.jsonl:" + std::to_string(n) + ": " + step.error().message);
      auto it = by_id.find(j.value("cell", ""));
      if (it == by_id.end())
        return MakeError("ground-truth.jsonl:" + std::to_string(n) + ": unknown cell");
      run.cells[it->second].ground_truth.push_back(std::move(*step));
    } catch (const std::exception& e) {
      return MakeError("ground-truth.jsonl:" + std::to_string(n) + ": " + e.what());
    }
  }
  std::ifstream ev(fs::path(dir) / "events.jsonl");
  if (!ev) return MakeError("cannot read " + dir + "/events.jsonl");
  n = 0;
  while (std::getline(ev, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      json j = json::parse(line);
      auto e = EventFromJson(j);
      if (e.ok()) run.events.push_back(std::move(*e));
      run.raw_events.push_back(std::move(j));
    } catch (const std::exception& e) {
      return MakeError("events.jsonl:" + std::to_string(n) + ": " + e.what());
    }
  }
  auto env = ReadJsonFile(fs::path(dir) / "environment.json");
  if (env.ok()) run.environment = std::move(*env);
  return run;
}

}  // namespace sandwatch::harness
