// doctor's checks inside the kind node (/dev/shm against Kata's memory, /dev/kvm, BTF,
// Kata's ready label, the image store), `run --backend kube --dry-run`, and what the kube
// backend records for the reports (the real runtime class and the real Falco), all through
// the injected runner.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "../../src/kube/kube_internal.h"
#include "fake_kube.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/kube/kube_dry_run.h"
#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

Scenario TwoRuntimes() {
  Scenario s;
  s.name = "blog-demo";
  s.path = "scenarios/blog-demo.yaml";
  s.runtimes = {"runc", "kata-qemu"};
  s.observers = {"host-view", "in-guest"};
  s.sensor.capture = "poll";
  s.sensor.expected_processes = {"sleep"};
  s.attack.package_install = "staged";
  return s;
}

// A receiver whose NodePort answers /healthz, sleeps that return at once.
KubeDeps HealthyReceiverDeps() {
  KubeDeps deps;
  auto http = std::make_shared<FakeHttp>();
  http->routes["http://127.0.0.1:30080/healthz"] = {200, "ok"};
  deps.http = http;
  deps.sleep = [](std::chrono::milliseconds) {};
  deps.source_dir = SourceDir();
  return deps;
}

class KubeNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_.source_dir = SourceDir();
    AnswerHealthyCluster(kubectl_, "");
  }
  std::map<std::string, DoctorCheck> Doctor(const std::vector<std::string>& runtimes) {
    std::map<std::string, DoctorCheck> by;
    for (auto& c : MakeKubeBackend(kubectl_, {}, HealthyReceiverDeps())->Doctor(runtimes)) {
      by[c.name] = c;
    }
    return by;
  }
  FakeKubectl kubectl_;
};

TEST_F(KubeNodeTest, HealthyNodePassesAndNamesTheContainerdImageStore) {
  auto by = Doctor({"kata-qemu"});
  for (const char* name : {"/dev/kvm in the node", "/dev/shm vs Kata memory", "BTF for Falco",
                           "Kata ready on the node", "images in the node", "image store"}) {
    ASSERT_EQ(by.count(name), 1u) << name;
    EXPECT_TRUE(by[name].ok) << name << ": " << by[name].detail;
  }
  EXPECT_NE(by["/dev/shm vs Kata memory"].detail.find("/dev/shm 4608 MiB in sandwatch-control-"
                                                      "plane, Kata default_memory 2048 MiB"),
            std::string::npos)
      << by["/dev/shm vs Kata memory"].detail;
  EXPECT_NE(by["image store"].detail.find("containerd image store"), std::string::npos);
  EXPECT_NE(by["image store"].detail.find("kind load image-archive"), std::string::npos);
}

// kind's default 64 MiB /dev/shm: the check fails, names the remount, and the VM probe's
// fix points at /dev/shm before /dev/kvm.
TEST_F(KubeNodeTest, ShmSmallerThanKataMemoryFailsWithTheRemount) {
  kubectl_.Answer("exec sandwatch-control-plane df -Pm /dev/shm",
                  "Filesystem 1048576-blocks Used Available Capacity Mounted on\n"
                  "shm 64 0 64 0% /dev/shm\n");
  kubectl_.Answer("exec sandwatch-control-plane grep -E ^default_memory",
                  "default_memory = 1024\n");
  kubectl_.Answer("run sw-doctor-kata-probe", "", 1, "pod sw-doctor-kata-probe timed out");
  auto by = Doctor({"kata-qemu"});
  const DoctorCheck& shm = by["/dev/shm vs Kata memory"];
  EXPECT_FALSE(shm.ok);
  EXPECT_TRUE(shm.required);
  EXPECT_NE(shm.detail.find("/dev/shm 64 MiB"), std::string::npos) << shm.detail;
  EXPECT_NE(shm.detail.find("default_memory 1024 MiB (/opt/kata/share/defaults"), std::string::npos)
      << shm.detail;
  EXPECT_NE(shm.fix.find("docker exec sandwatch-control-plane mount -o remount,size=4608m "
                         "/dev/shm"),
            std::string::npos)
      << shm.fix;
  const DoctorCheck& vm = by["kata-qemu pods run in a VM"];
  EXPECT_FALSE(vm.ok);
  EXPECT_LT(vm.fix.find("/dev/shm"), vm.fix.find("/dev/kvm")) << vm.fix;
}

TEST_F(KubeNodeTest, MissingKvmBtfLabelAndImageEachNameTheirFix) {
  for (const char* key :
       {"exec sandwatch-control-plane test -c /dev/kvm",
        "exec sandwatch-control-plane test -e /sys/kernel/btf/vmlinux",
        "exec sandwatch-control-plane crictl images -q localhost/sandwatch-workload:dev"}) {
    kubectl_.Answer(key, "", 1);
  }
  kubectl_.Answer("get nodes -l katacontainers.io/kata-runtime=true -o name", "");
  auto by = Doctor({"kata-qemu"});
  EXPECT_FALSE(by["/dev/kvm in the node"].ok);
  EXPECT_NE(by["/dev/kvm in the node"].fix.find("modprobe kvm_intel"), std::string::npos);
  EXPECT_FALSE(by["BTF for Falco"].ok);
  EXPECT_NE(by["BTF for Falco"].fix.find("CONFIG_DEBUG_INFO_BTF=y"), std::string::npos);
  EXPECT_FALSE(by["Kata ready on the node"].ok);
  EXPECT_NE(by["Kata ready on the node"].detail.find("katacontainers.io/kata-runtime=true"),
            std::string::npos);
  EXPECT_FALSE(by["images in the node"].ok);
  EXPECT_NE(by["images in the node"].fix.find("docker save + kind load image-archive"),
            std::string::npos);
}

// Without a runc-only run, Kata's checks are optional.
TEST_F(KubeNodeTest, KataChecksAreOptionalForARuncOnlyRun) {
  kubectl_.Answer("exec sandwatch-control-plane df -Pm /dev/shm", "", 1);
  auto by = Doctor({"runc"});
  EXPECT_FALSE(by["/dev/shm vs Kata memory"].ok);
  EXPECT_FALSE(by["/dev/shm vs Kata memory"].required);
  EXPECT_FALSE(by["Kata ready on the node"].required);
}

// The run records the real runtime class and the real Falco; nothing says stand-in.
TEST_F(KubeNodeTest, EnvironmentNamesTheRealRuntimeClassAndFalco) {
  Scenario s = TwoRuntimes();
  auto backend = MakeKubeBackend(kubectl_, {}, HealthyReceiverDeps());
  CleanupRegistry cleanup;
  RunContext ctx;
  ctx.scenario = &s;
  ctx.cleanup = &cleanup;
  ASSERT_TRUE(backend->Prepare(ctx).ok());
  auto env = backend->Environment();
  EXPECT_EQ(env["runtime.kata-qemu"],
            "Kata Containers: RuntimeClass kata-qemu, handler kata-qemu (pod kata-app in its "
            "own VM)");
  EXPECT_EQ(env["host_view"],
            "host Falco docker.io/falcosecurity/falco:0.44.1 on the node (modern eBPF), via "
            "Falcosidekick");
  for (const auto& [k, v] : env) {
    EXPECT_EQ(v.find("STAND-IN"), std::string::npos) << k << ": " << v;
  }
  cleanup.RunAll();
}

// --dry-run: the real backend's steps with placeholders, manifests from kustomize only.
TEST_F(KubeNodeTest, DryRunPrintsEachCellsManifestAndStepsWithoutACluster) {
  auto listing = KubeDryRun(TwoRuntimes(), KubeConfig{}, kubectl_, SourceDir());
  ASSERT_TRUE(listing.ok()) << listing.error().message;
  std::string text = *listing;
  for (size_t p; (p = text.find(SourceDir())) != std::string::npos;) {
    text.replace(p, SourceDir().size(), "${SRC}");
  }
  const std::string golden = SourceDir() + "/harness/tests/kube/golden/dry-run.txt";
  if (std::getenv("SANDWATCH_UPDATE_GOLDEN") != nullptr) std::ofstream(golden) << text;
  EXPECT_EQ(text, ReadFile(golden)) << "rerun with SANDWATCH_UPDATE_GOLDEN=1 if intended";
  // Only kustomize went to the injected runner: nothing touched a cluster.
  ASSERT_EQ(kubectl_.calls.size(), 2u);
  for (const auto& c : kubectl_.calls) {
    EXPECT_EQ(FakeKubectl::Key(c.argv).rfind("kustomize ", 0), 0u) << RenderCommand(c.argv);
  }
  EXPECT_NE(text.find("\"runtimeClassName\": \"kata-qemu\""), std::string::npos);
  EXPECT_NE(text.find("--target ATTACKER_POD_IP:4445"), std::string::npos);
  EXPECT_EQ(text.find("STAND-IN"), std::string::npos);
}

TEST_F(KubeNodeTest, DryRunFailsClearlyWhenKustomizeFails) {
  kubectl_.answers.clear();
  auto listing = KubeDryRun(TwoRuntimes(), KubeConfig{}, kubectl_, SourceDir());
  ASSERT_TRUE(listing.ok());
  EXPECT_NE(listing->find("# this cell would fail: "), std::string::npos) << *listing;
  EXPECT_NE(listing->find("unexpected command: kustomize"), std::string::npos) << *listing;
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
