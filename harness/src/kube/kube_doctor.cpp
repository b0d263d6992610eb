#include <algorithm>

#include "kube_internal.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/receiver_client.h"
#include "sandwatch/harness/vantage.h"

namespace sandwatch::harness::kube {

using std::chrono::seconds;

DoctorCheck Check(std::string name, bool required, std::string fix) {
  DoctorCheck c;
  c.name = std::move(name);
  c.required = required;
  c.fix = std::move(fix);
  return c;
}

std::string FirstWord(const std::string& s) {
  auto words = SplitWords(s);
  return words.empty() ? "" : words[0];
}

namespace {

bool Wants(const std::vector<std::string>& runtimes, const std::string& r) {
  return runtimes.empty() || std::find(runtimes.begin(), runtimes.end(), r) != runtimes.end();
}

// A Deployment with at least one ready replica.
DoctorCheck DeploymentReady(Kubectl& k, const std::string& ns, const std::string& name,
                            const std::string& what, bool required, const std::string& fix) {
  DoctorCheck c = Check(what, required, fix);
  auto r = k.JsonPath(ns, "deployment", name, "{.status.readyReplicas}", seconds(20));
  if (!r.ok()) {
    c.detail = "deployment " + ns + "/" + name + ": " + r.error().message;
  } else if (TrimRight(*r).empty() || TrimRight(*r) == "0") {
    c.detail = "deployment " + ns + "/" + name + " has no ready replica";
  } else {
    c.ok = true;
    c.detail = "deployment " + ns + "/" + name + ": " + TrimRight(*r) + " ready";
  }
  return c;
}

// One line per sensor that sent a heartbeat: the vantage its capture shows.
std::vector<DoctorCheck> SensorVantageChecks(HttpClient& http, const std::string& receiver_url) {
  std::vector<DoctorCheck> out;
  auto sensors = ReceiverClient(receiver_url, http).Sensors();
  if (!sensors.ok()) {
    DoctorCheck c = Check("sensor vantage", false,
                          "the receiver check above; the sensors' capture shows their vantage");
    c.detail = sensors.error().message;
    return {c};
  }
  const std::string results = ResolveSourceDir() + "/results";
  for (const auto& s : *sensors) {
    if (s.capture.empty()) continue;
    out.push_back(VantageCheck("sensor " + s.id + " vantage", s.capture,
                               s.mode.empty() ? "sidecar" : s.mode, results));
  }
  if (out.empty()) {
    DoctorCheck none = Check("sensor vantage", false,
                             "make kind-up, then wait for the sensor sidecar's first heartbeat");
    none.detail = "no sensor has reported to the receiver yet (its capture shows its vantage)";
    out.push_back(none);
  }
  return out;
}

}  // namespace

std::vector<DoctorCheck> KubeDoctor(Kubectl& k, HttpClient& http,
                                    const std::vector<std::string>& runtimes) {
  const KubeConfig& cfg = k.config();
  const std::string up = "make kind-up (docs/kind.md)";
  std::vector<DoctorCheck> checks;

  DoctorCheck tool =
      Check("kubectl", true, "install kubectl: https://kubernetes.io/docs/tasks/tools/");
  const std::string path = k.runner().Which(cfg.kubectl);
  tool.ok = !path.empty();
  tool.detail = tool.ok ? path : cfg.kubectl + " not found on PATH";
  checks.push_back(tool);
  if (!tool.ok) return checks;
  const std::string engine = DetectContainerEngine(k);
  for (auto& c : KubeToolChecks(k, engine)) checks.push_back(std::move(c));

  DoctorCheck cluster = Check("cluster", true, up);
  auto kernels =
      k.JsonPath("", "nodes", "", "{.items[*].status.nodeInfo.kernelVersion}", seconds(30));
  std::string node_kernel;
  if (kernels.ok() && !SplitWords(*kernels).empty()) {
    node_kernel = SplitWords(*kernels)[0];
    cluster.ok = true;
    cluster.detail = "context " + (cfg.context.empty() ? std::string("(current)") : cfg.context) +
                     ", node kernel " + node_kernel;
  } else {
    cluster.detail = kernels.ok() ? "no nodes" : kernels.error().message;
  }
  checks.push_back(cluster);
  if (!cluster.ok) return checks;

  const bool want_kata = Wants(runtimes, "kata-qemu");
  DoctorCheck rc = Check("RuntimeClass kata-qemu", want_kata, up + " (installs kata-deploy)");
  auto handler = k.JsonPath("", "runtimeclass", "kata-qemu", "{.handler}", seconds(20));
  rc.ok = handler.ok() && !TrimRight(*handler).empty();
  rc.detail = rc.ok ? "handler " + TrimRight(*handler)
                    : (handler.ok() ? "no handler" : handler.error().message);
  checks.push_back(rc);
  for (auto& c : KubeNodeChecks(k, engine, want_kata)) checks.push_back(std::move(c));

  DoctorCheck falco = Check("Falco pods", false,
                            up + " (installs Falco with Helm); kubectl -n " + cfg.falco_namespace +
                                " logs -l app.kubernetes.io/name=falco");
  auto phases = k.RunIn(cfg.falco_namespace,
                        {"get", "pods", "-l", "app.kubernetes.io/name=falco", "-o",
                         "jsonpath={.items[*].status.phase}"},
                        seconds(20));
  if (phases.ok()) {
    const auto p = SplitWords(*phases);
    const bool all_running =
        !p.empty() &&
        std::all_of(p.begin(), p.end(), [](const std::string& s) { return s == "Running"; });
    falco.ok = all_running;
    falco.detail = p.empty() ? "no Falco pods in namespace " + cfg.falco_namespace
                             : std::to_string(p.size()) + " pod(s): " + TrimRight(*phases);
  } else {
    falco.detail = phases.error().message;
  }
  checks.push_back(falco);

  // The comparison is only fair when every rule an event matches fires, and the blog's
  // package-manager rule (an incubating one) is loaded.
  DoctorCheck conf = Check("Falco config", false,
                           "helm upgrade falco falcosecurity/falco -n " + cfg.falco_namespace +
                               " --reuse-values -f kind-cluster/falco-values.yaml");
  auto yaml =
      k.JsonPath(cfg.falco_namespace, "configmap", "falco", R"({.data.falco\.yaml})", seconds(20));
  if (!yaml.ok()) {
    conf.detail = yaml.error().message;
  } else {
    const bool all = yaml->find("rule_matching: all") != std::string::npos;
    const bool incubating = yaml->find("falco-incubating_rules.yaml") != std::string::npos;
    conf.ok = all && incubating;
    conf.detail = std::string(all ? "rule_matching: all" : "rule_matching is not 'all'") + ", " +
                  (incubating ? "incubating rules loaded" : "incubating rules not in rules_files");
  }
  checks.push_back(conf);
  checks.push_back(DeploymentReady(k, cfg.falco_namespace, "falco-falcosidekick", "Falcosidekick",
                                   false, up + " (falcosidekick.enabled=true)"));
  checks.push_back(DeploymentReady(k, cfg.falco_namespace, "falco-falcosidekick-ui",
                                   "Falcosidekick UI", false,
                                   up + " (falcosidekick.webui.enabled=true)"));

  checks.push_back(DeploymentReady(k, cfg.namespace_, "kata-receiver", "receiver", true, up));
  DoctorCheck nodeport =
      Check("receiver NodePort", false,
            "kind-cluster/kind-config.yaml publishes 30080 on 127.0.0.1; without "
            "it the run uses kubectl port-forward");
  auto health = http.Get(cfg.receiver_url + "/healthz", "");
  nodeport.ok = health.ok() && health->status == 200;
  nodeport.detail =
      cfg.receiver_url + "/healthz: " +
      (health.ok() ? "HTTP " + std::to_string(health->status) : health.error().message);
  checks.push_back(nodeport);
  for (auto& c : SensorVantageChecks(http, cfg.receiver_url)) checks.push_back(std::move(c));
  checks.push_back(
      DeploymentReady(k, cfg.namespace_, cfg.listener_service, "attacker listener", true, up));

  if (want_kata && rc.ok) {
    // A throwaway kata-qemu pod: its kernel must differ from the node's, or it is no VM.
    // A sandbox that does not start: /dev/shm (above) is the usual cause on kind.
    DoctorCheck vm = Check("kata-qemu pods run in a VM", true,
                           "first the '/dev/shm vs Kata memory' check above, then '/dev/kvm in "
                           "the node'; then kubectl -n kube-system logs -l name=kata-deploy");
    const std::string probe = "sw-doctor-kata-probe";
    const auto wait = seconds(static_cast<long>(cfg.wait_timeout_s));
    (void)k.DeletePod(probe, seconds(60));
    auto guest = k.Run(
        {"run", probe, "--rm", "-i", "--quiet", "--restart=Never", "--image=" + cfg.workload_image,
         "--image-pull-policy=IfNotPresent", "--pod-running-timeout=" + Seconds(wait),
         R"(--overrides={"spec":{"runtimeClassName":"kata-qemu"}})", "--command", "--", "uname",
         "-r"},
        wait + seconds(30));
    if (!guest.ok()) {
      vm.detail = guest.error().message;
    } else if (TrimRight(*guest).empty()) {
      vm.detail = "the probe pod printed no kernel version";
    } else if (TrimRight(*guest) == node_kernel) {
      vm.detail = "guest kernel " + TrimRight(*guest) + " is the node's: no VM boundary";
    } else {
      vm.ok = true;
      vm.detail = "guest kernel " + TrimRight(*guest) + ", node kernel " + node_kernel +
                  ": a separate kernel";
    }
    checks.push_back(vm);
  }
  return checks;
}

}  // namespace sandwatch::harness::kube
