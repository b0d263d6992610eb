#include "sensors_view.h"

#include <nlohmann/json.hpp>
#include <set>

#include "sandwatch/core/clock.h"

namespace sandwatch::receiver {

using nlohmann::json;

bool IsSilent(const SensorRow& s, int64_t now_ns, double default_interval_s) {
  double interval = s.interval_s > 0 ? s.interval_s : default_interval_s;
  int64_t ref = s.last_heartbeat_ns ? s.last_heartbeat_ns : s.last_event_ns;
  if (ref == 0) return false;
  return static_cast<double>(now_ns - ref) > 2 * interval * 1e9;
}

int64_t SeqGaps(const SensorRow& s) {
  int64_t gaps = static_cast<int64_t>(s.seq_max) - static_cast<int64_t>(s.seq_count);
  return gaps > 0 ? gaps : 0;
}

std::vector<std::string> SensorWarnings(const SensorRow& s, bool silent) {
  std::vector<std::string> w;
  if (silent) w.emplace_back("silent: no heartbeat for more than 2x its interval");
  if (int64_t g = SeqGaps(s); g > 0) {
    w.push_back(std::to_string(g) + (g == 1 ? " event" : " events") + " lost (seq gaps)");
  }
  if (s.last_seq > s.seq_max && s.last_heartbeat_ns > 0) {
    w.push_back(std::to_string(s.last_seq - s.seq_max) + " events emitted but not yet received");
  }
  json counters = json::parse(s.counters_json, nullptr, false);
  if (counters.is_object()) {
    for (const char* k : {"events_dropped", "netlink_overflows", "cmdline_unreadable"}) {
      auto it = counters.find(k);
      if (it != counters.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
        w.push_back(std::string(k) + " = " + std::to_string(it->get<int64_t>()));
      }
    }
  }
  if (s.capture.find("degraded") != std::string::npos ||
      s.capture.find("fallback") != std::string::npos) {
    w.push_back("capture degraded: " + s.capture);
  }
  return w;
}

namespace {

json RefusalJson(const Metrics::Refusals* r) {
  return {{"refused", r ? r->count : 0},
          {"last_refused", r && r->last_ns ? json(FormatRfc3339(r->last_ns)) : json(nullptr)}};
}

}  // namespace

std::string SensorsJson(const std::vector<SensorRow>& rows, int64_t now_ns,
                        double default_interval_s,
                        const std::map<std::string, Metrics::Refusals>& refused) {
  json arr = json::array();
  std::set<std::string> known;
  for (const SensorRow& s : rows) {
    known.insert(s.id);
    auto ref = refused.find(s.id);
    const Metrics::Refusals* r = ref == refused.end() ? nullptr : &ref->second;
    bool silent = IsSilent(s, now_ns, default_interval_s);
    json counters = json::parse(s.counters_json, nullptr, false);
    if (!counters.is_object()) counters = json::object();
    json j{{"id", s.id},
           {"mode", s.mode},
           {"capture", s.capture},
           {"version", s.version},
           {"hostname", s.hostname},
           {"k8s", {{"pod", s.pod}, {"namespace", s.ns}}},
           {"interval_s", s.interval_s > 0 ? s.interval_s : default_interval_s},
           {"status", silent ? "silent" : "alive"},
           {"last_heartbeat",
            s.last_heartbeat_ns ? json(FormatRfc3339(s.last_heartbeat_ns)) : json(nullptr)},
           {"last_heartbeat_age_s",
            s.last_heartbeat_ns ? json(static_cast<double>(now_ns - s.last_heartbeat_ns) / 1e9)
                                : json(nullptr)},
           {"sensor_time",
            s.heartbeat_time_ns ? json(FormatRfc3339(s.heartbeat_time_ns)) : json(nullptr)},
           {"last_event", s.last_event_ns ? json(FormatRfc3339(s.last_event_ns)) : json(nullptr)},
           {"first_seen", s.first_seen_ns ? json(FormatRfc3339(s.first_seen_ns)) : json(nullptr)},
           {"silent_since",
            s.silent && s.silent_since_ns ? json(FormatRfc3339(s.silent_since_ns)) : json(nullptr)},
           {"events", s.events},
           {"last_seq", s.last_seq},
           {"seq_max", s.seq_max},
           {"seq_gaps", SeqGaps(s)},
           {"counters", std::move(counters)},
           {"warnings", SensorWarnings(s, silent)}};
    j.update(RefusalJson(r));
    if (r) {
      j["warnings"].push_back(std::to_string(r->count) +
                              " requests refused: their token does not cover this sensor id "
                              "(someone else speaking for it?)");
    }
    arr.push_back(std::move(j));
  }
  json unknown = json::array();
  for (const auto& [id, r] : refused) {
    if (known.count(id)) continue;
    json u = RefusalJson(&r);
    u["id"] = id;
    unknown.push_back(std::move(u));
  }
  json out{{"sensors", std::move(arr)},
           {"refused_unknown", std::move(unknown)},
           {"now", FormatRfc3339(now_ns)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sandwatch::receiver
