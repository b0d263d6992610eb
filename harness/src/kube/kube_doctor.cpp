// `harness doctor --backend kube`: the tools `make kind-up` needs on this machine, the
// cluster (RuntimeClass, Falco, Falcosidekick, the receiver, the listener, a kata-qemu probe
// pod), and what a kind node needs for Kata and Falco (/dev/kvm, a /dev/shm that holds a
// Kata VM's RAM, BTF, kata-deploy's ready label, our images). A kind node is a container
// named like the node, so those checks run `docker|podman exec NODE ...` through the same
// CommandRunner as kubectl.
#include <algorithm>
#include <charconv>
#include <sstream>

#include "kube_internal.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/receiver_client.h"
#include "sandwatch/harness/vantage.h"

namespace sandwatch::harness::kube {

using std::chrono::seconds;

namespace {

constexpr int kDefaultKataMemoryMib = 2048;  // default_memory in Kata's configuration-qemu.toml
constexpr const char* kKataConfig =
    "/opt/kata/share/defaults/kata-containers/configuration-qemu.toml";

Result<CommandResult> Host(Kubectl& k, std::vector<std::string> argv) {
  return k.runner().Run(Cmd(std::move(argv), seconds(30)));
}

// Check `name`: `tool` is on PATH (detail: where, or "TOOL not found on PATH").
DoctorCheck OnPath(Kubectl& k, const std::string& name, const std::string& tool, bool required,
                   std::string fix) {
  const std::string path = k.runner().Which(tool);
  return {name, !path.empty(), required, path.empty() ? tool + " not found on PATH" : path,
          std::move(fix)};
}

// The container engine that runs the kind nodes: SANDWATCH_KUBE_ENGINE, else docker when
// its daemon answers, else podman; "" when neither is there.
std::string DetectContainerEngine(Kubectl& k) {
  const std::string& configured = k.config().container_engine;
  if (!configured.empty()) return configured;
  // kind-up's rule: docker when its daemon answers, else podman.
  if (!k.runner().Which("docker").empty()) {
    if (auto info = Host(k, {"docker", "info", "--format", "ok"}); info.ok() && info->ok())
      return "docker";
  }
  if (!k.runner().Which("podman").empty()) return "podman";
  return "";
}

// Appends to `out`: kind and helm (for make kind-up) and the engine's image store.
void KubeToolChecks(Kubectl& k, const std::string& engine, std::vector<DoctorCheck>& out) {
  for (const auto& [tool, url] : std::vector<std::pair<std::string, std::string>>{
           {"kind", "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"},
           {"helm", "https://helm.sh/docs/intro/install/"}}) {
    out.push_back(
        OnPath(k, tool, tool, false, "install " + tool + " (make kind-up needs it): " + url));
  }
  std::string store = engine + " (images go through " + engine + " save + kind load image-archive)";
  if (engine.empty()) {
    store = "no docker daemon and no podman";
  } else if (engine == "docker") {
    auto info = Host(k, {"docker", "info", "--format", "{{json .DriverStatus}}"});
    const bool containerd_store =
        info.ok() && info->out.find("io.containerd.snapshotter") != std::string::npos;
    store = std::string("docker, ") + (containerd_store
                                           ? "containerd image store (kind load docker-image "
                                             "cannot read it; make kind-up uses docker save + "
                                             "kind load image-archive)"
                                           : "classic image store");
  }
  out.push_back({"image store", !engine.empty(), false, store,
                 "install Docker Engine or podman; make kind-up loads the images with ENGINE "
                 "save + kind load image-archive"});
}

// Appends to `out` what is inside the kind node: Kata's ready label, /dev/kvm, /dev/shm
// against Kata's default_memory, BTF for Falco's modern eBPF, our workload image loaded.
void KubeNodeChecks(Kubectl& k, const std::string& engine, bool want_kata,
                    std::vector<DoctorCheck>& out) {
  const KubeConfig& cfg = k.config();
  auto names = k.Get("", {"nodes"}, "{.items[*].metadata.name}", seconds(30));
  const std::string node = names.ok() ? FirstWord(*names) : "";
  const std::string exec_prefix = engine + " exec " + node;

  auto labelled = k.RunIn(
      "", {"get", "nodes", "-l", "katacontainers.io/kata-runtime=true", "-o", "name"}, seconds(30));
  const std::string kata_node = labelled.ok() ? FirstWord(*labelled) : "";
  out.push_back({"Kata ready on the node", !kata_node.empty(), want_kata,
                 kata_node.empty() ? "no node has the label katacontainers.io/kata-runtime=true "
                                     "(kata-deploy has not finished)"
                                   : kata_node + " has katacontainers.io/kata-runtime=true",
                 "make kind-up (waits for it); else kubectl -n kube-system logs -l "
                 "name=kata-deploy (containerd restart, /opt/kata)"});

  if (engine.empty() || node.empty()) {
    out.push_back({"kind node", false, false,
                   "cannot look inside the node (" +
                       (engine.empty() ? std::string("no container engine") : "no node name") +
                       "): /dev/shm, /dev/kvm and BTF not checked",
                   "run doctor on the machine that runs the kind cluster (docker or podman)"});
    return;
  }
  auto in_node = [&](std::vector<std::string> argv) {
    std::vector<std::string> full = {engine, "exec", node};
    full.insert(full.end(), argv.begin(), argv.end());
    return Host(k, full);
  };

  auto kvm = in_node({"test", "-c", "/dev/kvm"});
  const bool kvm_ok = kvm.ok() && kvm->ok();
  out.push_back({"/dev/kvm in the node", kvm_ok, want_kata,
                 kvm_ok ? "character device in " + node
                        : "not a device in " + node + (kvm.ok() ? "" : ": " + kvm.error().message),
                 "on the host: sudo modprobe kvm_intel (or kvm_amd); kind-config.yaml mounts "
                 "/dev/kvm only when the cluster is created: make kind-down kind-up"});

  // Kata's qemu keeps the guest's whole RAM in a file on /dev/shm: a VM whose
  // default_memory does not fit there never starts.
  long mem = kDefaultKataMemoryMib;
  std::string mem_from = "Kata's default";
  if (auto conf = in_node({"grep", "-E", "^default_memory", kKataConfig});
      conf.ok() && conf->ok()) {
    const std::string& t = conf->out;  // "default_memory = 2048"
    const size_t at = std::min(t.find_first_of("0123456789", t.find('=')), t.size());
    long v = 0;
    if (std::from_chars(t.data() + at, t.data() + t.size(), v).ec == std::errc() && v > 0) {
      mem = v;
      mem_from = kKataConfig;
    }
  }
  auto df = in_node({"df", "-Pm", "/dev/shm"});
  long shm_mib = -1;
  if (df.ok() && df->ok() && df->out.find('\n') != std::string::npos) {
    std::istringstream f(df->out.substr(df->out.find('\n') + 1));  // below the header
    std::string fs;
    f >> fs >> shm_mib;
  }
  out.push_back({"/dev/shm vs Kata memory", shm_mib >= mem, want_kata,
                 (shm_mib < 0 ? std::string("cannot read /dev/shm's size in ") + node
                              : "/dev/shm " + std::to_string(shm_mib) + " MiB in " + node) +
                     ", Kata default_memory " + std::to_string(mem) + " MiB (" + mem_from + ")" +
                     (shm_mib >= mem ? "" : ": kata-qemu VMs cannot start"),
                 exec_prefix + " mount -o remount,size=4608m /dev/shm (make kind-up does this; "
                               "a restarted node is back to 64 MiB)"});

  auto btf = in_node({"test", "-e", "/sys/kernel/btf/vmlinux"});
  const bool btf_ok = btf.ok() && btf->ok();
  out.push_back({"BTF for Falco", btf_ok, false,
                 btf_ok ? "/sys/kernel/btf/vmlinux present: Falco's modern eBPF driver can load"
                        : "/sys/kernel/btf/vmlinux missing: Falco's modern eBPF driver cannot load",
                 "boot a kernel with CONFIG_DEBUG_INFO_BTF=y, or set driver.kind: kmod in "
                 "kind-cluster/falco-values.yaml"});

  auto listed = in_node({"crictl", "images", "-q", cfg.workload_image});
  const bool loaded = listed.ok() && listed->ok() && !FirstWord(listed->out).empty();
  out.push_back({"images in the node", loaded, true,
                 cfg.workload_image + (loaded ? " loaded in " : " not loaded in ") + node,
                 "make kind-up (" + engine + " save + kind load image-archive)"});
}

// A Deployment with at least one ready replica.
DoctorCheck DeploymentReady(Kubectl& k, const std::string& ns, const std::string& name,
                            const std::string& what, bool required, const std::string& fix) {
  auto r = k.Get(ns, {"deployment", name}, "{.status.readyReplicas}", seconds(20));
  const std::string d = "deployment " + ns + "/" + name;
  const bool ok = r.ok() && !r->empty() && *r != "0";
  return {what, ok, required,
          !r.ok() ? d + ": " + r.error().message
          : ok    ? d + ": " + *r + " ready"
                  : d + " has no ready replica",
          fix};
}

// One line per sensor that sent a heartbeat: the vantage its capture shows.
void SensorVantageChecks(HttpClient& http, const std::string& receiver_url,
                         std::vector<DoctorCheck>& out) {
  auto sensors = ReceiverClient(receiver_url, http).Sensors();
  if (!sensors.ok()) {
    out.push_back({"sensor vantage", false, false, sensors.error().message,
                   "the receiver check above; the sensors' capture shows their vantage"});
    return;
  }
  const std::string results = ResolveSourceDir() + "/results";
  const size_t before = out.size();
  for (const auto& s : *sensors) {
    if (s.capture.empty()) continue;
    out.push_back(VantageCheck("sensor " + s.id + " vantage", s.capture,
                               s.mode.empty() ? "sidecar" : s.mode, results));
  }
  if (out.size() == before) {
    out.push_back({"sensor vantage", false, false,
                   "no sensor has reported to the receiver yet (its capture shows its vantage)",
                   "make kind-up, then wait for the sensor sidecar's first heartbeat"});
  }
}

}  // namespace

std::vector<DoctorCheck> KubeDoctor(Kubectl& k, HttpClient& http,
                                    const std::vector<std::string>& runtimes) {
  const KubeConfig& cfg = k.config();
  const std::string up = "make kind-up (docs/kind.md)";
  std::vector<DoctorCheck> checks;

  checks.push_back(OnPath(k, "kubectl", cfg.kubectl, true,
                          "install kubectl: https://kubernetes.io/docs/tasks/tools/"));
  if (!checks.back().ok) return checks;
  const std::string engine = DetectContainerEngine(k);
  KubeToolChecks(k, engine, checks);

  auto kernels = k.Get("", {"nodes"}, "{.items[*].status.nodeInfo.kernelVersion}", seconds(30));
  const std::string node_kernel = kernels.ok() ? FirstWord(*kernels) : "";
  checks.push_back({"cluster", !node_kernel.empty(), true,
                    !node_kernel.empty()
                        ? "context " + (cfg.context.empty() ? "(current)" : cfg.context) +
                              ", node kernel " + node_kernel
                    : kernels.ok() ? "no nodes"
                                   : kernels.error().message,
                    up});
  if (node_kernel.empty()) return checks;

  const bool want_kata = runtimes.empty() ||
                         std::find(runtimes.begin(), runtimes.end(), "kata-qemu") != runtimes.end();
  auto handler = k.Get("", {"runtimeclass", "kata-qemu"}, "{.handler}", seconds(20));
  const bool kata_class = handler.ok() && !handler->empty();
  checks.push_back(
      {"RuntimeClass kata-qemu", kata_class, want_kata,
       kata_class ? "handler " + *handler : (handler.ok() ? "no handler" : handler.error().message),
       up + " (installs kata-deploy)"});
  KubeNodeChecks(k, engine, want_kata, checks);

  auto phases = k.Get(cfg.falco_namespace, {"pods", "-l", kFalcoPods}, "{.items[*].status.phase}",
                      seconds(20));
  const auto p = SplitWords(phases.value_or(""));
  checks.push_back(
      {"Falco pods",
       !p.empty() && std::all_of(p.begin(), p.end(), [](const auto& s) { return s == "Running"; }),
       false,
       !phases.ok() ? phases.error().message
       : p.empty()  ? "no Falco pods in namespace " + cfg.falco_namespace
                    : std::to_string(p.size()) + " pod(s): " + *phases,
       up + " (installs Falco with Helm); kubectl -n " + cfg.falco_namespace +
           " logs -l app.kubernetes.io/name=falco"});

  // The comparison is only fair when every rule an event matches fires, and the blog's
  // package-manager rule (an incubating one) is loaded.
  auto yaml =
      k.Get(cfg.falco_namespace, {"configmap", "falco"}, R"({.data.falco\.yaml})", seconds(20));
  const bool all = yaml.ok() && yaml->find("rule_matching: all") != std::string::npos;
  const bool incubating =
      yaml.ok() && yaml->find("falco-incubating_rules.yaml") != std::string::npos;
  checks.push_back(
      {"Falco config", all && incubating, false,
       !yaml.ok()
           ? yaml.error().message
           : std::string(all ? "rule_matching: all" : "rule_matching is not 'all'") + ", " +
                 (incubating ? "incubating rules loaded" : "incubating rules not in rules_files"),
       "helm upgrade falco falcosecurity/falco -n " + cfg.falco_namespace +
           " --reuse-values -f kind-cluster/falco-values.yaml"});
  checks.push_back(DeploymentReady(k, cfg.falco_namespace, "falco-falcosidekick", "Falcosidekick",
                                   false, up + " (falcosidekick.enabled=true)"));
  checks.push_back(DeploymentReady(k, cfg.falco_namespace, "falco-falcosidekick-ui",
                                   "Falcosidekick UI", false,
                                   up + " (falcosidekick.webui.enabled=true)"));

  checks.push_back(DeploymentReady(k, cfg.namespace_, "kata-receiver", "receiver", true, up));
  auto health = http.Get(cfg.receiver_url + "/healthz", "");
  checks.push_back(
      {"receiver NodePort", health.ok() && health->status == 200, false,
       cfg.receiver_url + "/healthz: " +
           (health.ok() ? "HTTP " + std::to_string(health->status) : health.error().message),
       "kind-cluster/kind-config.yaml publishes 30080 on 127.0.0.1; without it the run uses "
       "kubectl port-forward"});
  SensorVantageChecks(http, cfg.receiver_url, checks);
  checks.push_back(
      DeploymentReady(k, cfg.namespace_, cfg.listener_service, "attacker listener", true, up));

  if (want_kata && kata_class) {
    // A throwaway kata-qemu pod: its kernel must differ from the node's, or it is no VM.
    // A sandbox that does not start: /dev/shm (above) is the usual cause on kind.
    const std::string probe = "sw-doctor-kata-probe";
    const auto wait = seconds(static_cast<long>(cfg.wait_timeout_s));
    (void)k.DeletePod(probe, seconds(60));
    auto guest = k.Run(
        {"run", probe, "--rm", "-i", "--quiet", "--restart=Never", "--image=" + cfg.workload_image,
         "--image-pull-policy=IfNotPresent", "--pod-running-timeout=" + Seconds(wait),
         R"(--overrides={"spec":{"runtimeClassName":"kata-qemu"}})", "--command", "--", "uname",
         "-r"},
        wait + seconds(30));
    const std::string guest_kernel = guest.ok() ? TrimRight(*guest) : "";
    const bool own_kernel = !guest_kernel.empty() && guest_kernel != node_kernel;
    checks.push_back(
        {"kata-qemu pods run in a VM", own_kernel, true,
         !guest.ok()            ? guest.error().message
         : guest_kernel.empty() ? "the probe pod printed no kernel version"
         : !own_kernel          ? "guest kernel " + guest_kernel + " is the node's: no VM boundary"
                                : "guest kernel " + guest_kernel + ", node kernel " + node_kernel +
                             ": a separate kernel",
         "first the '/dev/shm vs Kata memory' check above, then '/dev/kvm in the node'; then "
         "kubectl -n kube-system logs -l name=kata-deploy"});
  }
  return checks;
}

}  // namespace sandwatch::harness::kube
