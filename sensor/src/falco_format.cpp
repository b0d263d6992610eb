#include "sandwatch/sensor/falco_format.h"

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"

namespace sandwatch::sensor {
namespace {

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    out += argv[i];
  }
  return out;
}

// "16:31:56.746609046" like Falco's output prefix (UTC).
std::string ClockTime(int64_t wall_ns) {
  auto secs = static_cast<time_t>(wall_ns / 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%02d:%02d:%02d.%09lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(wall_ns % 1000000000));
  return buf.data();
}

}  // namespace

nlohmann::json FalcoJson(const Event& e) {
  using nlohmann::json;
  json f = json::object();
  f["evt.time"] = e.time_ns;
  if (e.process) {
    const auto& p = *e.process;
    f["proc.name"] = p.name;
    f["proc.exe"] = p.exe;
    f["proc.cmdline"] = Join(p.cmdline);
    f["proc.pid"] = p.pid;
    f["proc.ppid"] = p.ppid;
    if (!p.cwd.empty()) f["proc.cwd"] = p.cwd;
    if (p.uid) f["user.uid"] = *p.uid;
  }
  if (e.parent) {
    f["proc.pname"] = e.parent->name;
    if (!e.parent->cmdline.empty()) f["proc.pcmdline"] = Join(e.parent->cmdline);
  }
  for (size_t i = 0; i < e.ancestors.size() && i < 4; ++i) {
    f["proc.aname[" + std::to_string(i + 1) + "]"] = e.ancestors[i].name;
  }
  if (e.file_path) f["fd.name"] = *e.file_path;
  if (e.connection) {
    f["fd.l4proto"] = e.connection->proto;
    f["fd.lip_port"] = e.connection->local;
    f["fd.rip_port"] = e.connection->remote;
    if (!e.file_path) f["fd.name"] = e.connection->local + "->" + e.connection->remote;
  }
  f["k8s.pod.name"] = e.pod;
  f["k8s.ns.name"] = e.ns;
  f["sandwatch.seq"] = e.seq;
  f["sandwatch.sensor.id"] = e.sensor.id;
  f["sandwatch.capture"] = e.sensor.capture;
  if (e.detection) {
    f["sandwatch.detection.method"] = e.detection->method;
    if (e.detection->lag_ms) f["sandwatch.detection.lag_ms"] = *e.detection->lag_ms;
  }
  for (const auto& [k, v] : e.fields) f["sandwatch." + k] = v;
  std::vector<std::string> tags = e.tags;
  tags.emplace_back("sandwatch");
  std::string prio(PriorityName(e.priority));
  return json{{"uuid", e.id},
              {"time", FormatRfc3339(e.time_ns)},
              {"rule", e.rule},
              {"priority", prio},
              {"output", ClockTime(e.time_ns) + ": " + prio + " " + e.output},
              {"source", "syscall"},
              {"tags", tags},
              {"hostname", e.hostname},
              {"output_fields", f}};
}

}  // namespace sandwatch::sensor
