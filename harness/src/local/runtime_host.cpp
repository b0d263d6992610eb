// The host runtime: the chain runs directly on this machine (the fast path, used in
// CI). As root the pod gets its own PID namespace (unshare), so the in-guest sensor
// sees only the pod, as a sidecar would; otherwise it shares the host's view.

#include "local/lab.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::local {

using namespace std::chrono_literals;

Result<CellOutcome> RunHostCell(Lab& lab, CellRun& c) {
  auto& [out, dir, pod, clock, s, r] = c;
  const Cell& cell = out.cell;
  bool own_ns = lab.root && !r.Which("unshare").empty();
  std::unique_ptr<ProcessHandle> listener;
  auto port = StartListener(lab, c, s.timeouts.cell_s, &listener);
  if (!port.ok()) return c.Fail(port.error().message);
  if (auto st = WritePodFiles(
          s, dir, "SW_BIN='" + lab.ctx->tools.bin_dir + "'\n",
          SensorArgs(s, lab.receiver_url, pod, s.sensor.mode, s.sensor.capture,
                     LabTokenFile(lab.credentials, "host-app")),
          AttackRunArgs(s, cell, "127.0.0.1:" + std::to_string(*port),
                        s.attack.host_package_install, dir + "/gt.jsonl", false, true));
      !st.ok()) {
    return c.Fail(st.error().message);
  }
  std::vector<std::string> cmd;
  if (own_ns) cmd = {"unshare", "--pid", "--fork", "--mount-proc"};
  cmd.insert(cmd.end(), {lab.paths.lab_scripts + "/pod.sh", dir});
  lab.ctx->progress->Note(own_ns ? "chain running on the host in a pod-like PID namespace"
                                 : "chain running on the host (no PID namespace: not root)");
  auto pod_run = r.Start(Bg(cmd, dir + "/pod.log", dir + "/pod.err"));
  if (!pod_run.ok()) return c.Fail(pod_run.error().message);
  const std::optional<int> rc = WaitForExit(**pod_run, s.timeouts.cell_s, 3000ms);
  if (!rc && Interrupted()) return MakeError("interrupted");
  if (!rc) return c.Fail("the pod did not finish within timeouts.cell");
  listener->Stop(1000ms);
  ObserverBinding in;
  in.shared_vantage = !own_ns;
  if (!own_ns) in.lineage = {"pod.sh"};
  in.label = own_ns ? "sandwatch-sensor in the pod's PID namespace on the host (no container)"
                    : "sandwatch-sensor on the host, seeing every host process (not root)";
  if (auto st = EndCell(lab, c, in, !own_ns, {"pod.sh"}, dir + "/gt.jsonl"); !st.ok()) {
    return c.Fail("ground truth: " + st.error().message);
  }
  out.ok = *rc == 0 && !out.ground_truth.empty();
  if (!out.ok) {
    out.error = "pod exit " + std::to_string(*rc) +
                "; attack-sim: " + ReadText(dir + "/attack.log").substr(0, 400);
  }
  out.notes.push_back(std::string("host runtime, package install ") +
                      s.attack.host_package_install +
                      (own_ns ? ", private PID namespace" : ", no namespace"));
  return out;
}

}  // namespace sandwatch::harness::local
