// One cell on the cluster: render + apply the pod, wait for it and its sensor, play the
// chain with kubectl exec, read the ground truth back, let events settle, delete the pod.
#include <fstream>

#include "kube_backend_impl.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/log.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/kube/cell_manifest.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::kube {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr const char* kLog = "harness.kube";

void Note(RunContext& ctx, const std::string& what) {
  if (ctx.progress != nullptr) ctx.progress->Note(what);
}

// attack-sim's command line for a cell, run inside the app container.
std::vector<std::string> AttackArgv(const Scenario& s, const Cell& cell, const std::string& target,
                                    const std::string& gt_path) {
  std::vector<std::string> argv = {
      "sandwatch-attack-sim", "run", "--chain", s.chain, "--speed", cell.speed};
  if (cell.variant != "default" && !cell.variant.empty()) {
    argv.insert(argv.end(), {"--variant", cell.variant});
  }
  if (s.attack.hold_ms) argv.insert(argv.end(), {"--hold-ms", std::to_string(*s.attack.hold_ms)});
  if (s.attack.gap_ms) argv.insert(argv.end(), {"--gap-ms", std::to_string(*s.attack.gap_ms)});
  if (s.attack.chain_repeat > 1) {
    argv.insert(argv.end(), {"--repeat", std::to_string(s.attack.chain_repeat)});
  }
  // The listener is a cluster address, so attack-sim must be told it is meant.
  argv.insert(argv.end(), {"--target", target, "--allow-remote", "--package-install",
                           s.attack.package_install, "--ground-truth", gt_path});
  return argv;
}

}  // namespace

std::vector<ObserverBinding> KubeBackend::Bindings(const Scenario& s,
                                                   const std::string& pod) const {
  const bool kata = pod == "kata-app";
  std::vector<ObserverBinding> out;
  for (const std::string& name : s.observers) {
    ObserverBinding b;
    b.observer = name;
    b.pod = pod;
    if (name == kObserverInGuest) {
      b.source = "sandwatch";
      b.sensor_mode = kata ? "kata" : "sidecar";
      b.pids_comparable = true;  // shareProcessNamespace: attack-sim and sensor share pids
      b.shared_vantage = false;
      b.label = kata ? "in-pod sensor sidecar inside the Kata VM (MODE=kata)"
                     : "in-pod sensor sidecar in the runc pod (MODE=sidecar)";
      b.capture_active = {s.sensor.capture};
    } else if (name == kObserverHostView || name == kObserverFalco) {
      // On a cluster, host Falco on the node is the host view.
      b.source = "falco";
      b.pids_comparable = false;
      b.shared_vantage = true;
      b.available = falco_available_;
      if (!falco_available_) {
        b.reason = "no running Falco pods in namespace " + kubectl_.config().falco_namespace +
                   " (make kind-up installs them)";
      }
      b.label = name == kObserverHostView
                    ? "host view: host Falco on the node (modern eBPF), via Falcosidekick"
                    : "host Falco on the node, via Falcosidekick";
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
  out.notes.push_back(cell.runtime == "kata-qemu"
                          ? "kata-qemu: a real Kata Containers VM (RuntimeClass kata-qemu)"
                          : "runc: the cluster's default runtime");
  const seconds boot = Secs(s.timeouts.boot_s);

  // A pod left by an interrupted run would make apply a no-op: delete it first.
  Note(ctx, "deleting any leftover pod " + pod);
  if (auto d = kubectl_.DeletePod(pod, seconds(120)); !d.ok()) {
    out.error = d.error().message;
    return out;
  }
  Note(ctx, "rendering " + pod);
  auto rendered = kubectl_.Kustomize(manifests_ + "/overlays/" + pod, seconds(60));
  if (!rendered.ok()) {
    out.error = rendered.error().message;
    return out;
  }
  CellManifestOptions opts;
  opts.pod_name = pod;
  opts.poll_interval_s = s.sensor.poll_interval_s;
  opts.heartbeat_interval_s = s.sensor.heartbeat_interval_s;
  opts.expected_processes = s.sensor.expected_processes;
  opts.capture = s.sensor.capture;
  opts.run_id = ctx.run_id;
  opts.cell_id = cell.Id();
  auto manifest = RenderCellManifest(*rendered, opts);
  if (!manifest.ok()) {
    out.error = manifest.error().message;
    return out;
  }
  const std::set<std::string> sensors_before = SensorIds();

  Note(ctx, "applying " + pod);
  if (auto a = kubectl_.ApplyYaml(*manifest, seconds(60)); !a.ok()) {
    out.error = a.error().message;
    return out;
  }
  // The action owns a copy of the kubectl wrapper: it may run after the backend is gone.
  const CleanupRegistry::Id teardown =
      ctx.cleanup != nullptr ? ctx.cleanup->Add("kubectl delete pod " + pod,
                                                [k = kubectl_, pod]() mutable {
                                                  (void)k.DeletePod(pod, seconds(120));
                                                })
                             : 0;
  auto finish = [&](std::string error) -> Result<CellOutcome> {
    out.error = std::move(error);
    Note(ctx, "deleting pod " + pod);
    if (ctx.cleanup != nullptr) {
      ctx.cleanup->RunOne(teardown);
    } else {
      (void)kubectl_.DeletePod(pod, seconds(120));
    }
    return out;
  };

  Note(ctx, "waiting for pod " + pod);
  if (auto w = kubectl_.WaitPodReady(pod, boot); !w.ok()) {
    auto describe = kubectl_.Run({"describe", "pod", pod}, seconds(30));
    return finish(w.error().message + (describe.ok() ? "\n" + *describe : ""));
  }
  auto kernel = kubectl_.Exec(pod, "app", {"uname", "-r"}, seconds(30));
  if (kernel.ok()) {
    pod_kernels_[pod] = TrimRight(*kernel);
    out.notes.push_back(pod + " kernel " + TrimRight(*kernel) + ", node kernel " + node_kernel_);
    if (cell.runtime == "kata-qemu" && TrimRight(*kernel) == node_kernel_) {
      out.notes.push_back("warning: kata-app reports the node's kernel; it may not be in a VM");
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
    const std::string sleep_s = FormatSecondsValue(s.attack.package_delay_ms / 1000.0);
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
  Note(ctx, "chain running in " + pod);
  out.start_wall_ns = SystemClock().WallNs();
  auto attack = kubectl_.Exec(pod, "app", AttackArgv(s, cell, listener_target_, gt_path),
                              Secs(s.timeouts.cell_s));
  out.end_wall_ns = SystemClock().WallNs();
  std::string error;
  if (!attack.ok()) error = "attack-sim: " + attack.error().message;

  auto gt = kubectl_.Exec(pod, "app", {"cat", gt_path}, seconds(30));
  if (gt.ok()) {
    const std::string local = ctx.work_dir + "/" + cell.Id() + "-ground-truth.jsonl";
    std::ofstream(local, std::ios::binary) << *gt;
    auto steps = ReadGroundTruthFile(local);
    if (steps.ok()) {
      out.ground_truth = std::move(*steps);
    } else if (error.empty()) {
      error = "ground truth: " + steps.error().message;
    }
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
