#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "kube_internal.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness::kube {

using std::chrono::milliseconds;
using std::chrono::seconds;

KubeBackend::KubeBackend(CommandRunner& runner, Result<KubeConfig> config, KubeDeps deps)
    : kubectl_(runner, config.ok() ? *config : KubeConfig{}), deps_(std::move(deps)) {
  if (!config.ok()) config_error_ = config.error().message;
  if (!deps_.http) deps_.http = MakeHttpClient(milliseconds(5000));
  if (!deps_.sleep) deps_.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  if (deps_.source_dir.empty()) deps_.source_dir = ResolveSourceDir();
  if (deps_.clock == nullptr) deps_.clock = &SystemClock();
  manifests_ = kubectl_.config().manifests_dir.empty()
                   ? deps_.source_dir + "/kind-cluster/manifests"
                   : kubectl_.config().manifests_dir;
  receiver_url_ = kubectl_.config().receiver_url;
}

std::vector<DoctorCheck> KubeBackend::Doctor(const std::vector<std::string>& runtimes) {
  if (!config_error_.empty()) {
    return {DoctorCheck{"kube backend settings", false, true, config_error_,
                        "fix the environment variable named above (docs/kind.md)"}};
  }
  return KubeDoctor(kubectl_, *deps_.http, runtimes);
}

Status KubeBackend::Prepare(RunContext& ctx) {
  if (!config_error_.empty()) return MakeError(config_error_);
  const KubeConfig& cfg = kubectl_.config();
  if (kubectl_.runner().Which(cfg.kubectl).empty()) {
    return MakeError(cfg.kubectl + " not found on PATH. FIX: install kubectl, then make kind-up");
  }
  auto ns = kubectl_.Get("", {"namespace", cfg.namespace_}, "{.metadata.name}", seconds(30));
  if (!ns.ok()) {
    return MakeError("the cluster or its namespace " + cfg.namespace_ +
                     " is not reachable. FIX: make kind-up (" + ns.error().message + ")");
  }
  auto rollout = kubectl_.Run({"rollout", "status", "deployment/kata-receiver", "--timeout=120s"},
                              seconds(130));
  if (!rollout.ok()) return MakeError("the receiver is not ready: " + rollout.error().message);
  auto attacker = kubectl_.Get(
      cfg.namespace_,
      {"pods", "-l", "app=" + cfg.listener_service, "--field-selector=status.phase=Running"},
      "{.items[0].metadata.name} {.items[0].status.podIP}", seconds(30));
  const auto words = attacker.ok() ? SplitWords(*attacker) : std::vector<std::string>{};
  if (words.size() != 2) {
    return MakeError("no running attacker pod (label app=" + cfg.listener_service +
                     "). FIX: make kind-up" +
                     (attacker.ok() ? "" : " (" + attacker.error().message + ")"));
  }
  attacker_pod_ = words[0];
  listener_target_ = words[1] + ":" + std::to_string(cfg.listener_port);
  node_kernel_ =
      kubectl_.Get("", {"nodes"}, "{.items[0].status.nodeInfo.kernelVersion}", seconds(30))
          .value_or("unknown");
  auto phases = kubectl_.Get(cfg.falco_namespace, {"pods", "-l", kFalcoPods},
                             "{.items[*].status.phase}", seconds(30));
  falco_available_ = phases.ok() && phases->find("Running") != std::string::npos;
  // What the reports name: the real runtime class and the real Falco, not stand-ins.
  runtime_class_handler_ =
      kubectl_.Get("", {"runtimeclass", "kata-qemu"}, "{.handler}", seconds(30)).value_or("");
  falco_image_ = kubectl_
                     .Get(cfg.falco_namespace, {"pods", "-l", kFalcoPods},
                          "{.items[0].spec.containers[0].image}", seconds(30))
                     .value_or("");
  run_start_wall_ns_ = deps_.clock->WallNs();
  return ConnectReceiver(ctx);
}

std::map<std::string, std::string> KubeBackend::Environment() {
  const KubeConfig& cfg = kubectl_.config();
  std::map<std::string, std::string> env = {
      {"kube.context", cfg.context.empty() ? "(current)" : cfg.context},
      {"kube.namespace", cfg.namespace_},
      {"kube.node_kernel", node_kernel_},
      {"kube.receiver",
       receiver_url_ + (port_forward_ ? " (kubectl port-forward)" : " (NodePort)")},
      {"kube.falco_source", cfg.falco_source == FalcoSource::kReceiver
                                ? "falcosidekick webhook -> receiver"
                                : "falcosidekick-ui /api/v1/events/search -> receiver"},
      {"kube.falco", falco_available_ ? "running" : "not found"},
      {"kube.listener", listener_target_},
      {"stand_ins", "none: a real cluster (runc pod, Kata kata-qemu VM pod, host Falco)"},
      // Per runtime and for the host view: what really ran, for the reports to name.
      {"runtime.runc", "runc: the cluster's default runtime (pod normal-app)"},
      {"runtime.kata-qemu", KataRuntimeLabel()},
      {"host_view", HostViewLabel()},
  };
  for (const auto& [pod, kernel] : pod_kernels_) env["kube.pod_kernel." + pod] = kernel;
  return env;
}

std::string KubeBackend::KataRuntimeLabel() const {
  return "Kata Containers: RuntimeClass kata-qemu, handler " +
         (runtime_class_handler_.empty() ? std::string("(not found)") : runtime_class_handler_) +
         " (pod kata-app in its own VM)";
}

std::string KubeBackend::HostViewLabel() const {
  if (!falco_available_) {
    return "host Falco: no running Falco pods in namespace " + kubectl_.config().falco_namespace;
  }
  return "host Falco " + (falco_image_.empty() ? std::string("(image unknown)") : falco_image_) +
         " on the node (modern eBPF), via Falcosidekick";
}

void KubeBackend::Finish(RunContext& ctx) {
  if (kubectl_.config().falco_source != FalcoSource::kSidekickUi) return;
  const Status s = ImportSidekickUi(ctx);
  if (!s.ok()) {
    SW_LOG(kWarn, kLog, "falcosidekick-ui import failed", {"error", s.error().message});
  }
}

Status KubeBackend::ConnectReceiver(RunContext& ctx) {
  const KubeConfig& cfg = kubectl_.config();
  if (!cfg.force_port_forward && ReceiverClient(cfg.receiver_url, *deps_.http).Healthy()) {
    receiver_url_ = cfg.receiver_url;
    return OkStatus();
  }
  SW_LOG(kInfo, kLog, "receiver NodePort not answering, using kubectl port-forward",
         {"url", cfg.receiver_url});
  auto url =
      PortForward(ctx, cfg.namespace_, "kata-receiver", 80, "/healthz", true, &port_forward_);
  if (!url.ok()) return url.error();
  receiver_url_ = *url;
  return OkStatus();
}

Result<std::string> KubeBackend::PortForward(RunContext& ctx, const std::string& ns,
                                             const std::string& svc, int remote,
                                             const std::string& probe_path, bool need_200,
                                             std::shared_ptr<ProcessHandle>* handle) {
  auto free_port = PickFreeLoopbackPort();
  if (!free_port.ok()) return MakeError("no free loopback port for kubectl port-forward");
  const int port = *free_port;
  const std::vector<std::string> args = {"port-forward", "--address", "127.0.0.1", "service/" + svc,
                                         std::to_string(port) + ":" + std::to_string(remote)};
  auto started = kubectl_.Start(ns, args, "", ctx.work_dir + "/port-forward-" + svc + ".log");
  if (!started.ok()) return started.error();
  *handle = *started;
  ctx.cleanup->Add("kubectl port-forward service/" + svc,
                   [h = *handle] { h->Stop(milliseconds(2000)); });
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  for (int i = 0; i < 60; ++i) {
    auto r = deps_.http->Get(base + probe_path, "");
    if (r.ok() && (!need_200 || r->status == 200)) return base;
    if (!(*handle)->Running()) break;
    deps_.sleep(milliseconds(500));
  }
  return MakeError(RenderCommand(kubectl_.Argv(args, ns)) + ": the forwarded port never answered " +
                   probe_path);
}

Status KubeBackend::WaitForSensor(const std::string& pod, const std::set<std::string>& before,
                                  double timeout_s) {
  const int attempts = static_cast<int>(timeout_s) + 1;
  for (int i = 0; i < attempts; ++i) {
    auto sensors = ReceiverClient(receiver_url_, *deps_.http).Sensors();
    for (const auto& s : sensors.value_or({})) {
      if (before.count(s.id) == 0 && (s.pod.empty() || s.pod == pod)) return OkStatus();
    }
    if (Interrupted()) return MakeError("interrupted");
    deps_.sleep(milliseconds(1000));
  }
  return MakeError("the sensor in pod " + pod + " sent nothing to the receiver within " +
                   std::to_string(attempts) + " s");
}

Status KubeBackend::ImportSidekickUi(RunContext& ctx) {
  const KubeConfig& cfg = kubectl_.config();
  auto base = PortForward(ctx, cfg.falco_namespace, "falco-falcosidekick-ui", 2802,
                          "/api/v1/healthz", false, &ui_forward_);
  if (!base.ok()) return base.error();
  const int64_t age_s = (deps_.clock->WallNs() - run_start_wall_ns_) / 1'000'000'000 + 60;
  const std::string url =
      *base + "/api/v1/events/search?since=" + std::to_string(age_s) + "s&limit=10000";
  auto r = deps_.http->Get(url, cfg.sidekick_ui_user);
  if (!r.ok()) return r.error();
  if (r->status != 200) {
    return MakeError(url + ": HTTP " + std::to_string(r->status) +
                     " (SANDWATCH_KUBE_SIDEKICK_UI_USER sets the UI's user:password)");
  }
  auto events = SidekickUiEventsToFalcoJson(r->body);
  if (!events.ok()) return events.error();
  int posted = 0;
  for (const std::string& ev : *events) {
    auto p = deps_.http->Post(receiver_url_ + "/falco", ev, "application/json");
    if (!p.ok()) return p.error();
    if (p->status / 100 == 2) ++posted;
  }
  ui_forward_->Stop(milliseconds(2000));
  SW_LOG(kInfo, kLog, "imported Falco events from falcosidekick-ui",
         {"events", std::to_string(events->size())}, {"accepted", std::to_string(posted)});
  return OkStatus();
}

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

std::string PodForRuntime(const std::string& runtime) {
  if (runtime == "runc") return "normal-app";
  if (runtime == "kata-qemu") return "kata-app";
  return "";
}

std::unique_ptr<Backend> MakeKubeBackend(CommandRunner& runner, KubeConfig config, KubeDeps deps) {
  return std::make_unique<KubeBackend>(runner, std::move(config), std::move(deps));
}

}  // namespace sandwatch::harness::kube

namespace sandwatch::harness {

void RegisterKubeBackend(BackendRegistry& reg) {
  reg.Register("kube", [](CommandRunner& runner) -> std::unique_ptr<Backend> {
    return std::make_unique<kube::KubeBackend>(
        runner, kube::KubeConfigFromEnv([](const char* n) { return std::getenv(n); }),
        kube::KubeDeps{});
  });
}

}  // namespace sandwatch::harness
