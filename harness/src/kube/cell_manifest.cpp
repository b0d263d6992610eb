#include <yaml-cpp/yaml.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "kube_internal.h"
#include "sandwatch/harness/format.h"

namespace sandwatch::harness::kube {
namespace {

// A string scalar that stays a string in the output (env values must be strings:
// POLL_INTERVAL "2", never the number 2).
YAML::Node StringScalar(const std::string& value) {
  YAML::Node n(value);
  n.SetTag("!");
  return n;
}

// YAML -> JSON with Kubernetes' typing: quoted scalars (tag "!") are strings; plain
// scalars become booleans, integers or null when they read as such.
nlohmann::ordered_json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      auto a = nlohmann::ordered_json::array();
      for (const auto& item : n) a.push_back(ToJson(item));
      return a;
    }
    case YAML::NodeType::Map: {
      auto o = nlohmann::ordered_json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& v = n.Scalar();
      if (n.Tag() == "!") return v;
      if (v == "true") return true;
      if (v == "false") return false;
      if (v == "null" || v == "~") return nullptr;
      long long i = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (ec == std::errc() && end == v.data() + v.size()) return i;
      return v;
    }
    default:
      return nullptr;
  }
}

// Sets env `name` to `value` in the container's env list, appending it when absent.
// A valueFrom entry (POD_NAME, POD_NAMESPACE) is never touched.
void SetEnv(YAML::Node env, const std::string& name, const std::string& value) {
  for (YAML::Node e : env) {
    if (e["name"].as<std::string>("") == name) {
      if (!e["valueFrom"]) e["value"] = StringScalar(value);
      return;
    }
  }
  YAML::Node entry;
  entry["name"] = name;
  entry["value"] = StringScalar(value);
  env.push_back(entry);
}

}  // namespace

Result<std::string> RenderCellManifest(const std::string& kustomized_yaml,
                                       const std::string& pod_name, const SensorSettings& sensor,
                                       const std::string& run_id, const std::string& cell_id) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(kustomized_yaml);
  } catch (const YAML::Exception& e) {
    return MakeError(std::string("rendered manifest does not parse: ") + e.what());
  }
  if (docs.size() != 1 || docs[0]["kind"].as<std::string>("") != "Pod") {
    return MakeError("rendered manifest: expected exactly one Pod, got " +
                     std::to_string(docs.size()) + " document(s)");
  }
  YAML::Node pod = docs[0];
  const auto name = pod["metadata"]["name"].as<std::string>("");
  if (name != pod_name) {
    return MakeError("rendered manifest: Pod is named '" + name + "', expected '" + pod_name + "'");
  }
  YAML::Node sidecar;
  YAML::Node containers = pod["spec"]["containers"];
  for (size_t i = 0; containers.IsSequence() && i < containers.size(); ++i) {
    if (containers[i]["name"].as<std::string>("") == "sensor") sidecar = containers[i];
  }
  if (!sidecar.IsMap())
    return MakeError("rendered manifest: Pod " + name + " has no 'sensor' container");
  if (!run_id.empty()) pod["metadata"]["labels"]["sandwatch.dev/run"] = StringScalar(run_id);
  if (!cell_id.empty()) pod["metadata"]["labels"]["sandwatch.dev/cell"] = StringScalar(cell_id);

  YAML::Node env = sidecar["env"];
  SetEnv(env, "POLL_INTERVAL", FormatSeconds(sensor.poll_interval_s));
  SetEnv(env, "HEARTBEAT_INTERVAL", FormatSeconds(sensor.heartbeat_interval_s));
  if (!sensor.expected_processes.empty())
    SetEnv(env, "EXPECTED_PROCESSES", Join(sensor.expected_processes, ","));
  if (!sensor.capture.empty()) SetEnv(env, "CAPTURE", sensor.capture);

  // JSON (which kubectl apply takes as it takes YAML) keeps every string a string.
  return ToJson(pod).dump(2) + "\n";
}

}  // namespace sandwatch::harness::kube
