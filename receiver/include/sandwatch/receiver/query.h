// GET /api/events query parameters -> a validated EventQuery. Pure; no I/O.
// Names mirror falcosidekick-ui's search API (rule, priority, source, hostname,
// since, filter, page, limit) plus sandwatch's pod, namespace, sensor and until.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::receiver {

struct EventQuery {
  std::vector<std::string> rules;   // comma list, exact names
  std::vector<int> priorities;      // Priority enum values
  std::optional<int> min_priority;  // "at least this severe" (numerically <=)
  std::vector<std::string> sources;
  std::vector<std::string> pods;
  std::vector<std::string> namespaces;
  std::vector<std::string> sensors;
  std::vector<std::string> hostnames;
  std::vector<std::string> tags;    // every listed tag must be on the event
  std::string id;                   // a single event by id
  std::optional<int64_t> since_ns;  // inclusive
  std::optional<int64_t> until_ns;  // exclusive
  std::string filter;               // substring, case-insensitive
  int64_t page = 1;                 // 1-based
  int64_t limit = 100;              // 1..1000
  bool ascending = false;           // newest first by default
};

inline constexpr int64_t kMaxLimit = 1000;

// `get(name)` returns the parameter's value or nullopt. `now_ns` anchors relative
// times ("since=15m" means the last 15 minutes). Errors name the parameter.
Result<EventQuery> ParseEventQuery(
    const std::function<std::optional<std::string>(const std::string&)>& get, int64_t now_ns);

}  // namespace sandwatch::receiver
