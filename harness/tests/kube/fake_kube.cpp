#include "fake_kube.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "sandwatch/core/ground_truth.h"
#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

class FakeHandle : public ProcessHandle {
 public:
  explicit FakeHandle(int* stopped) : stopped_(stopped) {}
  int Pid() const override { return 4242; }
  bool Running() override { return running_; }
  Result<int> Wait(std::chrono::milliseconds) override {
    return running_ ? Result<int>(MakeError("running")) : Result<int>(0);
  }
  int Stop(std::chrono::milliseconds) override {
    if (running_) ++*stopped_;
    running_ = false;
    return 0;
  }

 private:
  int* stopped_;
  bool running_ = true;
};

// The entry whose key is the longest prefix of `text`; null when none is.
template <class V>
const V* LongestPrefix(const std::map<std::string, V>& table, const std::string& text) {
  for (size_t n = text.size() + 1; n-- > 0;) {
    if (auto it = table.find(text.substr(0, n)); it != table.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

std::string FakeKubectl::Key(const std::vector<std::string>& argv) {
  size_t i = 1;
  while (i + 1 < argv.size() && (argv[i] == "--context" || argv[i] == "-n")) i += 2;
  std::string key;
  for (; i < argv.size(); ++i) key += (key.empty() ? "" : " ") + argv[i];
  return key;
}

void FakeKubectl::Answer(const std::string& key, std::string out, int exit_code, std::string err) {
  CommandResult r;
  r.exit_code = exit_code;
  r.out = std::move(out);
  r.err = std::move(err);
  answers[key] = r;
}

Result<CommandResult> FakeKubectl::Run(const CommandSpec& spec) {
  calls.push_back(spec);
  const std::string key = Key(spec.argv);
  if (key == "apply -f -") applied.push_back(spec.stdin_data);
  if (on_run) on_run(key, spec);
  const CommandResult* best = LongestPrefix(answers, key);
  if (best == nullptr) {
    CommandResult r;
    r.exit_code = 1;
    r.err = "unexpected command: " + key;
    return r;
  }
  return *best;
}

Result<std::unique_ptr<ProcessHandle>> FakeKubectl::Start(const CommandSpec& spec) {
  calls.push_back(spec);
  started.push_back(RenderCommand(spec.argv));
  return std::unique_ptr<ProcessHandle>(std::make_unique<FakeHandle>(&stopped));
}

std::string FakeKubectl::Which(const std::string& name) {
  return have_kubectl ? "/usr/bin/" + name : "";
}

std::string FakeKubectl::Transcript() const {
  std::string out;
  for (const auto& c : calls) {
    std::string line = RenderCommand(c.argv);
    for (size_t p; !source_dir.empty() && (p = line.find(source_dir)) != std::string::npos;) {
      line.replace(p, source_dir.size(), "${SRC}");
    }
    out += line + "\n";
  }
  return out;
}

GroundTruthStep FakeStep(std::string run_id, std::string step, std::string variant,
                         std::vector<std::string> command, int pid) {
  GroundTruthStep s;
  s.run_id = std::move(run_id);
  s.step = std::move(step);
  s.variant = std::move(variant);
  s.speed = "blog";
  s.command = std::move(command);
  s.pid = pid;
  s.start_wall_ns = 1'000;
  s.end_wall_ns = 2'000;
  return s;
}

void AnswerHealthyCluster(FakeKubectl& k, const std::string& gt) {
  const std::string golden = SourceDir() + "/harness/tests/kube/golden/";
  k.Answer("get namespace kata-demo", "kata-demo");
  k.Answer("rollout status deployment/kata-receiver",
           "deployment \"kata-receiver\" successfully rolled out\n");
  k.Answer("get pods -l app=attacker --field-selector=status.phase=Running",
           "attacker-7d9f4 10.244.0.7");
  k.Answer("exec attacker-7d9f4 -c listener -- rm -f /tmp/sandwatch-listener-", "");
  k.Answer("exec attacker-7d9f4 -c listener -- /bin/sh -c grep -q ':115D 00000000:0000 0A'", "");
  {
    GroundTruthStep l = FakeStep("listener", "listener", "listen", {"listen", "0.0.0.0:4445"}, 7);
    l.note =
        "uid=0(root) gid=0(root) groups=0(root)\nLinux kata-app 6.12.28-kata #1 SMP x86_64 "
        "GNU/Linux\n\x1b[31m";
    k.Answer("exec attacker-7d9f4 -c listener -- cat /tmp/sandwatch-listener-",
             GroundTruthToJson(l).dump() + "\n");
  }
  k.Answer("get nodes -o jsonpath={.items[0].status.nodeInfo.kernelVersion}", "6.8.0-45-generic");
  k.Answer("get nodes -o jsonpath={.items[*].status.nodeInfo.kernelVersion}", "6.8.0-45-generic");
  k.Answer("get pods -l app.kubernetes.io/name=falco", "Running");
  k.Answer("get runtimeclass kata-qemu -o jsonpath={.handler}", "kata-qemu");
  k.Answer("get configmap falco -o",
           "rule_matching: all\nrules_files:\n  - /etc/falco/falco_rules.yaml\n"
           "  - /etc/falco/falco-incubating_rules.yaml\n");
  k.Answer("get deployment falco-falcosidekick -o", "1");
  k.Answer("get deployment falco-falcosidekick-ui -o", "1");
  k.Answer("get deployment kata-receiver -o", "1");
  k.Answer("get deployment attacker -o", "1");
  k.Answer("delete pod", "");
  for (const char* pod : {"normal-app", "kata-app"}) {
    k.Answer("kustomize " + k.source_dir + "/kind-cluster/manifests/overlays/" + pod,
             ReadFile(golden + pod + ".yaml"));
    k.Answer(std::string("wait --for=condition=Ready pod/") + pod,
             std::string("pod/") + pod + " condition met\n");
  }
  k.Answer("apply -f -", "pod configured\n");
  k.Answer("exec normal-app -c app -- uname -r", "6.8.0-45-generic\n");
  k.Answer("exec normal-app -c app -- /bin/sh -c mkdir -p /etc/dpkg/dpkg.cfg.d", "");
  k.Answer("exec kata-app -c app -- /bin/sh -c mkdir -p /etc/dpkg/dpkg.cfg.d", "");
  k.Answer("exec kata-app -c app -- uname -r", "6.12.28-kata\n");
  k.Answer("exec normal-app -c app -- sandwatch-attack-sim run", "chain done\n");
  k.Answer("exec kata-app -c app -- sandwatch-attack-sim run", "chain done\n");
  k.Answer("exec normal-app -c app -- cat /tmp/sandwatch-ground-truth-", gt);
  k.Answer("exec kata-app -c app -- cat /tmp/sandwatch-ground-truth-", gt);
  k.Answer("run sw-doctor-kata-probe", "6.12.28-kata\n");
  // What the reports name, and doctor's checks of the kind node (docker exec NODE ...).
  k.Answer(
      "get pods -l app.kubernetes.io/name=falco -o "
      "jsonpath={.items[0].spec.containers[0].image}",
      "docker.io/falcosecurity/falco:0.44.1");
  k.Answer("get nodes -o jsonpath={.items[*].metadata.name}", "sandwatch-control-plane");
  k.Answer("get nodes -l katacontainers.io/kata-runtime=true -o name",
           "node/sandwatch-control-plane\n");
  k.Answer("info --format ok", "ok\n");
  k.Answer("info --format {{json .DriverStatus}}",
           R"([["driver-type","io.containerd.snapshotter.v1"]])");
  const std::string node = "exec sandwatch-control-plane ";
  k.Answer(node + "test -c /dev/kvm", "");
  k.Answer(node + "test -e /sys/kernel/btf/vmlinux", "");
  k.Answer(node + "grep -E ^default_memory", "default_memory = 2048\n");
  k.Answer(node + "df -Pm /dev/shm",
           "Filesystem     1048576-blocks  Used Available Capacity Mounted on\n"
           "shm                      4608     0      4608       0% /dev/shm\n");
  k.Answer(node + "crictl images -q localhost/sandwatch-workload:dev", "sha256:5e1f\n");
}

Result<HttpResponse> FakeHttp::Get(const std::string& url, const std::string& basic_auth) {
  calls.push_back({"GET", url, basic_auth, ""});
  if (kubectl != nullptr && url.find("/api/sensors") != std::string::npos &&
      routes.count("sensors-from-applied") != 0) {
    std::string body = "[";
    for (size_t i = 0; i < kubectl->applied.size(); ++i) {
      const YAML::Node pod = YAML::Load(kubectl->applied[i]);
      body += std::string(i ? "," : "") + R"({"id":"sensor-)" + std::to_string(i) +
              R"(","mode":"kata","pod":")" + pod["metadata"]["name"].as<std::string>() + R"("})";
    }
    return HttpResponse{200, body + "]"};
  }
  const HttpResponse* best = LongestPrefix(routes, url);
  if (best == nullptr) return MakeError("connection refused: " + url);
  return *best;
}

Result<HttpResponse> FakeHttp::Post(const std::string& url, const std::string& body,
                                    const std::string& content_type) {
  calls.push_back({"POST", url, content_type, body});
  return HttpResponse{202, R"({"accepted":1,"duplicates":0})"};
}

}  // namespace sandwatch::harness::kube::testing
