// Kubectl: builds kubectl command lines for the kube backend and runs them through the
// harness's CommandRunner, so tests check the exact sequence with an injected runner.
// Every call is bounded by a timeout; failures come back as Result errors that carry
// kubectl's own stderr. Not thread-safe (one per backend).
#pragma once

#include <chrono>
#include <memory>
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

}  // namespace sandwatch::harness::kube
