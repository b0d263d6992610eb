// The sandwatch event and heartbeat schema (contract: "sandwatch.event/v1",
// "sandwatch.heartbeat/v1"), shared by the sensor (producer), the receiver
// (ingest and query) and the harness (scoring).
//
// Every string field may be attacker-controlled. Parsing validates types and
// sizes; display code must escape.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch {

inline constexpr std::string_view kEventSchema = "sandwatch.event/v1";
inline constexpr std::string_view kHeartbeatSchema = "sandwatch.heartbeat/v1";

// Falco's priority names, most to least severe.
enum class Priority {
  kEmergency,
  kAlert,
  kCritical,
  kError,
  kWarning,
  kNotice,
  kInformational,
  kDebug
};
std::string_view PriorityName(Priority p);
// Case-insensitive; accepts Falco's aliases "Info" and "informational".
std::optional<Priority> ParsePriority(std::string_view text);

struct SensorInfo {
  std::string id;
  std::string mode;     // kata | sidecar | node
  std::string capture;  // poll | inotify | fanotify | netlink (or "a+b" when combined)
  std::string version;
};

struct ProcessRef {
  int pid = 0;
  int ppid = 0;
  uint64_t start_time_ns = 0;  // since boot, from /proc/PID/stat field 22
  std::string name;
  std::string exe;
  std::vector<std::string> cmdline;
  std::optional<int64_t> uid;
  std::string cwd;
};

struct AncestorRef {
  int pid = 0;
  std::string name;
  std::vector<std::string> cmdline;  // may be empty
};

struct ConnectionRef {
  std::string proto;  // tcp | tcp6 | udp | udp6
  std::string local;  // "addr:port"
  std::string remote;
};

struct DetectionInfo {
  std::string method;            // poll | inotify | fanotify | netlink
  std::optional<double> lag_ms;  // exec-to-detection, when known
};

struct Event {
  std::string id;       // uuid v4
  uint64_t seq = 0;     // per sensor instance, 1,2,3,... (0 for events not from a sensor)
  int64_t time_ns = 0;  // wall clock when observed
  std::string rule;
  Priority priority = Priority::kWarning;
  std::string output;
  std::vector<std::string> tags;
  std::string source = "sandwatch";  // "sandwatch" or "falco"
  SensorInfo sensor;
  std::string pod;
  std::string ns;  // k8s namespace
  std::string hostname;
  std::optional<ProcessRef> process;
  std::optional<AncestorRef> parent;
  std::vector<AncestorRef> ancestors;
  std::optional<std::string> file_path;
  std::optional<ConnectionRef> connection;
  std::optional<DetectionInfo> detection;
  // Extra key/values (Falco's output_fields, or a sensor's suppressed count).
  std::map<std::string, std::string> fields;
};

struct Heartbeat {
  SensorInfo sensor;
  int64_t time_ns = 0;
  uint64_t last_seq = 0;
  double interval_s = 0;  // the sensor's HEARTBEAT_INTERVAL, so liveness can be judged
  std::string pod;
  std::string ns;
  std::string hostname;
  std::map<std::string, int64_t> counters;
  // Heartbeat "capture": {"active": [...], "failed": {source: reason}}: the capture
  // sources that really started, and those that were chosen but failed to start.
  std::vector<std::string> capture_active;
  std::map<std::string, std::string> capture_failed;
};

// Limits applied when parsing untrusted input.
inline constexpr size_t kMaxStringBytes = size_t{64} * 1024;
inline constexpr size_t kMaxArrayItems = 4096;

nlohmann::json EventToJson(const Event& e);
// Strict: wrong types, a wrong schema, or oversized fields give an Error naming the field.
Result<Event> EventFromJson(const nlohmann::json& j);

nlohmann::json HeartbeatToJson(const Heartbeat& h);
Result<Heartbeat> HeartbeatFromJson(const nlohmann::json& j);

// Single-line JSON text.
std::string EventToJsonLine(const Event& e);

}  // namespace sandwatch
