#include <nlohmann/json.hpp>

#include "kube_internal.h"

namespace sandwatch::harness::kube {

Result<std::vector<std::string>> SidekickUiEventsToFalcoJson(const std::string& body) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(std::string("falcosidekick-ui answer is not JSON: ") + e.what());
  }
  if (!j.is_object()) return MakeError("falcosidekick-ui answer: expected an object");
  std::vector<std::string> out;
  if (!j.contains("results") || j["results"].is_null()) return out;  // no events
  const nlohmann::json& results = j["results"];
  if (!results.is_array() && !results.is_object()) {
    return MakeError("falcosidekick-ui answer: 'results' is neither a list nor a map");
  }
  for (const auto& ev : results) {  // arrays, and the older id -> event maps
    if (!ev.is_object() || !ev.contains("rule") || !ev["rule"].is_string() ||
        !ev.contains("time") || !ev["time"].is_string()) {
      return MakeError("falcosidekick-ui answer: an event lacks 'rule' or 'time'");
    }
    nlohmann::json falco = nlohmann::json::object();
    for (const char* key : {"uuid", "output", "priority", "rule", "time", "source", "output_fields",
                            "tags", "hostname"}) {
      if (ev.contains(key)) falco[key] = ev[key];
    }
    out.push_back(falco.dump());
  }
  return out;
}

}  // namespace sandwatch::harness::kube
