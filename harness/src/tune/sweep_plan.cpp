// The `sweep:` section of a sweep scenario (scenarios/poll-sweep.yaml).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "sandwatch/harness/format.h"
#include "sandwatch/harness/tune/sweep.h"

namespace sandwatch::harness::tune {
namespace {

Error Bad(std::string_view origin, const std::string& key, const std::string& why) {
  return MakeError(std::string(origin) + ": sweep." + key + ": " + why);
}

// Reads a number into *out; false when it is outside [lo, hi] (or not a number: NaN).
template <class T>
bool ReadInRange(const YAML::Node& v, T lo, T hi, T* out) {
  *out = v.as<T>();
  return *out >= lo && *out <= hi;
}

std::string Range(double lo, double hi) { return "must be in " + Compact(lo) + ".." + Compact(hi); }

}  // namespace

int SweepPlan::TrialsFor(int64_t lifetime_ms) const {
  auto it = trials_for.find(lifetime_ms);
  return it == trials_for.end() ? trials : it->second;
}

Result<SweepPlan> ParseSweepPlan(std::string_view yaml_text, std::string_view origin) {
  SweepPlan plan;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return MakeError(std::string(origin) + ": " + e.what());
  }
  if (!root.IsMap() || !root["sweep"].IsMap()) {
    return MakeError(std::string(origin) + ": no `sweep:` map (see docs/tuning.md)");
  }
  const YAML::Node s = root["sweep"];
  try {
    if (root["name"]) plan.name = root["name"].as<std::string>();
    for (auto it = s.begin(); it != s.end(); ++it) {
      const auto key = it->first.as<std::string>();
      const YAML::Node v = it->second;
      if (key == "lifetimes_ms") {
        plan.lifetimes_ms = v.as<std::vector<int64_t>>();
        for (auto l : plan.lifetimes_ms) {
          if (l <= 0 || l > 600000)
            return Bad(origin, key, "each lifetime must be in 1..600000 ms");
        }
      } else if (key == "poll_intervals_s") {
        plan.intervals_s = v.as<std::vector<double>>();
        for (auto p : plan.intervals_s) {
          if (!(p >= 0.01 && p <= 3600))
            return Bad(origin, key, "each interval must be in 0.01..3600 s");
        }
      } else if (key == "captures") {
        plan.captures = v.as<std::vector<std::string>>();
        static const std::set<std::string> kKnown = {"poll", "inotify", "fanotify", "netlink"};
        for (const auto& c : plan.captures) {
          if (kKnown.count(c) == 0)
            return Bad(origin, key,
                       "unknown capture \"" + c + "\" (poll, inotify, fanotify, netlink)");
        }
      } else if (key == "trials") {
        if (!ReadInRange(v, 1, 10000, &plan.trials)) return Bad(origin, key, Range(1, 10000));
      } else if (key == "trials_for_lifetime") {
        plan.trials_for.clear();
        for (auto t = v.begin(); t != v.end(); ++t) {
          const int n = t->second.as<int>();
          if (n < 1 || n > 10000) return Bad(origin, key, "each count must be in 1..10000");
          plan.trials_for[t->first.as<int64_t>()] = n;
        }
      } else if (key == "window_s") {
        if (!ReadInRange(v, 0.1, 3600.0, &plan.window_s)) return Bad(origin, key, Range(0.1, 3600));
      } else if (key == "idle_s") {
        if (!ReadInRange(v, 0.5, 600.0, &plan.idle_s)) return Bad(origin, key, Range(0.5, 600));
      } else if (key == "max_in_flight") {
        if (!ReadInRange(v, 1, 4096, &plan.max_in_flight)) return Bad(origin, key, Range(1, 4096));
      } else if (key == "seed") {
        plan.seed = v.as<uint64_t>();
      } else if (key == "mode") {
        plan.mode = v.as<std::string>();
        if (plan.mode != "node" && plan.mode != "kata" && plan.mode != "sidecar") {
          return Bad(origin, key, "must be node, kata or sidecar");
        }
      } else if (key == "binaries" || key == "vantages") {
        const bool bin = key == "binaries";
        auto& list = bin ? plan.binaries : plan.vantages;
        list = v.as<std::vector<std::string>>();
        const std::set<std::string> known =
            bin ? std::set<std::string>{"static", "dynamic"}
                : std::set<std::string>{"privileged", "unprivileged"};
        for (const auto& b : list) {
          if (known.count(b) == 0)
            return Bad(
                origin, key,
                "unknown value \"" + b + "\" (" + *known.begin() + ", " + *known.rbegin() + ")");
        }
        if (list.empty()) return Bad(origin, key, "must not be empty");
      } else {
        return Bad(origin, key,
                   "unknown key (known: lifetimes_ms, poll_intervals_s, captures, trials, "
                   "trials_for_lifetime, window_s, idle_s, max_in_flight, seed, mode, binaries, "
                   "vantages)");
      }
    }
  } catch (const YAML::Exception& e) {
    return MakeError(std::string(origin) + ": sweep: " + e.what());
  }
  if (plan.name.empty() ||
      plan.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
    return MakeError(std::string(origin) +
                     ": name: use lower-case letters, digits, '-', '_' or '.'");
  }
  if (plan.lifetimes_ms.empty() || plan.intervals_s.empty() || plan.captures.empty()) {
    return MakeError(std::string(origin) +
                     ": sweep: lifetimes, intervals and captures must not be empty");
  }
  return plan;
}

}  // namespace sandwatch::harness::tune
