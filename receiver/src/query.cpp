#include "sandwatch/receiver/query.h"

#include <charconv>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"

namespace sandwatch::receiver {
namespace {

constexpr size_t kMaxListItems = 64;
constexpr size_t kMaxParamBytes = 1024;

Status SplitList(const std::string& name, const std::string& value, std::vector<std::string>* out) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string item = value.substr(start, comma - start);
    if (!item.empty()) out->push_back(std::move(item));
    if (out->size() > kMaxListItems) return MakeError(name + ": more than 64 values");
    start = comma + 1;
  }
  return OkStatus();
}

// "15m" / "2h" (relative to now), RFC 3339, or a bare number of seconds ago.
Result<int64_t> ParseTime(const std::string& name, const std::string& value, int64_t now_ns) {
  if (auto abs = ParseRfc3339(value); abs.ok()) return *abs;
  auto rel = ParseDuration(value);
  if (!rel.ok()) {
    return MakeError(name + ": expected a duration like 15m or 2h, or an RFC 3339 time");
  }
  return now_ns - *rel;
}

Result<int64_t> ParsePositive(const std::string& name, const std::string& value) {
  int64_t v = 0;
  auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec != std::errc() || r.ptr != value.data() + value.size() || v < 1) {
    return MakeError(name + ": expected a positive integer");
  }
  return v;
}

}  // namespace

Result<EventQuery> ParseEventQuery(
    const std::function<std::optional<std::string>(const std::string&)>& get, int64_t now_ns) {
  EventQuery q;
  auto param = [&](const std::string& name) -> Result<std::optional<std::string>> {
    auto v = get(name);
    if (v && v->size() > kMaxParamBytes) return MakeError(name + ": longer than 1024 bytes");
    return v;
  };
  struct ListParam {
    const char* name;
    std::vector<std::string>* out;
  };
  for (const ListParam& lp :
       {ListParam{"rule", &q.rules}, ListParam{"source", &q.sources}, ListParam{"pod", &q.pods},
        ListParam{"namespace", &q.namespaces}, ListParam{"sensor", &q.sensors},
        ListParam{"hostname", &q.hostnames}, ListParam{"tags", &q.tags}}) {
    auto v = param(lp.name);
    if (!v.ok()) return v.error();
    if (*v) {
      if (auto st = SplitList(lp.name, **v, lp.out); !st.ok()) return st.error();
    }
  }
  if (auto v = param("priority"); !v.ok()) {
    return v.error();
  } else if (*v) {
    std::vector<std::string> names;
    if (auto st = SplitList("priority", **v, &names); !st.ok()) return st.error();
    for (const auto& n : names) {
      auto p = ParsePriority(n);
      if (!p) return MakeError("priority: \"" + n.substr(0, 32) + "\" is not a Falco priority");
      q.priorities.push_back(static_cast<int>(*p));
    }
  }
  if (auto v = param("min_priority"); !v.ok()) {
    return v.error();
  } else if (*v) {
    auto p = ParsePriority(**v);
    if (!p) return MakeError("min_priority: not a Falco priority");
    q.min_priority = static_cast<int>(*p);
  }
  for (const char* name : {"since", "until"}) {
    auto v = param(name);
    if (!v.ok()) return v.error();
    if (!*v || (*v)->empty()) continue;
    auto t = ParseTime(name, **v, now_ns);
    if (!t.ok()) return t.error();
    (std::string(name) == "since" ? q.since_ns : q.until_ns) = *t;
  }
  if (auto v = param("filter"); !v.ok())
    return v.error();
  else if (*v)
    q.filter = **v;
  if (auto v = param("id"); !v.ok())
    return v.error();
  else if (*v)
    q.id = **v;
  if (auto v = param("page"); !v.ok()) {
    return v.error();
  } else if (*v) {
    auto n = ParsePositive("page", **v);
    if (!n.ok()) return n.error();
    if (*n > 1'000'000) return MakeError("page: at most 1000000");
    q.page = *n;
  }
  if (auto v = param("limit"); !v.ok()) {
    return v.error();
  } else if (*v) {
    auto n = ParsePositive("limit", **v);
    if (!n.ok()) return n.error();
    if (*n > kMaxLimit) return MakeError("limit: at most 1000");
    q.limit = *n;
  }
  if (auto v = param("order"); !v.ok()) {
    return v.error();
  } else if (*v) {
    if (**v == "asc")
      q.ascending = true;
    else if (**v != "desc")
      return MakeError("order: expected asc or desc");
  }
  return q;
}

}  // namespace sandwatch::receiver
