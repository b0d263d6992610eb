#include "sandwatch/harness/kube/kube_dry_run.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kube_internal.h"
#include "sandwatch/harness/cleanup.h"

namespace sandwatch::harness::kube {
namespace {

// A background command (a listener, a port-forward) that is never started: it reports
// as finished with exit 0.
class PrintedHandle : public ProcessHandle {
 public:
  int Pid() const override { return 0; }
  bool Running() override { return false; }
  Result<int> Wait(std::chrono::milliseconds) override { return 0; }
  int Stop(std::chrono::milliseconds) override { return 0; }
};

// What the cluster would answer, by a word of the command line: the first that matches.
constexpr std::array<std::pair<const char*, const char*>, 6> kAnswers = {
    {{".status.podIP", "ATTACKER_POD ATTACKER_POD_IP"},
     {"kernelVersion", "NODE_KERNEL"},
     {"status.phase", "Running"},
     {"containers[0].image", "FALCO_IMAGE"},
     {" runtimeclass ", "RUNTIMECLASS_HANDLER"},
     {" uname ", "POD_KERNEL"}}};

// Prints each command instead of running it and answers as a healthy cluster would, with
// upper-case placeholders where a real cluster would say something specific.
class PrintingRunner : public CommandRunner {
 public:
  PrintingRunner(CommandRunner& kustomize, std::string* out) : kustomize_(kustomize), out_(out) {}

  Result<CommandResult> Run(const CommandSpec& spec) override {
    const auto& a = spec.argv;
    const std::string line = "$ " + RenderCommand(a);
    if (std::find(a.begin(), a.end(), "kustomize") != a.end()) {
      *out_ += line + "\n";
      return kustomize_.Run(spec);
    }
    CommandResult r;
    r.exit_code = 0;
    if (std::find(a.begin(), a.end(), "apply") != a.end() && !spec.stdin_data.empty()) {
      *out_ += line + " <<'EOF'\n" + Pretty(spec.stdin_data) + "\nEOF\n";
      return r;
    }
    *out_ += line + "\n";
    for (const auto& [needle, answer] : kAnswers) {
      if (line.find(needle) != std::string::npos) {
        r.out = answer;
        break;
      }
    }
    return r;
  }

  Result<std::unique_ptr<ProcessHandle>> Start(const CommandSpec& spec) override {
    *out_ += "$ " + RenderCommand(spec.argv) + " &\n";
    return std::unique_ptr<ProcessHandle>(std::make_unique<PrintedHandle>());
  }

  std::string Which(const std::string& name) override { return name; }

  // Pod names applied so far: the stand-in receiver lists one sensor for each.
  std::vector<std::string> applied;

 private:
  std::string Pretty(const std::string& manifest) {
    try {
      const auto j = nlohmann::json::parse(manifest);
      if (j.contains("metadata") && j["metadata"].contains("name")) {
        applied.push_back(j["metadata"]["name"].get<std::string>());
      }
      return j.dump(2);
    } catch (const nlohmann::json::exception&) {
      return manifest;
    }
  }

  CommandRunner& kustomize_;
  std::string* out_;
};

// The receiver as the backend would find it: healthy, and each applied pod's sensor
// reporting. Nothing is sent anywhere.
class SilentReceiver : public HttpClient {
 public:
  explicit SilentReceiver(const PrintingRunner& runner) : runner_(runner) {}
  Result<HttpResponse> Get(const std::string& url, const std::string&) override {
    if (url.find("/api/sensors") == std::string::npos) return HttpResponse{200, "ok"};
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < runner_.applied.size(); ++i) {
      list.push_back({{"id", "sensor-" + std::to_string(i)}, {"pod", runner_.applied[i]}});
    }
    return HttpResponse{200, list.dump()};
  }
  Result<HttpResponse> Post(const std::string&, const std::string&, const std::string&) override {
    return HttpResponse{202, "{}"};
  }

 private:
  const PrintingRunner& runner_;
};

}  // namespace

Result<std::string> KubeDryRun(const Scenario& scenario, const KubeConfig& config,
                               CommandRunner& kustomize_runner, const std::string& source_dir) {
  std::string out = "# sandwatch-harness run " + scenario.path +
                    " --backend kube --dry-run: nothing below runs; placeholders in capitals "
                    "(ATTACKER_POD_IP, NODE_KERNEL, ...) stand for what the cluster answers\n";
  PrintingRunner runner(kustomize_runner, &out);
  KubeDeps deps;
  deps.http = std::make_unique<SilentReceiver>(runner);
  deps.sleep = [](std::chrono::milliseconds) {};
  deps.source_dir = source_dir;
  auto backend = MakeKubeBackend(runner, config, std::move(deps));

  std::string work = "/tmp/sandwatch-dry-run-XXXXXX";
  if (mkdtemp(work.data()) == nullptr) return MakeError("cannot create a scratch dir under /tmp");
  CleanupRegistry cleanup;
  // Only the files RunCell writes (ground truths read back); no mounts.
  cleanup.Add("scratch dir " + work, [work] {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  });
  RunContext ctx;
  ctx.scenario = &scenario;
  ctx.run_id = scenario.name + "-DRYRUN";
  ctx.work_dir = work;
  ctx.out_dir = work;
  ctx.runner = &runner;
  ctx.cleanup = &cleanup;

  out += "# prepare: the cluster, the receiver, the attacker pod, Falco\n";
  if (auto st = backend->Prepare(ctx); !st.ok()) {
    cleanup.RunAll();
    return MakeError("prepare: " + st.error().message);
  }
  std::string errors;
  for (const Cell& cell : ExpandCells(scenario)) {
    const std::string pod = PodForRuntime(cell.runtime);
    out += "\n# cell " + cell.Id() + ": " +
           (pod.empty() ? "no pod for runtime " + cell.runtime : "pod " + pod) + "\n";
    auto outcome = backend->RunCell(ctx, cell);
    if (!outcome.ok()) {
      errors += cell.Id() + ": " + outcome.error().message + "\n";
    } else if (!outcome->error.empty()) {
      out += "# this cell would fail: " + outcome->error + "\n";
    }
  }
  backend->Finish(ctx);
  out += "\n# environment.json would record (besides the host's facts):\n";
  for (const auto& [k, v] : backend->Environment()) out += "#   " + k + ": " + v + "\n";
  cleanup.RunAll();
  if (!errors.empty()) return MakeError(errors);
  return out;
}

}  // namespace sandwatch::harness::kube
