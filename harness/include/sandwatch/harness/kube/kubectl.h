// Kubectl: builds kubectl command lines for the kube backend and runs them through the
// harness's CommandRunner, so tests check the exact sequence with an injected runner.
// Every call is bounded by a timeout; failures come back as Result errors that carry
// kubectl's own stderr. Not thread-safe (one per backend).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/kube/kube_config.h"

namespace sandwatch::harness::kube {

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
  // Runs and returns the full result whatever the exit code (Error only when kubectl
  // could not be started).
  Result<CommandResult> RunRaw(const std::string& ns, const std::vector<std::string>& args,
                               std::chrono::seconds timeout, const std::string& stdin_data = "");

  // `kubectl kustomize DIR` (no namespace or context needed).
  Result<std::string> Kustomize(const std::string& dir, std::chrono::seconds timeout);
  // `kubectl apply -f -` with `yaml` on stdin.
  Status ApplyYaml(const std::string& yaml, std::chrono::seconds timeout);
  // `kubectl delete pod NAME --ignore-not-found --wait=true --timeout=Ns`.
  Status DeletePod(const std::string& name, std::chrono::seconds timeout);
  // `kubectl wait --for=condition=Ready pod/NAME --timeout=Ns`.
  Status WaitPodReady(const std::string& name, std::chrono::seconds timeout);
  // `kubectl exec NAME -c CONTAINER -- argv...`; the command's stdout.
  Result<std::string> Exec(const std::string& pod, const std::string& container,
                           const std::vector<std::string>& argv, std::chrono::seconds timeout);
  // `kubectl get KIND NAME -o jsonpath=EXPR` in `ns` ("" = cluster-scoped).
  Result<std::string> JsonPath(const std::string& ns, const std::string& kind,
                               const std::string& name, const std::string& expr,
                               std::chrono::seconds timeout);

  const KubeConfig& config() const { return config_; }
  CommandRunner& runner() { return runner_; }

 private:
  CommandRunner& runner_;
  KubeConfig config_;
};

// "12s" style --timeout values.
std::string Seconds(std::chrono::seconds s);

}  // namespace sandwatch::harness::kube
