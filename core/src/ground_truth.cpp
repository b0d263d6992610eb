#include "sandwatch/core/ground_truth.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "sandwatch/core/json_fields.h"

namespace sandwatch {

using nlohmann::json;

json GroundTruthToJson(const GroundTruthStep& s) {
  return json{{"run_id", s.run_id},
              {"repeat", s.repeat},
              {"step", s.step},
              {"signal", s.signal},
              {"signals", s.signals},
              {"variant", s.variant},
              {"speed", s.speed},
              {"command", s.command},
              {"pid", s.pid},
              {"start_wall_ns", s.start_wall_ns},
              {"end_wall_ns", s.end_wall_ns},
              {"start_mono_ns", s.start_mono_ns},
              {"end_mono_ns", s.end_mono_ns},
              {"requested_hold_ms", s.requested_hold_ms},
              {"hold_ms", s.hold_ms},
              {"exit_code", s.exit_code},
              {"note", s.note},
              {"status", s.status},
              {"ppid", s.ppid},
              {"kind", s.kind}};
}

Result<GroundTruthStep> GroundTruthFromJson(const json& j) {
  if (!j.is_object()) return MakeError("ground truth: expected a JSON object");
  GroundTruthStep s;
  int64_t v = 0;
  auto check = [](const Status& st) { return st.ok() ? std::optional<Error>() : st.error(); };
  std::optional<Error> err;
  if ((err = check(jsonf::ReadString(j, "run_id", "run_id", false, &s.run_id)))) return *err;
  if ((err = check(jsonf::ReadInt(j, "repeat", "repeat", false, &v)))) return *err;
  s.repeat = static_cast<int>(v);
  if ((err = check(jsonf::ReadString(j, "step", "step", true, &s.step)))) return *err;
  if ((err = check(jsonf::ReadString(j, "signal", "signal", false, &s.signal)))) return *err;
  if ((err = check(jsonf::ReadStringArray(j, "signals", "signals", false, &s.signals))))
    return *err;
  if (s.signals.empty() && !s.signal.empty()) s.signals.push_back(s.signal);
  if ((err = check(jsonf::ReadString(j, "variant", "variant", false, &s.variant)))) return *err;
  if ((err = check(jsonf::ReadString(j, "speed", "speed", false, &s.speed)))) return *err;
  if ((err = check(jsonf::ReadStringArray(j, "command", "command", false, &s.command))))
    return *err;
  v = 0;
  if ((err = check(jsonf::ReadInt(j, "pid", "pid", false, &v)))) return *err;
  s.pid = static_cast<int>(v);
  if ((err = check(jsonf::ReadInt(j, "start_wall_ns", "start_wall_ns", true, &s.start_wall_ns))))
    return *err;
  if ((err = check(jsonf::ReadInt(j, "end_wall_ns", "end_wall_ns", false, &s.end_wall_ns))))
    return *err;
  if ((err = check(jsonf::ReadInt(j, "start_mono_ns", "start_mono_ns", false, &s.start_mono_ns))))
    return *err;
  if ((err = check(jsonf::ReadInt(j, "end_mono_ns", "end_mono_ns", false, &s.end_mono_ns))))
    return *err;
  if ((err = check(jsonf::ReadDouble(j, "requested_hold_ms", "requested_hold_ms", false,
                                     &s.requested_hold_ms))))
    return *err;
  if ((err = check(jsonf::ReadDouble(j, "hold_ms", "hold_ms", false, &s.hold_ms)))) return *err;
  v = 0;
  if ((err = check(jsonf::ReadInt(j, "exit_code", "exit_code", false, &v)))) return *err;
  s.exit_code = static_cast<int>(v);
  if ((err = check(jsonf::ReadString(j, "note", "note", false, &s.note)))) return *err;
  if ((err = check(jsonf::ReadString(j, "status", "status", false, &s.status)))) return *err;
  if (s.status.empty()) s.status = "ran";
  v = 0;
  if ((err = check(jsonf::ReadInt(j, "ppid", "ppid", false, &v)))) return *err;
  s.ppid = static_cast<int>(v);
  if ((err = check(jsonf::ReadString(j, "kind", "kind", false, &s.kind)))) return *err;
  if (s.kind.empty()) s.kind = "attack";
  if (s.kind != "attack" && s.kind != "benign") {
    return MakeError("kind: unknown '" + s.kind + "' (attack|benign)");
  }
  return s;
}

Result<std::vector<GroundTruthStep>> ReadGroundTruthFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError("cannot open ground truth file " + path);
  std::vector<GroundTruthStep> steps;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return MakeError(path + ":" + std::to_string(lineno) + ": malformed JSON");
    }
    auto step = GroundTruthFromJson(j);
    if (!step.ok()) {
      return MakeError(path + ":" + std::to_string(lineno) + ": " + step.error().message);
    }
    steps.push_back(std::move(*step));
  }
  return steps;
}

}  // namespace sandwatch
