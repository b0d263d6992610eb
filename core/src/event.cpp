#include "sandwatch/core/event.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/json_fields.h"

namespace sandwatch {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 8> kPriorityNames = {
    "Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"};

#define SW_TRY(expr)                                 \
  do {                                               \
    auto sw_status_ = (expr);                        \
    if (!sw_status_.ok()) return sw_status_.error(); \
  } while (0)

json SensorToJson(const SensorInfo& s) {
  return json{{"id", s.id}, {"mode", s.mode}, {"capture", s.capture}, {"version", s.version}};
}

Status SensorFromJson(const json& j, std::string_view path, SensorInfo* s) {
  if (!j.is_object()) return MakeError(std::string(path) + ": expected an object");
  SW_TRY(jsonf::ReadString(j, "id", jsonf::Join(path, "id"), false, &s->id));
  SW_TRY(jsonf::ReadString(j, "mode", jsonf::Join(path, "mode"), false, &s->mode));
  SW_TRY(jsonf::ReadString(j, "capture", jsonf::Join(path, "capture"), false, &s->capture));
  SW_TRY(jsonf::ReadString(j, "version", jsonf::Join(path, "version"), false, &s->version));
  return OkStatus();
}

Status AncestorFromJson(const json& j, const std::string& path, AncestorRef* a) {
  if (!j.is_object()) return MakeError(path + ": expected an object");
  int64_t pid = 0;
  SW_TRY(jsonf::ReadInt(j, "pid", path + ".pid", false, &pid));
  a->pid = static_cast<int>(pid);
  SW_TRY(jsonf::ReadString(j, "name", path + ".name", false, &a->name));
  SW_TRY(jsonf::ReadStringArray(j, "cmdline", path + ".cmdline", false, &a->cmdline));
  return OkStatus();
}

json AncestorToJson(const AncestorRef& a) {
  json j{{"pid", a.pid}, {"name", a.name}};
  if (!a.cmdline.empty()) j["cmdline"] = a.cmdline;
  return j;
}

Status ReadK8s(const json& j, std::string* pod, std::string* ns) {
  auto it = j.find("k8s");
  if (it == j.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) return MakeError("k8s: expected an object");
  SW_TRY(jsonf::ReadString(*it, "pod", "k8s.pod", false, pod));
  SW_TRY(jsonf::ReadString(*it, "namespace", "k8s.namespace", false, ns));
  return OkStatus();
}

Status ReadTime(const json& j, int64_t* out) {
  std::string t;
  SW_TRY(jsonf::ReadString(j, "time", "time", true, &t));
  auto parsed = ParseRfc3339(t);
  if (!parsed.ok()) return MakeError("time: " + parsed.error().message);
  *out = *parsed;
  return OkStatus();
}

}  // namespace

std::string_view PriorityName(Priority p) { return kPriorityNames[static_cast<size_t>(p)]; }

std::optional<Priority> ParsePriority(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "info") return Priority::kInformational;
  for (size_t i = 0; i < kPriorityNames.size(); ++i) {
    std::string name(kPriorityNames[i]);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == lower) return static_cast<Priority>(i);
  }
  return std::nullopt;
}

json EventToJson(const Event& e) {
  json j{{"schema", kEventSchema},
         {"id", e.id},
         {"seq", e.seq},
         {"time", FormatRfc3339(e.time_ns)},
         {"rule", e.rule},
         {"priority", PriorityName(e.priority)},
         {"output", e.output},
         {"tags", e.tags},
         {"source", e.source},
         {"sensor", SensorToJson(e.sensor)},
         {"k8s", {{"pod", e.pod}, {"namespace", e.ns}}},
         {"hostname", e.hostname}};
  if (e.process) {
    const auto& p = *e.process;
    json pj{{"pid", p.pid},   {"ppid", p.ppid}, {"start_time_ns", p.start_time_ns},
            {"name", p.name}, {"exe", p.exe},   {"cmdline", p.cmdline},
            {"cwd", p.cwd}};
    if (p.uid) pj["uid"] = *p.uid;
    j["process"] = std::move(pj);
  }
  if (e.parent) j["parent"] = AncestorToJson(*e.parent);
  if (!e.ancestors.empty()) {
    json arr = json::array();
    for (const auto& a : e.ancestors) arr.push_back(AncestorToJson(a));
    j["ancestors"] = std::move(arr);
  }
  if (e.file_path) j["file"] = {{"path", *e.file_path}};
  if (e.connection) {
    j["connection"] = {{"proto", e.connection->proto},
                       {"local", e.connection->local},
                       {"remote", e.connection->remote}};
  }
  if (e.detection) {
    json d{{"method", e.detection->method}};
    if (e.detection->lag_ms) d["lag_ms"] = *e.detection->lag_ms;
    j["detection"] = std::move(d);
  }
  if (!e.fields.empty()) j["fields"] = e.fields;
  return j;
}

Result<Event> EventFromJson(const json& j) {
  if (!j.is_object()) return MakeError("event: expected a JSON object");
  Event e;
  std::string schema;
  SW_TRY(jsonf::ReadString(j, "schema", "schema", false, &schema));
  if (!schema.empty() && schema != kEventSchema) {
    return MakeError("schema: expected \"sandwatch.event/v1\"");
  }
  SW_TRY(jsonf::ReadString(j, "id", "id", true, &e.id));
  if (e.id.empty() || e.id.size() > 128) return MakeError("id: must be 1 to 128 characters");
  int64_t seq = 0;
  SW_TRY(jsonf::ReadInt(j, "seq", "seq", false, &seq));
  if (seq < 0) return MakeError("seq: must not be negative");
  e.seq = static_cast<uint64_t>(seq);
  SW_TRY(ReadTime(j, &e.time_ns));
  SW_TRY(jsonf::ReadString(j, "rule", "rule", true, &e.rule));
  if (e.rule.empty()) return MakeError("rule: must not be empty");
  std::string prio = "Warning";
  SW_TRY(jsonf::ReadString(j, "priority", "priority", false, &prio));
  auto p = ParsePriority(prio);
  if (!p) return MakeError("priority: not one of Falco's priority names");
  e.priority = *p;
  SW_TRY(jsonf::ReadString(j, "output", "output", false, &e.output));
  SW_TRY(jsonf::ReadStringArray(j, "tags", "tags", false, &e.tags));
  SW_TRY(jsonf::ReadString(j, "source", "source", false, &e.source));
  if (auto it = j.find("sensor"); it != j.end() && !it->is_null()) {
    SW_TRY(SensorFromJson(*it, "sensor", &e.sensor));
  }
  SW_TRY(ReadK8s(j, &e.pod, &e.ns));
  SW_TRY(jsonf::ReadString(j, "hostname", "hostname", false, &e.hostname));
  if (auto it = j.find("process"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return MakeError("process: expected an object");
    ProcessRef pr;
    int64_t v = 0;
    SW_TRY(jsonf::ReadInt(*it, "pid", "process.pid", false, &v));
    pr.pid = static_cast<int>(v);
    v = 0;
    SW_TRY(jsonf::ReadInt(*it, "ppid", "process.ppid", false, &v));
    pr.ppid = static_cast<int>(v);
    v = 0;
    SW_TRY(jsonf::ReadInt(*it, "start_time_ns", "process.start_time_ns", false, &v));
    pr.start_time_ns = static_cast<uint64_t>(v);
    SW_TRY(jsonf::ReadString(*it, "name", "process.name", false, &pr.name));
    SW_TRY(jsonf::ReadString(*it, "exe", "process.exe", false, &pr.exe));
    SW_TRY(jsonf::ReadStringArray(*it, "cmdline", "process.cmdline", false, &pr.cmdline));
    SW_TRY(jsonf::ReadString(*it, "cwd", "process.cwd", false, &pr.cwd));
    if (it->contains("uid") && !(*it)["uid"].is_null()) {
      int64_t uid = 0;
      SW_TRY(jsonf::ReadInt(*it, "uid", "process.uid", true, &uid));
      pr.uid = uid;
    }
    e.process = std::move(pr);
  }
  if (auto it = j.find("parent"); it != j.end() && !it->is_null()) {
    AncestorRef a;
    SW_TRY(AncestorFromJson(*it, "parent", &a));
    e.parent = std::move(a);
  }
  if (auto it = j.find("ancestors"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return MakeError("ancestors: expected an array");
    if (it->size() > 64) return MakeError("ancestors: more than 64 entries");
    for (size_t i = 0; i < it->size(); ++i) {
      AncestorRef a;
      SW_TRY(AncestorFromJson((*it)[i], "ancestors[" + std::to_string(i) + "]", &a));
      e.ancestors.push_back(std::move(a));
    }
  }
  if (auto it = j.find("file"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return MakeError("file: expected an object");
    std::string path;
    SW_TRY(jsonf::ReadString(*it, "path", "file.path", false, &path));
    e.file_path = std::move(path);
  }
  if (auto it = j.find("connection"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return MakeError("connection: expected an object");
    ConnectionRef c;
    SW_TRY(jsonf::ReadString(*it, "proto", "connection.proto", false, &c.proto));
    SW_TRY(jsonf::ReadString(*it, "local", "connection.local", false, &c.local));
    SW_TRY(jsonf::ReadString(*it, "remote", "connection.remote", false, &c.remote));
    e.connection = std::move(c);
  }
  if (auto it = j.find("detection"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return MakeError("detection: expected an object");
    DetectionInfo d;
    SW_TRY(jsonf::ReadString(*it, "method", "detection.method", false, &d.method));
    if (it->contains("lag_ms") && !(*it)["lag_ms"].is_null()) {
      double lag = 0;
      SW_TRY(jsonf::ReadDouble(*it, "lag_ms", "detection.lag_ms", true, &lag));
      d.lag_ms = lag;
    }
    e.detection = std::move(d);
  }
  SW_TRY(jsonf::ReadFlatMap(j, "fields", "fields", &e.fields));
  return e;
}

json HeartbeatToJson(const Heartbeat& h) {
  return json{{"schema", kHeartbeatSchema},
              {"sensor", SensorToJson(h.sensor)},
              {"time", FormatRfc3339(h.time_ns)},
              {"last_seq", h.last_seq},
              {"interval_s", h.interval_s},
              {"k8s", {{"pod", h.pod}, {"namespace", h.ns}}},
              {"hostname", h.hostname},
              {"counters", h.counters},
              {"capture", {{"active", h.capture_active}, {"failed", h.capture_failed}}}};
}

Result<Heartbeat> HeartbeatFromJson(const json& j) {
  if (!j.is_object()) return MakeError("heartbeat: expected a JSON object");
  Heartbeat h;
  std::string schema;
  SW_TRY(jsonf::ReadString(j, "schema", "schema", false, &schema));
  if (!schema.empty() && schema != kHeartbeatSchema) {
    return MakeError("schema: expected \"sandwatch.heartbeat/v1\"");
  }
  auto it = j.find("sensor");
  if (it == j.end() || it->is_null()) return MakeError("sensor: required field is missing");
  SW_TRY(SensorFromJson(*it, "sensor", &h.sensor));
  if (h.sensor.id.empty()) return MakeError("sensor.id: must not be empty");
  SW_TRY(ReadTime(j, &h.time_ns));
  int64_t last_seq = 0;
  SW_TRY(jsonf::ReadInt(j, "last_seq", "last_seq", false, &last_seq));
  if (last_seq < 0) return MakeError("last_seq: must not be negative");
  h.last_seq = static_cast<uint64_t>(last_seq);
  SW_TRY(jsonf::ReadDouble(j, "interval_s", "interval_s", false, &h.interval_s));
  SW_TRY(ReadK8s(j, &h.pod, &h.ns));
  SW_TRY(jsonf::ReadString(j, "hostname", "hostname", false, &h.hostname));
  if (auto c = j.find("counters"); c != j.end() && !c->is_null()) {
    if (!c->is_object()) return MakeError("counters: expected an object");
    if (c->size() > 256) return MakeError("counters: more than 256 entries");
    for (const auto& [k, v] : c->items()) {
      if (!v.is_number_integer() && !v.is_number_unsigned()) {
        return MakeError("counters." + k + ": expected an integer");
      }
      h.counters[k] = v.get<int64_t>();
    }
  }
  if (auto c = j.find("capture"); c != j.end() && !c->is_null()) {
    if (!c->is_object()) return MakeError("capture: expected an object");
    SW_TRY(jsonf::ReadStringArray(*c, "active", "capture.active", false, &h.capture_active));
    if (auto f = c->find("failed"); f != c->end() && !f->is_null()) {
      if (!f->is_object()) return MakeError("capture.failed: expected an object");
      if (f->size() > 16) return MakeError("capture.failed: more than 16 entries");
      for (const auto& [k, v] : f->items()) {
        if (!v.is_string() || v.get_ref<const std::string&>().size() > kMaxStringBytes) {
          return MakeError("capture.failed." + k + ": expected a string");
        }
        h.capture_failed[k] = v.get<std::string>();
      }
    }
  }
  return h;
}

}  // namespace sandwatch
