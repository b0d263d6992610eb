// The kustomize manifests: golden renderings, their structure parsed with yaml-cpp, the
// blog's env names on the sensor sidecar, and (when the binaries exist) that our sensor
// accepts exactly that env unchanged.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;

std::string Overlay(const std::string& name) {
  return SourceDir() + "/kind-cluster/manifests/overlays/" + name;
}
std::string Golden(const std::string& name) {
  return SourceDir() + "/harness/tests/kube/golden/" + name + ".yaml";
}

std::vector<YAML::Node> LoadDocs(const std::string& path) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAllFromFile(path);
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << path << ": " << e.what();
  }
  return docs;
}

YAML::Node Find(const std::vector<YAML::Node>& docs, const std::string& kind,
                const std::string& name) {
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>("") == kind &&
        d["metadata"]["name"].as<std::string>("") == name) {
      return d;
    }
  }
  return {};
}

YAML::Node Container(const YAML::Node& pod_spec, const std::string& name) {
  for (const auto& c : pod_spec["containers"]) {
    if (c["name"].as<std::string>("") == name) return c;
  }
  return {};
}

// The blog's sensor env, in the blog's order. Values for fieldRef entries are the path.
const std::vector<std::pair<std::string, std::string>> kBlogEnv = {
    {"RECEIVER_URL", "http://kata-receiver.kata-demo.svc.cluster.local/events"},
    {"POLL_INTERVAL", "2"},
    {"HEARTBEAT_INTERVAL", "15"},
    {"MODE", "*"},
    {"EXPECTED_PROCESSES", "sleep"},
    {"POD_NAME", "fieldRef:metadata.name"},
    {"POD_NAMESPACE", "fieldRef:metadata.namespace"},
};

std::vector<std::pair<std::string, std::string>> EnvOf(const YAML::Node& container) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& e : container["env"]) {
    auto value = e["value"].as<std::string>("");
    if (e["valueFrom"]) {
      value = "fieldRef:" + e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>("");
    }
    env.emplace_back(e["name"].as<std::string>(""), value);
  }
  return env;
}

void ExpectBlogPod(const std::string& overlay, const std::string& mode, bool kata) {
  const auto docs = LoadDocs(Golden(overlay));
  ASSERT_EQ(docs.size(), 1u) << overlay;
  const YAML::Node pod = Find(docs, "Pod", overlay);
  ASSERT_TRUE(pod.IsMap()) << "no Pod named " << overlay;
  EXPECT_EQ(pod["metadata"]["namespace"].as<std::string>(""), "kata-demo");
  EXPECT_EQ(pod["metadata"]["labels"]["app"].as<std::string>(""), overlay);
  const YAML::Node spec = pod["spec"];
  EXPECT_TRUE(spec["shareProcessNamespace"].as<bool>(false));
  EXPECT_EQ(spec["restartPolicy"].as<std::string>(""), "Never");
  if (kata) {
    EXPECT_EQ(spec["runtimeClassName"].as<std::string>(""), "kata-qemu");
  } else {
    EXPECT_FALSE(spec["runtimeClassName"]) << "normal-app must use the default runtime (runc)";
  }
  const YAML::Node app = Container(spec, "app");
  ASSERT_TRUE(app.IsMap());
  EXPECT_EQ(app["image"].as<std::string>(""), "localhost/sandwatch-workload:dev");
  EXPECT_EQ(app["args"][0].as<std::string>(""), "sleep 3600\n");
  const YAML::Node sensor = Container(spec, "sensor");
  ASSERT_TRUE(sensor.IsMap());
  EXPECT_EQ(sensor["image"].as<std::string>(""), "localhost/sandwatch-sensor:dev");
  // kind-loaded images must not be pulled.
  EXPECT_EQ(sensor["imagePullPolicy"].as<std::string>(""), "IfNotPresent");
  const auto env = EnvOf(sensor);
  ASSERT_EQ(env.size(), kBlogEnv.size() + 1);
  for (size_t i = 0; i < kBlogEnv.size(); ++i) {
    EXPECT_EQ(env[i].first, kBlogEnv[i].first) << "env #" << i;
    const std::string want = kBlogEnv[i].second == "*" ? mode : kBlogEnv[i].second;
    EXPECT_EQ(env[i].second, want) << env[i].first;
  }
  // After the blog's env: the token as a file from the pod's own Secret, never in the env.
  EXPECT_EQ(env.back().first, "RECEIVER_TOKEN_FILE");
  EXPECT_EQ(env.back().second, "/var/run/sandwatch/token");
  EXPECT_EQ(spec["volumes"][0]["secret"]["secretName"].as<std::string>(""),
            "sandwatch-sensor-" + overlay);
  EXPECT_EQ(sensor["volumeMounts"][0]["mountPath"].as<std::string>(""), "/var/run/sandwatch");
  EXPECT_FALSE(app["volumeMounts"]) << "the app container must not see the sensor's token";
  // The sidecar runs as a uid other than the app's, without capabilities.
  EXPECT_EQ(sensor["securityContext"]["runAsUser"].as<int>(0), 65532);
  EXPECT_TRUE(sensor["securityContext"]["runAsNonRoot"].as<bool>(false));
  EXPECT_EQ(sensor["securityContext"]["capabilities"]["drop"][0].as<std::string>(""), "ALL");
  EXPECT_FALSE(app["securityContext"]) << "the app keeps the image's uid (root)";
}

TEST(KubeManifests, NormalAppIsTheBlogPodOnRuncWithTheSensorSidecar) {
  ExpectBlogPod("normal-app", "sidecar", /*kata=*/false);
}

TEST(KubeManifests, KataAppIsTheBlogPodOnKataQemuWithTheSensorSidecar) {
  ExpectBlogPod("kata-app", "kata", /*kata=*/true);
}

TEST(KubeManifests, ClusterOverlayHasTheBlogReceiverAndTheListener) {
  const auto docs = LoadDocs(Golden("cluster"));
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_TRUE(Find(docs, "Namespace", "kata-demo").IsMap());

  const YAML::Node dep = Find(docs, "Deployment", "kata-receiver");
  ASSERT_TRUE(dep.IsMap());
  EXPECT_EQ(dep["metadata"]["namespace"].as<std::string>(""), "kata-demo");
  const YAML::Node tmpl = dep["spec"]["template"];
  EXPECT_EQ(tmpl["metadata"]["labels"]["app"].as<std::string>(""), "kata-receiver");
  const YAML::Node receiver = Container(tmpl["spec"], "receiver");
  ASSERT_TRUE(receiver.IsMap());
  EXPECT_EQ(receiver["ports"][0]["containerPort"].as<int>(0), 8080);
  EXPECT_EQ(receiver["readinessProbe"]["httpGet"]["path"].as<std::string>(""), "/healthz");
  EXPECT_EQ(receiver["args"][5].as<std::string>(""), "/etc/sandwatch/sensor-tokens");
  EXPECT_EQ(tmpl["spec"]["volumes"][1]["secret"]["secretName"].as<std::string>(""),
            "sandwatch-receiver-credentials");

  const YAML::Node svc = Find(docs, "Service", "kata-receiver");
  ASSERT_TRUE(svc.IsMap());
  EXPECT_EQ(svc["spec"]["type"].as<std::string>(""), "NodePort");
  EXPECT_EQ(svc["spec"]["selector"]["app"].as<std::string>(""), "kata-receiver");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"].as<int>(0), 80);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"].as<int>(0), 8080);
  EXPECT_EQ(svc["spec"]["ports"][0]["nodePort"].as<int>(0), 30080);

  const YAML::Node listener = Find(docs, "Deployment", "attacker");
  ASSERT_TRUE(listener.IsMap());
  const YAML::Node lc = Container(listener["spec"]["template"]["spec"], "listener");
  ASSERT_TRUE(lc.IsMap());
  EXPECT_NE(lc["args"][0].as<std::string>("").find(
                "sandwatch-attack-sim listen --bind 0.0.0.0 --port 4444"),
            std::string::npos);
  EXPECT_FALSE(lc["readinessProbe"]["tcpSocket"]) << "a TCP probe would use up the session";
  const YAML::Node lsvc = Find(docs, "Service", "attacker");
  ASSERT_TRUE(lsvc.IsMap());
  EXPECT_EQ(lsvc["spec"]["ports"][0]["port"].as<int>(0), 4444);
}

// Every kustomization's resources exist and every file parses: a structural check that
// holds without kubectl.
TEST(KubeManifests, EveryKustomizationReferencesExistingFiles) {
  const fs::path root = SourceDir() + "/kind-cluster/manifests";
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".yaml") continue;
    const auto docs = LoadDocs(entry.path().string());
    ASSERT_FALSE(docs.empty()) << entry.path();
    if (entry.path().filename() != "kustomization.yaml") continue;
    ++checked;
    for (const auto& r : docs[0]["resources"]) {
      const fs::path target = entry.path().parent_path() / r.as<std::string>();
      EXPECT_TRUE(fs::exists(target)) << entry.path() << " -> " << target;
    }
  }
  EXPECT_EQ(checked, 7);
}

// The Falco values and the kind config agree with the manifests: Sidekick posts to the
// receiver Service, every matching rule fires, the incubating rules load, the NodePort
// the harness reads is the one kind publishes, and the node gets /dev/kvm and vhost.
TEST(KubeManifests, FalcoValuesAndKindConfigFitTheManifests) {
  YAML::Node falco;
  YAML::Node kind;
  try {
    falco = YAML::LoadFile(SourceDir() + "/kind-cluster/falco-values.yaml");
    kind = YAML::LoadFile(SourceDir() + "/kind-cluster/kind-config.yaml");
  } catch (const YAML::Exception& e) {
    FAIL() << e.what();
  }
  EXPECT_EQ(falco["falco"]["rule_matching"].as<std::string>(""), "all");
  bool incubating_file = false;
  for (const auto& f : falco["falco"]["rules_files"]) {
    incubating_file |= f.as<std::string>() == "/etc/falco/falco-incubating_rules.yaml";
  }
  EXPECT_TRUE(incubating_file);
  bool incubating_ref = false;
  for (const auto& r : falco["falcoctl"]["config"]["artifact"]["install"]["refs"]) {
    incubating_ref |= r.as<std::string>().rfind("falco-incubating-rules:", 0) == 0;
  }
  EXPECT_TRUE(incubating_ref);
  EXPECT_TRUE(falco["falcosidekick"]["enabled"].as<bool>(false));
  EXPECT_TRUE(falco["falcosidekick"]["webui"]["enabled"].as<bool>(false));
  EXPECT_EQ(falco["falcosidekick"]["config"]["webhook"]["address"].as<std::string>(""),
            "http://kata-receiver.kata-demo.svc.cluster.local/falco");
  const YAML::Node header = falco["falcosidekick"]["config"]["extraEnv"][0];
  EXPECT_EQ(header["name"].as<std::string>(""), "WEBHOOK_CUSTOMHEADERS");
  EXPECT_EQ(header["valueFrom"]["secretKeyRef"]["name"].as<std::string>(""),
            "sandwatch-falcosidekick-credential");
  bool ancestors = false;
  for (const auto& f : falco["falco"]["append_output"][0]["extra_fields"]) {
    ancestors |= f.as<std::string>() == "proc.aname[2]";
  }
  EXPECT_TRUE(ancestors) << "host-view matching needs the attack-sim ancestor";

  const YAML::Node node = kind["nodes"][0];
  std::vector<std::string> mounts;
  for (const auto& m : node["extraMounts"]) mounts.push_back(m["containerPath"].as<std::string>());
  EXPECT_EQ(mounts, (std::vector<std::string>{"/dev/kvm", "/dev/vhost-vsock", "/dev/vhost-net"}));
  EXPECT_EQ(node["extraPortMappings"][0]["containerPort"].as<int>(0), 30080);
  EXPECT_EQ(node["extraPortMappings"][0]["hostPort"].as<int>(0), 30080);
  EXPECT_EQ(node["extraPortMappings"][0]["listenAddress"].as<std::string>(""), "127.0.0.1");
  // kata-deploy writes the Kata handlers for its own release's paths; a second, hand-made
  // kata-qemu handler could point at a configuration that release does not have.
  EXPECT_FALSE(kind["containerdConfigPatches"].IsDefined());
}

// The stable and incubating rules come from one rules release (the incubating file
// redefines the stable file's macros), pinned exactly, the same for install and follow,
// and that release is the one the pinned Falco chart is paired with.
TEST(KubeManifests, FalcoRulesPairIsOneReleaseMatchingTheChart) {
  YAML::Node falco;
  try {
    falco = YAML::LoadFile(SourceDir() + "/kind-cluster/falco-values.yaml");
  } catch (const YAML::Exception& e) {
    FAIL() << e.what();
  }
  auto refs = [&](const char* which) {
    std::map<std::string, std::string> out;  // artifact -> version
    for (const auto& r : falco["falcoctl"]["config"]["artifact"][which]["refs"]) {
      const auto ref = r.as<std::string>();
      const size_t colon = ref.find(':');
      EXPECT_NE(colon, std::string::npos) << ref;
      if (colon != std::string::npos) out[ref.substr(0, colon)] = ref.substr(colon + 1);
    }
    return out;
  };
  const auto install = refs("install");
  EXPECT_EQ(install, refs("follow")) << "install and follow must name the same artifacts";
  ASSERT_EQ(install.size(), 2u);
  ASSERT_EQ(install.count("falco-rules"), 1u);
  ASSERT_EQ(install.count("falco-incubating-rules"), 1u);
  const std::string version = install.at("falco-rules");
  EXPECT_EQ(install.at("falco-incubating-rules"), version) << "stable and incubating differ";
  EXPECT_TRUE(std::regex_match(version, std::regex(R"(\d+\.\d+\.\d+)")))
      << version << ": pin an exact release, not a floating major";

  // The pairing line in the values file names the chart and the rules release...
  const std::string values = ReadFile(SourceDir() + "/kind-cluster/falco-values.yaml");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(values, m, std::regex(R"(chart (\S+) \(Falco (\S+)\) <-> rules (\S+) )")))
      << "falco-values.yaml must say which chart its rules pair belongs to";
  EXPECT_EQ(m[3].str(), version);
  // ... and kind-up installs exactly that chart.
  const std::string lib = ReadFile(SourceDir() + "/kind-cluster/scripts/lib.sh");
  std::smatch c;
  ASSERT_TRUE(std::regex_search(lib, c, std::regex(R"(FALCO_CHART_VERSION:=([^}]+)\})")));
  EXPECT_EQ(c[1].str(), m[1].str()) << "lib.sh installs another chart than the rules are for";
  // kind-up's hint on a rules error points at this pairing, not at an older major.
  const std::string up = ReadFile(SourceDir() + "/kind-cluster/scripts/kind-up.sh");
  EXPECT_NE(up.find("FALCO_CHART_VERSION=" + m[1].str()), std::string::npos);
  EXPECT_EQ(up.find("falco-rules:4"), std::string::npos);
}

// The goldens are what kubectl kustomize renders today.
TEST(KubeManifests, KubectlKustomizeRendersTheGoldens) {
  if (!OnPath("kubectl")) GTEST_SKIP() << "kubectl not on PATH; goldens checked structurally only";
  for (const std::string overlay : {"normal-app", "kata-app", "cluster"}) {
    const ShellResult r =
        Shell("kubectl kustomize " + ShellQuote(Overlay(overlay)) + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << overlay << ": " << r.output;
    EXPECT_EQ(r.output, ReadFile(Golden(overlay)))
        << overlay << " changed; if intended: kubectl kustomize " << Overlay(overlay) << " > "
        << Golden(overlay);
  }
}

// The blog's pod spec runs with our sensor image unchanged: the sensor reads the blog's
// env names as they are (fieldRef values filled in as the kubelet would).
TEST(KubeManifests, SensorAcceptsTheBlogEnvUnchanged) {
  const std::string sensor = BinDir() + "/sandwatch-sensor";
  if (!fs::exists(sensor)) GTEST_SKIP() << sensor << " not built";
  const auto docs = LoadDocs(Golden("kata-app"));
  ASSERT_EQ(docs.size(), 1u);
  const auto env = EnvOf(Container(docs[0]["spec"], "sensor"));
  std::string cmd = "env -i PATH=/usr/bin:/bin";
  for (const auto& [name, value] : env) {
    std::string v = value;
    if (v == "fieldRef:metadata.name") v = "kata-app";
    if (v == "fieldRef:metadata.namespace") v = "kata-demo";
    cmd += " " + name + "=" + ShellQuote(v);
  }
  cmd += " " + ShellQuote(sensor) + " --print-config";
  const ShellResult r = Shell(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* want : {"kata-receiver.kata-demo.svc.cluster.local/events", "kata-app",
                           "kata-demo", "sleep", "kata"}) {
    EXPECT_NE(r.output.find(want), std::string::npos) << "missing " << want << " in\n" << r.output;
  }
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
