#include "sandwatch/harness/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::harness {

namespace {

const std::set<std::string> kRuntimes = {"runc", "kata-qemu", "host"};
const std::set<std::string> kObservers = {"host-view", "in-guest", "falco"};
const std::set<std::string> kSpeeds = {"blog", "human", "fast", "burst"};
const std::set<std::string> kCaptures = {"poll", "inotify", "fanotify", "netlink", "auto"};
const std::set<std::string> kPackageModes = {"real", "staged", "simulate"};

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// Each helper throws ScenarioError carrying the key path; ParseScenario catches
// it (and yaml-cpp's exceptions) at the boundary.
struct ScenarioError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& key, const std::string& why) {
  throw ScenarioError{key + ": " + why};
}

void CheckKeys(const YAML::Node& map, const std::string& where,
               const std::set<std::string>& allowed) {
  if (!map.IsMap()) Fail(where.empty() ? "scenario" : where, "expected a mapping");
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      Fail(where.empty() ? key : where + "." + key,
           "unknown key (expected one of: " + Join(allowed) + ")");
    }
  }
}

std::string Str(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(key, "expected a string");
  return n.as<std::string>();
}

int Int(const YAML::Node& n, const std::string& key, int min, int max) {
  if (!n.IsScalar()) Fail(key, "expected an integer");
  long long v = 0;
  if (!YAML::convert<long long>::decode(n, v)) {
    Fail(key, "expected an integer, got '" + n.as<std::string>() + "'");
  }
  if (v < min || v > max) {
    Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<int>(v);
}

// Seconds: a number, or a duration string such as "500ms", "3m".
double Seconds(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(key, R"(expected a duration (seconds or "500ms", "3m"))");
  auto text = n.as<std::string>();
  auto ns = ParseDuration(text);
  if (!ns.ok()) Fail(key, "bad duration '" + text + "': " + ns.error().message);
  return static_cast<double>(*ns) / 1e9;
}

std::vector<std::string> List(const YAML::Node& n, const std::string& key,
                              const std::set<std::string>* allowed) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(Str(n[i], key + "[" + std::to_string(i) + "]"));
    }
  } else {
    Fail(key, "expected a list");
  }
  if (out.empty()) Fail(key, "must not be empty");
  for (size_t i = 0; i < out.size(); ++i) {
    if (allowed != nullptr && allowed->count(out[i]) == 0) {
      Fail(key + "[" + std::to_string(i) + "]",
           "unknown value '" + out[i] + "' (expected one of: " + Join(*allowed) + ")");
    }
    if (std::count(out.begin(), out.end(), out[i]) > 1) {
      Fail(key, "'" + out[i] + "' is listed twice");
    }
  }
  return out;
}

std::string OneOf(const YAML::Node& n, const std::string& key, const std::set<std::string>& ok) {
  auto v = Str(n, key);
  if (ok.count(v) == 0) Fail(key, "unknown value '" + v + "' (expected one of: " + Join(ok) + ")");
  return v;
}

void ParseSensor(const YAML::Node& n, SensorSettings* s) {
  CheckKeys(n, "sensor",
            {"capture", "poll_interval", "heartbeat_interval", "host_view_capture", "mode",
             "expected_processes", "rules_file"});
  if (n["capture"]) s->capture = OneOf(n["capture"], "sensor.capture", kCaptures);
  if (n["poll_interval"]) {
    s->poll_interval_s = Seconds(n["poll_interval"], "sensor.poll_interval");
    if (s->poll_interval_s < 0.01 || s->poll_interval_s > 600) {
      Fail("sensor.poll_interval", "must be between 0.01 and 600 seconds");
    }
  }
  if (n["heartbeat_interval"]) {
    s->heartbeat_interval_s = Seconds(n["heartbeat_interval"], "sensor.heartbeat_interval");
    if (s->heartbeat_interval_s < 0.1) Fail("sensor.heartbeat_interval", "must be >= 0.1 s");
  }
  if (n["host_view_capture"]) {
    s->host_view_capture = OneOf(n["host_view_capture"], "sensor.host_view_capture", kCaptures);
  }
  if (n["mode"]) s->mode = OneOf(n["mode"], "sensor.mode", {"kata", "sidecar"});
  if (n["expected_processes"]) {
    s->expected_processes = List(n["expected_processes"], "sensor.expected_processes", nullptr);
  }
  if (n["rules_file"]) s->rules_file = Str(n["rules_file"], "sensor.rules_file");
}

void ParseAttack(const YAML::Node& n, AttackSettings* a) {
  CheckKeys(n, "attack",
            {"package_install", "host_package_install", "hold_ms", "gap_ms", "repeat",
             "package_delay_ms"});
  if (n["package_install"]) {
    a->package_install = OneOf(n["package_install"], "attack.package_install", kPackageModes);
  }
  if (n["host_package_install"]) {
    a->host_package_install =
        OneOf(n["host_package_install"], "attack.host_package_install", kPackageModes);
  }
  if (n["hold_ms"]) a->hold_ms = Int(n["hold_ms"], "attack.hold_ms", 0, 3600000);
  if (n["gap_ms"]) a->gap_ms = Int(n["gap_ms"], "attack.gap_ms", 0, 3600000);
  if (n["repeat"]) a->chain_repeat = Int(n["repeat"], "attack.repeat", 1, 1000);
  if (n["package_delay_ms"]) {
    a->package_delay_ms = Int(n["package_delay_ms"], "attack.package_delay_ms", 0, 600000);
  }
}

void ParseTimeouts(const YAML::Node& n, Timeouts* t) {
  CheckKeys(n, "timeouts", {"prepare", "boot", "cell", "settle"});
  auto pos = [](const YAML::Node& v, const std::string& key) {
    double s = Seconds(v, key);
    if (s <= 0) Fail(key, "must be > 0");
    return s;
  };
  if (n["prepare"]) t->prepare_s = pos(n["prepare"], "timeouts.prepare");
  if (n["boot"]) t->boot_s = pos(n["boot"], "timeouts.boot");
  if (n["cell"]) t->cell_s = pos(n["cell"], "timeouts.cell");
  if (n["settle"]) t->settle_s = Seconds(n["settle"], "timeouts.settle");
}

void ParseFalco(const YAML::Node& n, FalcoSettings* f) {
  CheckKeys(n, "falco", {"path", "external"});
  if (n["path"]) f->path = Str(n["path"], "falco.path");
  if (n["external"])
    f->external = OneOf(n["external"], "falco.external", {"true", "false"}) == "true";
}

void ParseBenign(const YAML::Node& n, BenignSettings* b) {
  CheckKeys(n, "benign", {"duration_s", "rate_per_min", "mix"});
  if (n["duration_s"]) b->duration_s = Int(n["duration_s"], "benign.duration_s", 1, 86400);
  if (n["rate_per_min"]) b->rate_per_min = Int(n["rate_per_min"], "benign.rate_per_min", 1, 600);
  if (n["mix"]) {
    if (!n["mix"].IsScalar()) Fail("benign.mix", "expected true or false");
    bool v = false;
    if (!YAML::convert<bool>::decode(n["mix"], v)) Fail("benign.mix", "expected true or false");
    b->mix = v;
  }
}

// expect: [{runtime, observer, signals: [..] | seed, detected: true|false}, ...]
std::vector<Expectation> ParseExpect(const YAML::Node& n) {
  if (!n.IsSequence()) Fail("expect", "expected a list of {runtime, observer, signals, detected}");
  std::set<std::string> known;
  for (auto s : signals::kSeedSignals) known.insert(std::string(s));
  known.insert(std::string(signals::kReverseShell));
  std::vector<Expectation> out;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string at = "expect[" + std::to_string(i) + "]";
    CheckKeys(n[i], at, {"runtime", "observer", "signals", "detected"});
    for (const char* k : {"runtime", "observer", "signals", "detected"}) {
      if (!n[i][k]) Fail(at + "." + k, "is required");
    }
    Expectation e;
    e.runtime = OneOf(n[i]["runtime"], at + ".runtime", kRuntimes);
    e.observer = OneOf(n[i]["observer"], at + ".observer", kObservers);
    if (n[i]["signals"].IsScalar() && n[i]["signals"].as<std::string>() == "seed") {
      for (auto s : signals::kSeedSignals) e.signals.emplace_back(s);
    } else {
      e.signals = List(n[i]["signals"], at + ".signals", &known);
    }
    bool v = false;
    if (!n[i]["detected"].IsScalar() || !YAML::convert<bool>::decode(n[i]["detected"], v)) {
      Fail(at + ".detected", "expected true or false");
    }
    e.detected = v;
    out.push_back(std::move(e));
  }
  return out;
}

Scenario ParseRoot(const YAML::Node& root) {
  CheckKeys(root, "",
            {"kind", "name", "description", "runtimes", "observers", "chain", "benign", "expect",
             "variants", "speeds", "repetitions", "attack", "sensor", "timeouts", "falco"});
  if (root["kind"]) OneOf(root["kind"], "kind", {"chain"});
  Scenario s;
  if (!root["name"]) Fail("name", "is required");
  s.name = Str(root["name"], "name");
  if (s.name.empty() ||
      s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
    Fail("name", "use lower-case letters, digits, '-', '_' or '.'");
  }
  if (root["description"]) s.description = Str(root["description"], "description");
  if (!root["runtimes"]) Fail("runtimes", "is required");
  s.runtimes = List(root["runtimes"], "runtimes", &kRuntimes);
  if (!root["observers"]) Fail("observers", "is required");
  s.observers = List(root["observers"], "observers", &kObservers);
  if (root["chain"]) s.chain = OneOf(root["chain"], "chain", {"blog", "benign"});
  if (root["benign"]) ParseBenign(root["benign"], &s.benign);
  if (s.benign.mix && s.chain == "benign") Fail("benign.mix", "only with chain: blog");
  if (root["expect"]) s.expect = ParseExpect(root["expect"]);
  if (root["variants"]) s.variants = List(root["variants"], "variants", nullptr);
  if (root["speeds"]) s.speeds = List(root["speeds"], "speeds", &kSpeeds);
  if (root["repetitions"]) s.repetitions = Int(root["repetitions"], "repetitions", 1, 1000);
  if (root["attack"]) ParseAttack(root["attack"], &s.attack);
  if (root["sensor"]) ParseSensor(root["sensor"], &s.sensor);
  if (root["timeouts"]) ParseTimeouts(root["timeouts"], &s.timeouts);
  if (root["falco"]) ParseFalco(root["falco"], &s.falco);
  return s;
}

}  // namespace

double Scenario::SettleSeconds() const {
  if (timeouts.settle_s >= 0) return timeouts.settle_s;
  return 2 * sensor.poll_interval_s + 3;
}

std::vector<std::string> Scenario::BenignArgs() const {
  std::vector<std::string> a;
  if (chain == "benign") {
    a = {"--benign-duration-s", std::to_string(static_cast<int>(benign.duration_s)),
         "--benign-rate-per-min", std::to_string(static_cast<int>(benign.rate_per_min))};
  }
  if (benign.mix) a.emplace_back("--mix-benign");
  return a;
}

std::string Cell::Id() const {
  std::string v = variant;
  for (char& c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  }
  return runtime + "-" + speed + "-" + v + "-r" + std::to_string(repetition);
}

Result<Scenario> ParseScenario(std::string_view yaml_text, std::string_view origin) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root || root.IsNull()) return MakeError(std::string(origin) + ": empty scenario");
    Scenario s = ParseRoot(root);
    s.path = std::string(origin);
    return s;
  } catch (const ScenarioError& e) {
    return MakeError(std::string(origin) + ": " + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(std::string(origin) + ": YAML error: " + e.what());
  }
}

Result<Scenario> LoadScenario(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return MakeError("cannot read scenario " + path, text.error().code);
  return ParseScenario(*text, path);
}

std::vector<Cell> ExpandCells(const Scenario& s) {
  std::vector<Cell> cells;
  for (const auto& rt : s.runtimes) {
    for (const auto& sp : s.speeds) {
      for (const auto& va : s.variants) {
        for (int r = 0; r < s.repetitions; ++r) {
          cells.push_back(Cell{static_cast<int>(cells.size()), rt, va, sp, r});
        }
      }
    }
  }
  return cells;
}

bool ExpectedVisible(std::string_view runtime, std::string_view observer) {
  bool host_level = observer == kObserverHostView || observer == kObserverFalco;
  return !(host_level && runtime == kRuntimeKataQemu);
}

}  // namespace sandwatch::harness
