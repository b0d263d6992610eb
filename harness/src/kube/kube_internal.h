// The kube backend: runs a scenario's runc and kata-qemu cells on a real cluster made by
// `make kind-up` (kind + Kata + Falco + our receiver and listener), all through kubectl:
//   per cell: render the overlay (normal-app / kata-app) with the scenario's sensor
//   settings, apply it, wait for the pod and for its sensor's first heartbeat, run
//   sandwatch-attack-sim inside the app container (kubectl exec) reverse-shelling to the
//   in-cluster listener, read its ground truth back, let late events settle, delete the
//   pod. Sensor and Falco events all land in the receiver, which the common scorer reads
//   through ReceiverUrl() (the NodePort, or a kubectl port-forward).
// See docs/kind.md. Registered as "kube" by RegisterKubeBackend().
//
// Internal to src/kube: the Kubectl wrapper; the KubeBackend class, split over
// kube_backend.cpp (set-up, receiver access, doctor, environment) and kube_cell.cpp (one
// cell end to end); the doctor checks, the cell manifest and the falcosidekick-ui import,
// shared by the backend and its tests.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/http_client.h"
#include "sandwatch/harness/kube/kube_config.h"

namespace sandwatch::harness::kube {

struct KubeDeps {
  std::shared_ptr<HttpClient> http;                      // null: MakeHttpClient(5 s)
  std::function<void(std::chrono::milliseconds)> sleep;  // null: std::this_thread::sleep_for
  std::string source_dir;                                // null: ResolveSourceDir()
  const Clock* clock = nullptr;  // null: SystemClock(); must outlive the backend
};

std::unique_ptr<Backend> MakeKubeBackend(CommandRunner& runner, KubeConfig config, KubeDeps deps);

// The pod (and overlay) name a runtime runs as: runc -> normal-app, kata-qemu ->
// kata-app; "" for runtimes the kube backend does not run (host).
std::string PodForRuntime(const std::string& runtime);

// Kubectl: builds kubectl command lines for the kube backend and runs them through the
// harness's CommandRunner, so tests check the exact sequence with an injected runner.
// Every call is bounded by a timeout; failures come back as Result errors that carry
// kubectl's own stderr. Not thread-safe (one per backend).
class Kubectl {
 public:
  Kubectl(CommandRunner& runner, KubeConfig config);

  // ["kubectl", "--context", C, "-n", NS, args...]; `ns` "" leaves -n out.
  std::vector<std::string> Argv(const std::vector<std::string>& args, const std::string& ns) const;

  // Runs kubectl `args` in the demo namespace (or `ns`); Error unless it exits 0.
  // The error message has the command line and kubectl's stderr.
  Result<std::string> Run(const std::vector<std::string>& args, std::chrono::seconds timeout,
                          const std::string& stdin_data = "");
  Result<std::string> RunIn(const std::string& ns, const std::vector<std::string>& args,
                            std::chrono::seconds timeout, const std::string& stdin_data = "");

  // Starts kubectl `args` in `ns` in the background, its output to the given files ("" =
  // /dev/null). The error names the command line.
  Result<std::shared_ptr<ProcessHandle>> Start(const std::string& ns,
                                               const std::vector<std::string>& args,
                                               const std::string& stdout_path,
                                               const std::string& stderr_path);
  // `kubectl delete pod NAME --ignore-not-found --wait=true --timeout=Ns`.
  Status DeletePod(const std::string& name, std::chrono::seconds timeout);
  // ["exec", POD, "-c", CONTAINER, "--", argv...]: kubectl arguments.
  static std::vector<std::string> ExecArgs(const std::string& pod, const std::string& container,
                                           const std::vector<std::string>& argv);
  // `kubectl exec NAME -c CONTAINER -- argv...`; the command's stdout.
  Result<std::string> Exec(const std::string& pod, const std::string& container,
                           const std::vector<std::string>& argv, std::chrono::seconds timeout);
  // `kubectl get WHAT... -o jsonpath=EXPR` in `ns` ("" = cluster-scoped), without trailing
  // newlines and spaces. WHAT: a kind and a name, or "pods", "-l", SELECTOR.
  Result<std::string> Get(const std::string& ns, std::vector<std::string> what,
                          const std::string& expr, std::chrono::seconds timeout);

  const KubeConfig& config() const { return config_; }
  CommandRunner& runner() { return runner_; }

 private:
  CommandRunner& runner_;
  KubeConfig config_;
};

// "12s" style --timeout values.
std::string Seconds(std::chrono::seconds s);

constexpr const char* kLog = "harness.kube";
// The label selector of the Falco pods the Helm chart makes.
constexpr const char* kFalcoPods = "app.kubernetes.io/name=falco";

// Whole seconds, rounded up, at least 1.
std::chrono::seconds Secs(double s);
// `s` without trailing newlines, carriage returns and spaces.
std::string TrimRight(std::string s);
// `s` split at spaces, tabs and newlines.
std::vector<std::string> SplitWords(const std::string& s);
// The first word of `s`; "" when there is none.
std::string FirstWord(const std::string& s);
// `harness doctor --backend kube`: RuntimeClass, Falco pods, Falcosidekick (+UI), the
// receiver (deployment and NodePort /healthz), the listener, and whether a kata-qemu pod
// really runs its own kernel (a probe pod's `uname -r` against the node's).
std::vector<DoctorCheck> KubeDoctor(Kubectl& kubectl, HttpClient& http,
                                    const std::vector<std::string>& runtimes);

// The manifest one cell applies, from the rendered kustomize overlay (normal-app or
// kata-app): the scenario's sensor settings go into the blog's env variables (names
// unchanged, values replaced): POLL_INTERVAL, HEARTBEAT_INTERVAL, EXPECTED_PROCESSES (when
// not empty; else the overlay's stays) and CAPTURE (added when not empty); the pod gets the
// labels sandwatch.dev/run and sandwatch.dev/cell (when not empty). Pure: YAML in, JSON out
// (kubectl apply takes JSON; it keeps "2" a string where YAML could make it a number), so
// tests compare it with golden files. Error when the YAML does not hold exactly one Pod
// named `pod_name` with a `sensor` container, or does not parse.
Result<std::string> RenderCellManifest(const std::string& kustomized_yaml,
                                       const std::string& pod_name, const SensorSettings& sensor,
                                       const std::string& run_id, const std::string& cell_id);

// Turns falcosidekick-ui's /api/v1/events/search answer into Falco json_output events
// (one JSON object per element), ready to POST to the receiver's /falco.
Result<std::vector<std::string>> SidekickUiEventsToFalcoJson(const std::string& body);

class KubeBackend : public Backend {
 public:
  KubeBackend(CommandRunner& runner, Result<KubeConfig> config, KubeDeps deps);

  std::string_view Name() const override { return "kube"; }
  std::vector<DoctorCheck> Doctor(const std::vector<std::string>& runtimes) override;
  Status Prepare(RunContext& ctx) override;
  std::string ReceiverUrl() const override { return receiver_url_; }
  Result<CellOutcome> RunCell(RunContext& ctx, const Cell& cell) override;
  std::map<std::string, std::string> Environment() override;
  void Finish(RunContext& ctx) override;

 private:
  Status ConnectReceiver(RunContext& ctx);
  Status ImportSidekickUi(RunContext& ctx);
  // Starts `kubectl port-forward service/SVC PORT:REMOTE` in `ns` and waits until
  // `probe_path` answers (with 200 when `need_200`). Returns the base URL.
  Result<std::string> PortForward(RunContext& ctx, const std::string& ns, const std::string& svc,
                                  int remote, const std::string& probe_path, bool need_200,
                                  std::shared_ptr<ProcessHandle>* handle);
  // "Kata Containers: RuntimeClass kata-qemu, handler ..." and "host Falco IMAGE ...": what
  // environment.json and the observer labels name for the kata-qemu cells and the host view.
  std::string KataRuntimeLabel() const;
  std::string HostViewLabel() const;
  Status WaitForSensor(const std::string& pod, const std::set<std::string>& before,
                       double timeout_s);
  std::vector<ObserverBinding> Bindings(const Scenario& s, const std::string& pod) const;
  // Starts this cell's listener in the attacker pod and waits until it listens.
  Result<std::shared_ptr<ProcessHandle>> StartCellListener(RunContext& ctx, const Cell& cell,
                                                           const std::string& gt_path);

  Kubectl kubectl_;
  KubeDeps deps_;
  std::string config_error_;
  std::string manifests_;
  std::string receiver_url_;
  std::string attacker_pod_;     // where each cell's listener runs
  std::string listener_target_;  // attacker pod IP:listener_port
  std::string node_kernel_ = "unknown";
  std::map<std::string, std::string> pod_kernels_;
  bool falco_available_ = false;
  std::string runtime_class_handler_;  // RuntimeClass kata-qemu's handler, "" when missing
  std::string falco_image_;            // the Falco pods' image, e.g. .../falco:0.44.1
  int64_t run_start_wall_ns_ = 0;
  // Shared with the cleanup actions, which may run after the backend is gone.
  std::shared_ptr<ProcessHandle> port_forward_;
  std::shared_ptr<ProcessHandle> ui_forward_;
};

}  // namespace sandwatch::harness::kube
