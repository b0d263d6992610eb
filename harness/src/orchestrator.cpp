// The orchestrator: reads a scenario's kind and hands the run to it; `report DIR`
// goes to the kind that wrote DIR. The kinds this binary has are listed here.
#include <yaml-cpp/yaml.h>

#include <utility>

#include "sandwatch/core/files.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {

const std::vector<const ScenarioKind*>& ScenarioKinds() {
  static const std::vector<const ScenarioKind*> kinds = {&ChainKind(), &SweepKind()};
  return kinds;
}

namespace {

// `kind:`, else sweep when the file has a `sweep:` section, else chain.
Result<std::string> KindOf(const std::string& text, const std::string& origin) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return std::string(ScenarioKinds().front()->Name());
    if (root["kind"]) {
      if (!root["kind"].IsScalar()) return MakeError(origin + ": kind: expected a string", 2);
      return root["kind"].as<std::string>();
    }
    return std::string(root["sweep"] ? "sweep" : ScenarioKinds().front()->Name());
  } catch (const YAML::Exception& e) {
    return MakeError(origin + ": YAML error: " + e.what(), 2);
  }
}

}  // namespace

Result<RunOutcome> RunScenario(const RunOptions& opts, BackendRegistry& backends,
                               CommandRunner& runner, const Clock& clock) {
  std::string text = opts.scenario_text;
  if (text.empty()) {
    auto read = ReadFileToString(opts.scenario_path);
    if (!read.ok()) return MakeError("cannot read scenario " + opts.scenario_path, 2);
    text = std::move(*read);
  }
  auto kind = KindOf(text, opts.scenario_path);
  if (!kind.ok()) return kind.error();
  std::vector<std::string> known;
  for (const ScenarioKind* k : ScenarioKinds()) {
    if (k->Name() == *kind) return k->Run(KindRun{opts, std::move(text), backends, runner, clock});
    known.emplace_back(k->Name());
  }
  return MakeError(opts.scenario_path + ": kind: unknown kind '" + *kind +
                       "' (known: " + Join(known, ", ") + ")",
                   2);
}

Result<RunOutcome> RerenderReport(const std::string& dir) {
  for (const ScenarioKind* k : ScenarioKinds()) {
    if (k->WroteFolder(dir)) return k->Rerender(dir);
  }
  // Not recognised: the default kind names what is missing.
  return ScenarioKinds().front()->Rerender(dir);
}

}  // namespace sandwatch::harness
