// Test doubles for the kube backend: a CommandRunner that answers kubectl the way a
// healthy `make kind-up` cluster would (recording every command line), and an HttpClient
// standing in for the receiver / falcosidekick-ui. Answers are data set per test, and the
// recorded sequence is compared with golden files.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/http_client.h"

namespace sandwatch::harness::kube::testing {

class FakeKubectl : public CommandRunner {
 public:
  // kubectl's answer to the arguments after `kubectl --context C [-n NS]`, matched by
  // prefix (the longest matching key wins). Unmatched commands exit 1 with "unexpected".
  std::map<std::string, CommandResult> answers;
  std::vector<CommandSpec> calls;    // Run() and Start(), in order
  std::vector<std::string> applied;  // stdin of each `apply -f -`
  std::vector<std::string> started;  // rendered Start() command lines
  int stopped = 0;                   // port-forward handles stopped
  bool have_kubectl = true;
  // Called with each Run() command before it is answered (tests play the cluster's side
  // effects here: a sensor reporting, attack-sim writing its ground truth).
  std::function<void(const std::string& key, const CommandSpec& spec)> on_run;
  std::string source_dir;  // replaced by ${SRC} in Transcript()

  Result<CommandResult> Run(const CommandSpec& spec) override;
  Result<std::unique_ptr<ProcessHandle>> Start(const CommandSpec& spec) override;
  std::string Which(const std::string& name) override;

  // Every command line, one per line, RenderCommand()ed, with source_dir -> ${SRC}.
  std::string Transcript() const;
  // The answer key for a command line: args after the context and namespace flags.
  static std::string Key(const std::vector<std::string>& argv);
  void Answer(const std::string& key, std::string out, int exit_code = 0, std::string err = "");
};

// A ground-truth line as attack-sim writes one (speed blog, wall time 1 to 2 µs).
GroundTruthStep FakeStep(std::string run_id, std::string step, std::string variant,
                         std::vector<std::string> command, int pid);

// A healthy cluster: namespace, receiver, listener, Falco, node kernel, RuntimeClass,
// goldens for `kubectl kustomize`, pods that become Ready, attack-sim that writes
// `ground_truth_jsonl`.
void AnswerHealthyCluster(FakeKubectl& k, const std::string& ground_truth_jsonl);

class FakeHttp : public HttpClient {
 public:
  struct Call {
    std::string method, url, auth, body;
  };
  std::vector<Call> calls;
  // url prefix -> response; a missing entry is a connection error.
  std::map<std::string, HttpResponse> routes;
  // /api/sensors answers with one sensor per pod applied so far (needs `kubectl`).
  const FakeKubectl* kubectl = nullptr;

  Result<HttpResponse> Get(const std::string& url, const std::string& basic_auth) override;
  Result<HttpResponse> Post(const std::string& url, const std::string& body,
                            const std::string& content_type) override;
};

}  // namespace sandwatch::harness::kube::testing
