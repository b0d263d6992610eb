// The `sweep:` section of a sweep scenario (scenarios/poll-sweep.yaml).
#include <yaml-cpp/yaml.h>

#include <cstdint>

#include "sandwatch/harness/tune/sweep.h"
#include "sandwatch/harness/yaml_fields.h"

namespace sandwatch::harness::tune {

int SweepPlan::TrialsFor(int64_t lifetime_ms) const {
  auto it = trials_for.find(lifetime_ms);
  return it == trials_for.end() ? trials : it->second;
}

Result<SweepPlan> ParseSweepPlan(std::string_view yaml_text, std::string_view origin) {
  SweepPlan plan;
  const auto trials_for = [&plan](const YAML::Node& v, const std::string& key) {
    if (!v.IsMap()) yamlf::Fail(key, "expected a map of lifetime (ms): trials");
    plan.trials_for.clear();
    for (const auto& t : v) {
      const int n = t.second.as<int>();
      if (n < 1 || n > 10000) yamlf::Fail(key, "each count must be between 1 and 10000");
      plan.trials_for[t.first.as<int64_t>()] = n;
    }
  };
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap() || !root["sweep"].IsMap()) {
      return MakeError(std::string(origin) + ": no `sweep:` map (see docs/tuning.md)");
    }
    // The rest of the file (kind:, runtimes: ...) is not the sweep's.
    if (root["name"]) plan.name = root["name"].as<std::string>();
    yamlf::ReadFields(
        root["sweep"], "sweep",
        {{.key = "lifetimes_ms", .target = &plan.lifetimes_ms, .lo = 1, .hi = 600000},
         {.key = "poll_intervals_s", .target = &plan.intervals_s, .lo = 0.01, .hi = 3600},
         {"captures", &plan.captures, {"poll", "inotify", "fanotify", "netlink"}},
         {.key = "trials", .target = &plan.trials, .lo = 1, .hi = 10000},
         {"trials_for_lifetime", trials_for},
         {.key = "window_s", .target = &plan.window_s, .lo = 0.1, .hi = 3600},
         {.key = "idle_s", .target = &plan.idle_s, .lo = 0.5, .hi = 600},
         {.key = "max_in_flight", .target = &plan.max_in_flight, .lo = 1, .hi = 4096},
         {"seed", &plan.seed},
         {"mode", &plan.mode, {"node", "kata", "sidecar"}},
         {"binaries", &plan.binaries, {"static", "dynamic"}},
         {"vantages", &plan.vantages, {"privileged", "unprivileged"}}});
  } catch (const yamlf::FieldError& e) {
    return MakeError(std::string(origin) + ": " + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(std::string(origin) + ": sweep: " + e.what());
  }
  if (plan.name.empty() ||
      plan.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
    return MakeError(std::string(origin) +
                     ": name: use lower-case letters, digits, '-', '_' or '.'");
  }
  return plan;
}

}  // namespace sandwatch::harness::tune
