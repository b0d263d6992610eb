// The kube backend's command sequences, checked through an injected runner: what it
// runs for the blog demo (golden transcript), what it applies (golden manifest), and how
// it behaves when the cluster is not healthy.
#include "sandwatch/harness/backend.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../src/kube/kube_internal.h"
#include "fake_kube.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/scenario.h"
#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;

std::string GoldenPath(const std::string& name) {
  return SourceDir() + "/harness/tests/kube/golden/" + name;
}

// Compares with a golden file; SANDWATCH_UPDATE_GOLDEN=1 rewrites it instead.
void ExpectGolden(const std::string& actual, const std::string& name) {
  if (std::getenv("SANDWATCH_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(GoldenPath(name), std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadFile(GoldenPath(name)))
      << name << " differs; rerun with SANDWATCH_UPDATE_GOLDEN=1 if the change is intended";
}

Scenario BlogDemo() {
  Scenario s;
  s.name = "blog-demo";
  s.runtimes = {"runc", "kata-qemu"};
  s.observers = {"host-view", "in-guest"};
  s.sensor.capture = "poll";
  s.sensor.poll_interval_s = 2;
  s.sensor.heartbeat_interval_s = 5;
  s.sensor.expected_processes = {"sleep"};
  s.attack.package_install = "staged";
  s.attack.package_delay_ms = 3000;
  return s;
}

std::string GroundTruthJsonl() {
  GroundTruthStep st = FakeStep("gt-1", "shadow", "default", {"cat", "/etc/shadow"}, 42);
  st.signal = "shadow_file_access";
  st.signals = {"shadow_file_access"};
  return GroundTruthToJson(st).dump() + "\n";
}

Cell KataCell() {
  Cell cell;
  cell.runtime = "kata-qemu";
  cell.variant = "default";
  cell.speed = "blog";
  return cell;
}

// Both backends build attack-sim's command lines with the same functions: the kube
// cell (remote target, progress kept) and a local one (loopback, --quiet) differ only there.
TEST(AttackSimArgs, OneBuilderServesTheClusterAndTheLocalLab) {
  Scenario s = BlogDemo();
  s.attack.chain_repeat = 2;
  s.attack.gap_ms = 50;
  Cell cell = KataCell();
  cell.variant = "python-pty";
  EXPECT_EQ(AttackRunArgs(s, cell, "ATTACKER_POD_IP:4445", "staged", "/tmp/gt.jsonl", true, false),
            (std::vector<std::string>{"--chain", "blog", "--speed", "blog", "--variant",
                                      "python-pty", "--gap-ms", "50", "--repeat", "2", "--target",
                                      "ATTACKER_POD_IP:4445", "--allow-remote", "--package-install",
                                      "staged", "--ground-truth", "/tmp/gt.jsonl"}));
  s.attack.chain_repeat = 1;
  cell.variant = "default";
  EXPECT_EQ(AttackRunArgs(s, cell, "127.0.0.1:9", "none", "gt.jsonl", false, true),
            (std::vector<std::string>{"--chain", "blog", "--speed", "blog", "--gap-ms", "50",
                                      "--target", "127.0.0.1:9", "--package-install", "none",
                                      "--ground-truth", "gt.jsonl", "--quiet"}));
  // The listener keeps the shell open for the speed preset's hold unless the scenario
  // sets one; attack-sim knows the presets, so only an explicit hold is passed.
  EXPECT_EQ(
      AttackListenArgs(s, cell, "127.0.0.1", 9, "30", "l.jsonl", true),
      (std::vector<std::string>{"--bind", "127.0.0.1", "--port", "9", "--speed", "blog", "--count",
                                "1", "--timeout", "30", "--ground-truth", "l.jsonl", "--quiet"}));
  s.attack.hold_ms = 700;
  const auto listen = AttackListenArgs(s, cell, "0.0.0.0", 4445, "300", "l.jsonl", false);
  ASSERT_GE(listen.size(), 2u);
  EXPECT_EQ(std::vector<std::string>(listen.end() - 2, listen.end()),
            (std::vector<std::string>{"--linger-ms", "700"}));
}

class KubeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = MakeTempDir("sw-kube-backend");
    ASSERT_FALSE(work_.empty());
    kubectl_.source_dir = SourceDir();
    AnswerHealthyCluster(kubectl_, GroundTruthJsonl());
    http_->kubectl = &kubectl_;
    http_->routes["http://127.0.0.1:30080/healthz"] = {200, "ok"};
    http_->routes["sensors-from-applied"] = {200, ""};
    scenario_ = BlogDemo();
    ctx_.scenario = &scenario_;
    ctx_.run_id = "run-1";
    ctx_.work_dir = work_;
    ctx_.out_dir = work_;
    ctx_.runner = &kubectl_;
    ctx_.cleanup = &cleanup_;
  }
  void TearDown() override {
    cleanup_.RunAll();
    fs::remove_all(work_);
  }
  std::unique_ptr<Backend> Make(KubeConfig cfg = {}) {
    KubeDeps deps;
    deps.http = http_;
    deps.sleep = [this](std::chrono::milliseconds d) {
      slept_ms_ += d.count();
      clock_.Advance(d.count() * 1'000'000);
    };
    deps.source_dir = SourceDir();
    deps.clock = &clock_;
    return MakeKubeBackend(kubectl_, std::move(cfg), std::move(deps));
  }

  FakeKubectl kubectl_;
  std::shared_ptr<FakeHttp> http_ = std::make_shared<FakeHttp>();
  Scenario scenario_;
  CleanupRegistry cleanup_;
  RunContext ctx_;
  std::string work_;
  int64_t slept_ms_ = 0;
  ManualClock clock_{1'000'000'000'000'000, 5'000'000'000};  // advanced by the injected sleep
};

TEST_F(KubeBackendTest, BlogDemoRunsBothCellsWithTheGoldenCommandSequence) {
  auto backend = Make();
  ASSERT_EQ(backend->Name(), "kube");
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  EXPECT_EQ(backend->ReceiverUrl(), "http://127.0.0.1:30080");
  for (const auto& cell : ExpandCells(scenario_)) {
    const int64_t cell_start_ns = clock_.WallNs();
    auto out = backend->RunCell(ctx_, cell);
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(out->ok) << out->error;
    // The chain's window comes from the injected clock (nothing sleeps during the exec).
    EXPECT_GE(out->start_wall_ns, cell_start_ns);
    EXPECT_LE(out->end_wall_ns, clock_.WallNs());
    EXPECT_EQ(out->start_wall_ns, out->end_wall_ns);
    ASSERT_EQ(out->ground_truth.size(), 2u) << "the chain's step and the listener's line";
    EXPECT_EQ(out->ground_truth[0].signal, "shadow_file_access");
    EXPECT_EQ(out->ground_truth[1].step, "listener");
    bool listener_note = false;
    for (const auto& n : out->notes) {
      if (n.find("reached the listener") == std::string::npos) continue;
      listener_note = true;
      EXPECT_NE(n.find("Linux kata-app 6.12.28-kata"), std::string::npos) << n;
      EXPECT_NE(n.find("\\x1b[31m"), std::string::npos) << "remote output escaped: " << n;
      EXPECT_EQ(n.find('\x1b'), std::string::npos) << n;
    }
    EXPECT_TRUE(listener_note);
    ASSERT_EQ(out->observers.size(), 2u);
    EXPECT_EQ(out->observers[0].observer, "host-view");
    EXPECT_EQ(out->observers[0].source, "falco");
    EXPECT_TRUE(out->observers[0].available);
    EXPECT_EQ(out->observers[1].observer, "in-guest");
    EXPECT_EQ(out->observers[1].pod, PodForRuntime(cell.runtime));
    EXPECT_EQ(out->observers[1].sensor_mode, cell.runtime == "runc" ? "sidecar" : "kata");
    EXPECT_TRUE(out->observers[1].pids_comparable);
  }
  backend->Finish(ctx_);
  EXPECT_EQ(cleanup_.Pending(), 0u) << "each cell deletes its pod when it ends";
  // Settling: 2 * POLL_INTERVAL + 3 s after each chain, through the injected sleep.
  EXPECT_EQ(slept_ms_, 2 * static_cast<int64_t>(scenario_.SettleSeconds() * 1000));
  ExpectGolden(kubectl_.Transcript(), "blog-demo.commands.txt");

  const auto env = backend->Environment();
  EXPECT_EQ(env.at("kube.pod_kernel.kata-app"), "6.12.28-kata");
  EXPECT_EQ(env.at("kube.node_kernel"), "6.8.0-45-generic");
  EXPECT_EQ(env.at("kube.receiver"), "http://127.0.0.1:30080 (NodePort)");
}

TEST_F(KubeBackendTest, AppliedKataManifestKeepsTheBlogEnvNamesWithTheScenarioValues) {
  auto backend = Make();
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  const Cell cell = KataCell();
  ASSERT_TRUE(backend->RunCell(ctx_, cell).ok());
  ASSERT_EQ(kubectl_.applied.size(), 1u);
  ExpectGolden(kubectl_.applied[0], "cell-kata-app.json");
  const YAML::Node pod = YAML::Load(kubectl_.applied[0]);
  EXPECT_EQ(pod["spec"]["runtimeClassName"].as<std::string>(), "kata-qemu");
  EXPECT_TRUE(pod["spec"]["shareProcessNamespace"].as<bool>());
  EXPECT_EQ(pod["metadata"]["labels"]["sandwatch.dev/run"].as<std::string>(), "run-1");
  std::vector<std::string> names;
  for (const auto& e : pod["spec"]["containers"][1]["env"])
    names.push_back(e["name"].as<std::string>());
  const std::vector<std::string> want = {
      "RECEIVER_URL", "POLL_INTERVAL", "HEARTBEAT_INTERVAL",  "MODE",   "EXPECTED_PROCESSES",
      "POD_NAME",     "POD_NAMESPACE", "RECEIVER_TOKEN_FILE", "CAPTURE"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(pod["spec"]["containers"][1]["env"][2]["value"].as<std::string>(), "5");
}

TEST_F(KubeBackendTest, FallsBackToPortForwardWhenTheNodePortDoesNotAnswer) {
  http_->routes.erase("http://127.0.0.1:30080/healthz");
  http_->routes["http://127.0.0.1:"] = {200, "ok"};  // the forwarded port
  http_->routes["http://127.0.0.1:30080"] = {503, ""};
  auto backend = Make();
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  ASSERT_EQ(kubectl_.started.size(), 1u);
  EXPECT_NE(kubectl_.started[0].find("-n kata-demo port-forward --address 127.0.0.1 "
                                     "service/kata-receiver"),
            std::string::npos)
      << kubectl_.started[0];
  EXPECT_NE(backend->ReceiverUrl(), "http://127.0.0.1:30080");
  EXPECT_EQ(backend->ReceiverUrl().rfind("http://127.0.0.1:", 0), 0u);
  cleanup_.RunAll();
  EXPECT_EQ(kubectl_.stopped, 1) << "cleanup stops the port-forward";
}

TEST_F(KubeBackendTest, APodThatNeverBecomesReadyFailsTheCellAndIsDeleted) {
  kubectl_.Answer("wait --for=condition=Ready pod/kata-app", "", 1,
                  "error: timed out waiting for the condition on pods/kata-app");
  kubectl_.Answer("describe pod kata-app", "Events: FailedCreatePodSandBox ... /dev/kvm\n");
  auto backend = Make();
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  const Cell cell = KataCell();
  auto out = backend->RunCell(ctx_, cell);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->ok);
  EXPECT_NE(out->error.find("timed out waiting for the condition"), std::string::npos)
      << out->error;
  EXPECT_NE(out->error.find("FailedCreatePodSandBox"), std::string::npos) << out->error;
  const std::string t = kubectl_.Transcript();
  EXPECT_EQ(t.find("sandwatch-attack-sim"), std::string::npos)
      << "no chain on a pod that is not ready";
  EXPECT_NE(t.rfind("delete pod kata-app"), t.find("delete pod kata-app"))
      << "deleted again at the end\n"
      << t;
  EXPECT_EQ(cleanup_.Pending(), 0u);
}

TEST_F(KubeBackendTest, HostRuntimeIsNotACellOnTheCluster) {
  auto backend = Make();
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  const size_t before = kubectl_.calls.size();
  Cell cell;
  cell.runtime = "host";
  auto out = backend->RunCell(ctx_, cell);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->ok);
  EXPECT_NE(out->error.find("runtime 'host'"), std::string::npos);
  EXPECT_EQ(kubectl_.calls.size(), before);
}

TEST_F(KubeBackendTest, PrepareNamesTheFixWhenTheClusterIsMissing) {
  kubectl_.answers.clear();
  kubectl_.Answer("get namespace kata-demo", "", 1,
                  "The connection to the server 127.0.0.1:6443 was refused");
  auto backend = Make();
  const Status s = backend->Prepare(ctx_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("FIX: make kind-up"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("was refused"), std::string::npos) << s.error().message;

  kubectl_.have_kubectl = false;
  const Status s2 = Make()->Prepare(ctx_);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.error().message.find("kubectl not found on PATH"), std::string::npos);
}

TEST_F(KubeBackendTest, SidekickUiEventsAreCopiedIntoTheReceiverWhenAsked) {
  KubeConfig cfg;
  cfg.falco_source = FalcoSource::kSidekickUi;
  http_->routes["http://127.0.0.1:"] = {200, "{}"};
  http_->routes["http://127.0.0.1:30080/healthz"] = {200, "ok"};
  auto backend = Make(cfg);
  ASSERT_TRUE(backend->Prepare(ctx_).ok());
  clock_.Advance(120'000'000'000);  // the run took two minutes on the injected clock
  // The UI's search answer, as falcosidekick-ui returns it.
  http_->routes["http://127.0.0.1:"] = {
      200,
      R"({"results":[{"uuid":"u1","output":"Package management process launched","priority":"Error",)"
      R"("rule":"Launch Package Management Process in Container","time":"2026-11-28T10:00:00.1Z",)"
      R"("source":"syscall","output_fields":{"k8s.pod.name":"normal-app"},"tags":["T1072"]}],)"
      R"("statistics":{"returned":1,"all":1}})"};
  backend->Finish(ctx_);
  ASSERT_EQ(kubectl_.started.size(), 1u);
  EXPECT_NE(kubectl_.started[0].find("-n falco port-forward --address 127.0.0.1 "
                                     "service/falco-falcosidekick-ui"),
            std::string::npos);
  bool searched = false;
  int posted = 0;
  for (const auto& c : http_->calls) {
    if (c.url.find("/api/v1/events/search?since=") != std::string::npos) {
      searched = true;
      // The run's age plus a minute of margin.
      EXPECT_NE(c.url.find("since=180s&"), std::string::npos) << c.url;
      EXPECT_EQ(c.auth, "admin:admin");
    }
    if (c.method == "POST") {
      ++posted;
      EXPECT_EQ(c.url, "http://127.0.0.1:30080/falco");
      EXPECT_NE(c.body.find("Launch Package Management Process in Container"), std::string::npos);
    }
  }
  EXPECT_TRUE(searched);
  EXPECT_EQ(posted, 1);
}

TEST_F(KubeBackendTest, DoctorChecksTheClusterAndThatKataRunsAGuestKernel) {
  http_->routes["http://127.0.0.1:30080/healthz"] = {200, "ok"};
  http_->routes.erase("sensors-from-applied");  // a sensor that has reported its capture
  http_->routes["http://127.0.0.1:30080/api/sensors"] = {
      200, R"([{"id":"kata-app","mode":"sidecar","capture":"inotify"}])"};
  auto backend = Make();
  const auto checks = backend->Doctor({"runc", "kata-qemu"});
  std::map<std::string, DoctorCheck> by;
  for (const auto& c : checks) by[c.name] = c;
  for (const char* name :
       {"kubectl", "kind", "helm", "image store", "cluster", "RuntimeClass kata-qemu",
        "Kata ready on the node", "/dev/kvm in the node", "/dev/shm vs Kata memory",
        "BTF for Falco", "images in the node", "Falco pods", "Falco config", "Falcosidekick",
        "Falcosidekick UI", "receiver", "receiver NodePort", "attacker listener",
        "kata-qemu pods run in a VM"}) {
    ASSERT_EQ(by.count(name), 1u) << name;
    EXPECT_TRUE(by[name].ok) << name << ": " << by[name].detail;
  }
  EXPECT_NE(by["kata-qemu pods run in a VM"].detail.find(
                "guest kernel 6.12.28-kata, node kernel 6.8.0-45-generic"),
            std::string::npos);
  ExpectGolden(kubectl_.Transcript(), "doctor.commands.txt");
  // The vantage comes from the capture the sensor reports in its heartbeats.
  std::string vantage_lines;
  for (const auto& [name, c] : by) {
    if (name.find("vantage") != std::string::npos) vantage_lines += name + ": " + c.detail + "\n";
  }
  ASSERT_EQ(by.count("sensor kata-app vantage"), 1u) << vantage_lines;
  EXPECT_NE(by["sensor kata-app vantage"].detail.find("sidecar without privileges"),
            std::string::npos)
      << by["sensor kata-app vantage"].detail;

  kubectl_.Answer("run sw-doctor-kata-probe", "6.8.0-45-generic\n");
  for (const auto& c : backend->Doctor({"kata-qemu"})) {
    if (c.name == "kata-qemu pods run in a VM") {
      EXPECT_FALSE(c.ok);
      EXPECT_NE(c.detail.find("is the node's: no VM boundary"), std::string::npos) << c.detail;
      EXPECT_FALSE(c.fix.empty());
    }
  }
}

TEST_F(KubeBackendTest, DoctorStopsEarlyWithoutACluster) {
  kubectl_.answers.clear();
  auto checks = Make()->Doctor({});
  ASSERT_FALSE(checks.empty());
  EXPECT_TRUE(checks[0].ok);
  EXPECT_EQ(checks.back().name, "cluster");
  EXPECT_FALSE(checks.back().ok);
  EXPECT_EQ(checks.back().fix, "make kind-up (docs/kind.md)");
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
