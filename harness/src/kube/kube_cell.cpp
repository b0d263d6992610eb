// One cell on the cluster: render + apply the pod, wait for it and its sensor, play the
// chain with kubectl exec, read the ground truth back, let events settle, delete the pod.
#include <array>
#include <cstdio>

#include "kube_internal.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/rules/template.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/progress.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness::kube {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

void Note(RunContext& ctx, const std::string& what) {
  if (ctx.progress != nullptr) ctx.progress->Note(what);
}

// Remote-shell output as one printable line: newlines become " | ", other control bytes \xNN.
std::string Printable(const std::string& text, size_t max) {
  std::string one_line;
  for (const char c : text.substr(0, max))
    one_line += c == '\n' ? std::string(" | ") : std::string(1, c);
  return rules::EscapeControl(one_line);
}

// `cat REMOTE` in a pod's container, kept as LOCAL and read back as ground truth.
Result<std::vector<GroundTruthStep>> FetchGroundTruth(Kubectl& k, const std::string& pod,
                                                      const std::string& container,
                                                      const std::string& remote,
                                                      const std::string& local) {
  auto text = k.Exec(pod, container, {"cat", remote}, seconds(30));
  if (!text.ok()) return text.error();
  (void)WriteFileAtomic(local, *text);
  return ReadGroundTruthFile(local);
}

}  // namespace

Result<std::shared_ptr<ProcessHandle>> KubeBackend::StartCellListener(RunContext& ctx,
                                                                      const Cell& cell,
                                                                      const std::string& gt_path) {
  const Scenario& s = *ctx.scenario;
  const KubeConfig& cfg = kubectl_.config();
  std::vector<std::string> listen =
      AttackListenArgs(s, cell, "0.0.0.0", cfg.listener_port,
                       std::to_string(Secs(s.timeouts.cell_s).count()), gt_path, false);
  listen.insert(listen.begin(), {"sandwatch-attack-sim", "listen"});
  const std::string log = ctx.work_dir + "/" + cell.Id() + "-listener";
  auto started =
      kubectl_.Start(cfg.namespace_, Kubectl::ExecArgs(attacker_pod_, "listener", listen),
                     log + ".out", log + ".err");
  if (!started.ok()) return started.error();
  const std::shared_ptr<ProcessHandle>& handle = *started;
  std::array<char, 8> hex{};
  std::snprintf(hex.data(), hex.size(), "%04X", static_cast<unsigned>(cfg.listener_port));
  const std::string probe =
      std::string("grep -q ':") + hex.data() + " 00000000:0000 0A' /proc/net/tcp";
  for (int i = 0; i < 60; ++i) {
    if (kubectl_.Exec(attacker_pod_, "listener", {"/bin/sh", "-c", probe}, seconds(20)).ok())
      return handle;
    if (!handle->Running() || Interrupted()) break;
    deps_.sleep(milliseconds(500));
  }
  handle->Stop(milliseconds(2000));
  return MakeError("the cell's listener in pod " + attacker_pod_ + " never listened on " +
                   std::to_string(cfg.listener_port));
}

std::vector<ObserverBinding> KubeBackend::Bindings(const Scenario& s,
                                                   const std::string& pod) const {
  const bool kata = pod == "kata-app";
  std::vector<ObserverBinding> out;
  for (const std::string& name : s.observers) {
    ObserverBinding b;
    b.observer = name;
    b.pod = pod;
    if (name == kObserverInGuest) {
      b.sensor_mode = kata ? "kata" : "sidecar";
      b.pids_comparable = true;  // shareProcessNamespace: attack-sim and sensor share pids
      b.label = kata ? "in-pod sensor sidecar inside the Kata VM (MODE=kata)"
                     : "in-pod sensor sidecar in the runc pod (MODE=sidecar)";
      b.capture_active = {s.sensor.capture};
    } else if (name == kObserverHostView || name == kObserverFalco) {
      // On a cluster, host Falco on the node is the host view.
      b.source = "falco";
      b.shared_vantage = true;
      b.available = falco_available_;
      if (!falco_available_) {
        b.reason = "no running Falco pods in namespace " + kubectl_.config().falco_namespace +
                   " (make kind-up installs them)";
      }
      b.label = (name == kObserverHostView ? "host view: " : "") + HostViewLabel();
    } else {
      b.available = false;
      b.reason = "observer '" + name + "' does not exist on the kube backend";
    }
    out.push_back(b);
  }
  return out;
}

Result<CellOutcome> KubeBackend::RunCell(RunContext& ctx, const Cell& cell) {
  CellOutcome out;
  out.cell = cell;
  const Scenario& s = *ctx.scenario;
  const std::string pod = PodForRuntime(cell.runtime);
  if (pod.empty()) {
    out.error = "runtime '" + cell.runtime + "' has no pod on the kube backend (runc, kata-qemu)";
    return out;
  }
  out.observers = Bindings(s, pod);
  out.notes.push_back(cell.runtime == "kata-qemu" ? "kata-qemu: " + KataRuntimeLabel()
                                                  : "runc: the cluster's default runtime");
  const seconds boot = Secs(s.timeouts.boot_s);

  const auto failed = [&out](const Error& e) {
    out.error = e.message;
    return out;
  };

  // A pod left by an interrupted run would make apply a no-op: delete it first.
  Note(ctx, "deleting any leftover pod " + pod);
  if (auto d = kubectl_.DeletePod(pod, seconds(120)); !d.ok()) return failed(d.error());
  Note(ctx, "rendering " + pod);
  auto rendered = kubectl_.RunIn("", {"kustomize", manifests_ + "/overlays/" + pod}, seconds(60));
  if (!rendered.ok()) return failed(rendered.error());
  auto manifest = RenderCellManifest(*rendered, pod, s.sensor, ctx.run_id, cell.Id());
  if (!manifest.ok()) return failed(manifest.error());
  std::set<std::string> sensors_before;  // a new id after apply is this pod's sensor
  for (const auto& sensor : ReceiverClient(receiver_url_, *deps_.http).Sensors().value_or({}))
    sensors_before.insert(sensor.id);

  Note(ctx, "applying " + pod);
  if (auto a = kubectl_.Run({"apply", "-f", "-"}, seconds(60), *manifest); !a.ok())
    return failed(a.error());
  // The action owns a copy of the kubectl wrapper: it may run after the backend is gone.
  const CleanupRegistry::Id teardown =
      ctx.cleanup->Add("kubectl delete pod " + pod,
                       [k = kubectl_, pod]() mutable { (void)k.DeletePod(pod, seconds(120)); });
  auto finish = [&](std::string error) -> Result<CellOutcome> {
    out.error = std::move(error);
    Note(ctx, "deleting pod " + pod);
    ctx.cleanup->RunOne(teardown);
    return out;
  };

  Note(ctx, "waiting for pod " + pod);
  if (auto w = kubectl_.Run(
          {"wait", "--for=condition=Ready", "pod/" + pod, "--timeout=" + Seconds(boot)},
          boot + seconds(10));
      !w.ok()) {
    auto describe = kubectl_.Run({"describe", "pod", pod}, seconds(30));
    // A Kata sandbox that does not start is most often a /dev/shm too small for the VM's
    // RAM, not a missing /dev/kvm.
    const std::string hint =
        cell.runtime == "kata-qemu"
            ? "\nhint: a kata-qemu pod that does not start is most often the node's /dev/shm "
              "being smaller than Kata's default_memory; run: sandwatch-harness doctor --backend "
              "kube (it checks /dev/shm, /dev/kvm and the Kata node label)"
            : "";
    return finish(w.error().message + hint + (describe.ok() ? "\n" + *describe : ""));
  }
  auto kernel = kubectl_.Exec(pod, "app", {"uname", "-r"}, seconds(30));
  if (kernel.ok()) {
    pod_kernels_[pod] = TrimRight(*kernel);
    out.notes.emplace_back(pod + " kernel " + pod_kernels_[pod] + ", node kernel " + node_kernel_);
    if (cell.runtime == "kata-qemu" && pod_kernels_[pod] == node_kernel_) {
      out.notes.emplace_back("warning: kata-app reports the node's kernel; it may not be in a VM");
    }
  }
  Note(ctx, "waiting for the sensor's first report");
  if (auto w = WaitForSensor(pod, sensors_before, s.timeouts.boot_s); !w.ok()) {
    return finish(w.error().message);
  }

  // A staged `dpkg -i` lives ~70 ms; the blog's `apt update && apt install` fetched over
  // the network for seconds. As in the local lab, a dpkg pre-invoke hook in the app
  // container stands in for that fetch when the scenario asks for it.
  if (s.attack.package_delay_ms > 0 && s.attack.package_install == "staged") {
    const std::string sleep_s = FormatSeconds(s.attack.package_delay_ms / 1000.0);
    auto hook = kubectl_.Exec(
        pod, "app",
        {"/bin/sh", "-c",
         "mkdir -p /etc/dpkg/dpkg.cfg.d && printf '%s\\n' '# sandwatch: stands in for the "
         "network fetch of apt update && apt install' 'pre-invoke=sleep " +
             sleep_s + "' > /etc/dpkg/dpkg.cfg.d/sandwatch-package-delay"},
        seconds(30));
    if (!hook.ok()) return finish("dpkg delay hook: " + hook.error().message);
    out.notes.push_back("dpkg pre-invoke hook sleeps " + std::to_string(s.attack.package_delay_ms) +
                        " ms (stands in for the blog's network fetch)");
  }

  const std::string gt_path = "/tmp/sandwatch-ground-truth-" + cell.Id() + ".jsonl";
  const std::string listener_gt = "/tmp/sandwatch-listener-" + cell.Id() + ".jsonl";
  (void)kubectl_.Exec(attacker_pod_, "listener", {"rm", "-f", listener_gt}, seconds(30));
  Note(ctx, "starting the attacker's listener");
  auto listener = StartCellListener(ctx, cell, listener_gt);
  if (!listener.ok()) return finish(listener.error().message);
  const CleanupRegistry::Id listener_cleanup =
      ctx.cleanup->Add("kubectl exec ... listen", [h = *listener] { h->Stop(milliseconds(2000)); });

  Note(ctx, "chain running in " + pod);
  out.start_wall_ns = deps_.clock->WallNs();
  // The listener is a cluster address, so attack-sim must be told it is meant.
  std::vector<std::string> attack_argv =
      AttackRunArgs(s, cell, listener_target_, s.attack.package_install, gt_path, true, false);
  attack_argv.insert(attack_argv.begin(), {"sandwatch-attack-sim", "run"});
  auto attack = kubectl_.Exec(pod, "app", attack_argv, Secs(s.timeouts.cell_s));
  out.end_wall_ns = deps_.clock->WallNs();
  std::string error;
  if (!attack.ok()) error = "attack-sim: " + attack.error().message;

  // The listener ends after its one session (and its linger); it must not outlive the cell.
  if (!(*listener)->Wait(seconds(30)).ok()) (*listener)->Stop(milliseconds(2000));
  ctx.cleanup->Dismiss(listener_cleanup);
  const std::string local = ctx.work_dir + "/" + cell.Id();
  const std::vector<GroundTruthStep> listener_steps =
      FetchGroundTruth(kubectl_, attacker_pod_, "listener", listener_gt, local + "-listener.jsonl")
          .value_or({});
  for (const auto& st : listener_steps) {
    out.notes.push_back(st.status == "ran"
                            ? "the reverse shell reached the listener, which ran `id; uname -a`: " +
                                  Printable(st.note, 300)
                            : "the listener got no connection: " + Printable(st.note, 300));
  }
  if (listener_steps.empty()) out.notes.emplace_back("the listener wrote no ground truth");

  auto gt = FetchGroundTruth(kubectl_, pod, "app", gt_path, local + "-ground-truth.jsonl");
  if (gt.ok()) {
    out.ground_truth = std::move(*gt);
    // As in the local lab, the listener's line is part of the cell's ground truth.
    out.ground_truth.insert(out.ground_truth.end(), listener_steps.begin(), listener_steps.end());
  } else if (error.empty()) {
    error = "ground truth: " + gt.error().message;
  }

  Note(ctx, "settling (late events)");
  deps_.sleep(milliseconds(static_cast<int64_t>(s.SettleSeconds() * 1000)));
  out.ok = error.empty();
  SW_LOG(kInfo, kLog, "cell done", {"cell", cell.Id()}, {"ok", out.ok ? "true" : "false"},
         {"steps", std::to_string(out.ground_truth.size())});
  return finish(error);
}

}  // namespace sandwatch::harness::kube
