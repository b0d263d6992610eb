#include "sandwatch/harness/scenario.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <set>
#include <utility>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/harness/yaml_fields.h"

namespace sandwatch::harness {

namespace {

using yamlf::Custom;
using yamlf::Fail;
using yamlf::ReadFields;
using yamlf::Seconds;

const std::set<std::string> kRuntimes = {"runc", "kata-qemu", "host"};
const std::set<std::string> kObservers = {"host-view", "in-guest", "falco"};
const std::set<std::string> kCaptures = {"poll", "inotify", "fanotify", "netlink", "auto"};
const std::set<std::string> kPackageModes = {"real", "staged", "simulate"};

// expect: [{runtime, observer, signals: [..] | seed, detected: true|false}, ...]
std::vector<Expectation> ParseExpect(const YAML::Node& n) {
  if (!n.IsSequence()) Fail("expect", "expected a list of {runtime, observer, signals, detected}");
  std::set<std::string> known;
  for (auto s : signals::kSeedSignals) known.insert(std::string(s));
  known.insert(std::string(signals::kReverseShell));
  std::vector<Expectation> out(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    Expectation& e = out[i];
    const Custom signals = [&](const YAML::Node& v, const std::string& k) {
      if (v.IsScalar() && v.as<std::string>() == "seed") {
        for (auto s : signals::kSeedSignals) e.signals.emplace_back(s);
      } else {
        e.signals = yamlf::List(v, k, known);
      }
    };
    ReadFields(n[i], "expect[" + std::to_string(i) + "]",
               {{.key = "runtime", .target = &e.runtime, .allowed = kRuntimes, .required = true},
                {.key = "observer", .target = &e.observer, .allowed = kObservers, .required = true},
                {.key = "signals", .target = signals, .required = true},
                {.key = "detected", .target = &e.detected, .required = true}});
  }
  return out;
}

// A nested mapping, read with its own table of fields.
Custom Section(const char* where, std::vector<yamlf::Field> fields) {
  return [where, fields = std::move(fields)](const YAML::Node& v, const std::string&) {
    ReadFields(v, where, fields);
  };
}

Scenario ParseRoot(const YAML::Node& root) {
  Scenario s;
  SensorSettings& sn = s.sensor;
  AttackSettings& at = s.attack;
  Timeouts& to = s.timeouts;
  std::vector<yamlf::Field> sensor = {
      {"capture", &sn.capture, kCaptures},
      {.key = "poll_interval", .target = Seconds{&sn.poll_interval_s}, .lo = 0.01, .hi = 600},
      {.key = "heartbeat_interval", .target = Seconds{&sn.heartbeat_interval_s}, .lo = 0.1},
      {"host_view_capture", &sn.host_view_capture, kCaptures},
      {"mode", &sn.mode, {"kata", "sidecar"}},
      {"expected_processes", &sn.expected_processes},
      {"rules_file", &sn.rules_file}};
  std::vector<yamlf::Field> attack = {
      {"package_install", &at.package_install, kPackageModes},
      {"host_package_install", &at.host_package_install, kPackageModes},
      {.key = "hold_ms", .target = &at.hold_ms, .lo = 0, .hi = 3600000},
      {.key = "gap_ms", .target = &at.gap_ms, .lo = 0, .hi = 3600000},
      {.key = "repeat", .target = &at.chain_repeat, .lo = 1, .hi = 1000},
      {.key = "package_delay_ms", .target = &at.package_delay_ms, .lo = 0, .hi = 600000}};
  // A timeout of zero would end every step at once.
  std::vector<yamlf::Field> timeouts = {
      {.key = "prepare", .target = Seconds{&to.prepare_s}, .lo = 0.001},
      {.key = "boot", .target = Seconds{&to.boot_s}, .lo = 0.001},
      {.key = "cell", .target = Seconds{&to.cell_s}, .lo = 0.001},
      {"settle", Seconds{&to.settle_s}}};
  std::vector<yamlf::Field> benign = {
      {.key = "duration_s", .target = &s.benign.duration_s, .lo = 1, .hi = 86400},
      {.key = "rate_per_min", .target = &s.benign.rate_per_min, .lo = 1, .hi = 600},
      {"mix", &s.benign.mix}};
  const Custom expect = [&s](const YAML::Node& v, const std::string&) {
    s.expect = ParseExpect(v);
  };
  std::string kind;
  ReadFields(
      root, "",
      {{"kind", &kind, {"chain"}},
       {.key = "name", .target = &s.name, .required = true},
       {"description", &s.description},
       {.key = "runtimes", .target = &s.runtimes, .allowed = kRuntimes, .required = true},
       {.key = "observers", .target = &s.observers, .allowed = kObservers, .required = true},
       {"chain", &s.chain, {"blog", "benign"}},
       {"benign", Section("benign", std::move(benign))},
       {"expect", expect},
       {"variants", &s.variants},
       {"speeds", &s.speeds, {"blog", "human", "fast", "burst"}},
       {.key = "repetitions", .target = &s.repetitions, .lo = 1, .hi = 1000},
       {"attack", Section("attack", std::move(attack))},
       {"sensor", Section("sensor", std::move(sensor))},
       {"timeouts", Section("timeouts", std::move(timeouts))},
       {"falco", Section("falco", {{"path", &s.falco.path}, {"external", &s.falco.external}})}});
  if (s.name.empty() ||
      s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
    Fail("name", "use lower-case letters, digits, '-', '_' or '.'");
  }
  if (s.benign.mix && s.chain == "benign") Fail("benign.mix", "only with chain: blog");
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
    a = {"--benign-duration-s", std::to_string(benign.duration_s), "--benign-rate-per-min",
         std::to_string(benign.rate_per_min)};
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
  } catch (const yamlf::FieldError& e) {
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
