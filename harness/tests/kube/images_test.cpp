// The container images, built for real with podman from an offline local base (a
// debootstrap rootfs imported with `podman import`, cached in /var/cache/sandwatch/images):
// the receiver image serves /healthz, the sensor image starts and emits a heartbeat, both
// on stdout and to the receiver container, and the workload image runs attack-sim, ps
// and find. Image sizes are recorded as test properties (and printed).
// Label root: needs podman, root (debootstrap, rootful podman) and the three binaries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTag = "kubetest";
constexpr const char* kUlimits = "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024";

std::string Image(const std::string& part) {
  return std::string("localhost/sandwatch-") + part + ":" + kTag;
}

class ImagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_.clear();
    if (!OnPath("podman")) {
      skip_reason_ = "podman not installed";
      return;
    }
    if (geteuid() != 0) {
      skip_reason_ = "needs root (debootstrap base, rootful podman)";
      return;
    }
    for (const char* b : {"sandwatch-sensor", "sandwatch-receiver", "sandwatch-attack-sim"}) {
      if (!fs::exists(BinDir() + "/" + b)) {
        skip_reason_ = BinDir() + "/" + b + " not built";
        return;
      }
    }
    const std::string sizes = "/tmp/sw-kube-image-sizes." + std::to_string(getpid());
    build_ = Shell("bash " + ShellQuote(SourceDir() + "/images/build") + " --local-base --tag " +
                   kTag + " --build-dir " + ShellQuote(fs::path(BinDir()).parent_path().string()) +
                   " --sizes " + sizes);
    std::istringstream in(ReadFile(sizes));
    std::string image;
    long long bytes = 0;
    while (in >> image >> bytes) sizes_[image] = bytes;
    fs::remove(sizes);
  }
  static void TearDownTestSuite() {
    if (!skip_reason_.empty()) return;
    Shell("podman rmi -f " + Image("sensor") + " " + Image("receiver") + " " + Image("workload") +
          " >/dev/null 2>&1");
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_EQ(build_.exit_code, 0) << build_.output;
  }

  static std::string skip_reason_;
  static ShellResult build_;
  static std::map<std::string, long long> sizes_;
};
std::string ImagesTest::skip_reason_;
ShellResult ImagesTest::build_;
std::map<std::string, long long> ImagesTest::sizes_;

// A free loopback port for a published container port.
int FreePort() {
  const ShellResult r = Shell(
      "/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'");
  return r.exit_code == 0 ? std::stoi(r.output) : 0;
}

// Polls `command` until it exits 0 or `attempts` tries (0.5 s apart) are used up.
// Not a timed assertion: it only bounds how long a broken image can hang the test.
ShellResult PollUntilOk(const std::string& command, int attempts) {
  ShellResult r;
  for (int i = 0; i < attempts; ++i) {
    r = Shell(command);
    if (r.exit_code == 0) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return r;
}

TEST_F(ImagesTest, AllThreeBuildFromTheLocalBaseAndTheSensorImageIsSmall) {
  for (const char* part : {"sensor", "receiver", "workload"}) {
    ASSERT_EQ(sizes_.count(Image(part)), 1u) << build_.output;
    const double mb = static_cast<double>(sizes_[Image(part)]) / 1e6;
    RecordProperty(std::string(part) + "_image_mb", std::to_string(mb));
    std::printf("image %-40s %6.1f MB\n", Image(part).c_str(), mb);
  }
  EXPECT_LT(sizes_[Image("sensor")], 20'000'000) << "sensor image target is < 20 MB";
}

TEST_F(ImagesTest, ReceiverImageServesHealthzAndTakesASensorHeartbeat) {
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string name = "sw-kubetest-receiver-" + std::to_string(getpid());
  const ShellResult run =
      Shell(std::string("podman run -d --rm ") + kUlimits + " --name " + name +
            " -p 127.0.0.1:" + std::to_string(port) + ":8080 " + Image("receiver"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const ShellResult health = PollUntilOk("curl -fsS " + base + "/healthz", 60);
  EXPECT_EQ(health.exit_code, 0) << health.output << Shell("podman logs " + name).output;
  EXPECT_NE(health.output.find("ok"), std::string::npos) << health.output;

  // The sensor container, on the host network, posts to the receiver's published port.
  const std::string sname = "sw-kubetest-sensor-" + std::to_string(getpid());
  const ShellResult sensor = Shell(
      std::string("podman run -d --rm ") + kUlimits + " --network host --name " + sname +
      " -e RECEIVER_URL=" + base + "/events -e HEARTBEAT_INTERVAL=1 -e POLL_INTERVAL=0.5" +
      " -e MODE=kata -e EXPECTED_PROCESSES=sleep -e POD_NAME=kata-app -e POD_NAMESPACE=kata-demo " +
      Image("sensor"));
  ASSERT_EQ(sensor.exit_code, 0) << sensor.output;
  const ShellResult sensors = PollUntilOk("curl -fsS " + base + "/api/sensors | grep -q kata", 60);
  EXPECT_EQ(sensors.exit_code, 0) << Shell("curl -sS " + base + "/api/sensors").output
                                  << Shell("podman logs " + sname).output;
  Shell("podman rm -f " + sname + " " + name + " >/dev/null 2>&1");
}

TEST_F(ImagesTest, SensorImageStartsAndPrintsAHeartbeatOnStdout) {
  const ShellResult r =
      Shell(std::string("timeout 30 podman run --rm ") + kUlimits + " " + Image("sensor") +
            " --output stdout --heartbeat-interval 1 --poll-interval 0.5"
            " 2>/dev/null | grep -m1 sandwatch.heartbeat/v1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"schema\":\"sandwatch.heartbeat/v1\""), std::string::npos) << r.output;
}

TEST_F(ImagesTest, WorkloadImageHasAttackSimProcpsFindutilsAndTheStagedNcat) {
  const ShellResult r = Shell(std::string("podman run --rm ") + kUlimits + " " + Image("workload") +
                              " /bin/sh -c 'sandwatch-attack-sim --version && ps --version &&"
                              " find --version | head -n1 && ls /var/cache/sandwatch/debs/ &&"
                              " { command -v ncat || echo no-ncat-yet; }'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("procps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("find (GNU findutils)"), std::string::npos) << r.output;
  if (Shell("ls /var/cache/sandwatch/debs/ncat_*.deb").exit_code == 0) {
    EXPECT_NE(r.output.find("ncat_"), std::string::npos) << r.output;
    // ncat is not in the image: the attack installs it, so it is a new binary.
    EXPECT_NE(r.output.find("no-ncat-yet"), std::string::npos) << r.output;
  }
}

// The blog's pod, short of Kubernetes: the workload container running `sleep 3600`, the
// sensor image beside it in the same PID namespace (shareProcessNamespace) with the
// blog's env, and the receiver image. The chain runs at the blog's speed inside the app
// container, with the dpkg delay hook the kube backend writes; the receiver must then
// hold all six seed signals for pod kata-app. As on the cluster, the attacker's listener
// runs in its own container (loopback here) with the run's speed.
TEST_F(ImagesTest, SidecarSensorImageSeesTheBlogChainInTheWorkloadImage) {
  if (Shell("ls /var/cache/sandwatch/debs/ncat_*.deb").exit_code != 0) {
    GTEST_SKIP() << "no staged ncat .deb in /var/cache/sandwatch/debs (scripts/install-deps)";
  }
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string id = std::to_string(getpid());
  const std::string recv = "sw-kubetest-recv-" + id;
  const std::string app = "sw-kubetest-app-" + id;
  const std::string sensor = "sw-kubetest-sidecar-" + id;
  const std::string attacker = "sw-kubetest-attacker-" + id;
  const int lport = FreePort();
  ASSERT_GT(lport, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string u = std::string(" ") + kUlimits + " ";
  auto cleanup = [&] {
    Shell("podman rm -f -t 0 " + sensor + " " + app + " " + recv + " >/dev/null 2>&1");
  };
  cleanup();
  ASSERT_EQ(Shell("podman run -d --rm" + u + "--name " + recv +
                  " -p 127.0.0.1:" + std::to_string(port) + ":8080 " + Image("receiver"))
                .exit_code,
            0);
  ASSERT_EQ(PollUntilOk("curl -fsS " + base + "/healthz", 60).exit_code, 0);
  ASSERT_EQ(Shell("podman run -d" + u + "--network host --name " + app + " " + Image("workload") +
                  " /bin/sh -c 'sleep 3600'")
                .exit_code,
            0);
  const ShellResult started = Shell(
      "podman run -d" + u + "--pid container:" + app + " --network host --name " + sensor +
      " -e RECEIVER_URL=" + base +
      "/events -e POLL_INTERVAL=2 -e HEARTBEAT_INTERVAL=15"
      " -e MODE=kata -e EXPECTED_PROCESSES=sleep -e POD_NAME=kata-app -e POD_NAMESPACE=kata-demo " +
      Image("sensor"));
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_EQ(PollUntilOk("curl -fsS " + base + "/api/sensors | grep -q kata-app", 60).exit_code, 0)
      << Shell("podman logs " + sensor).output;
  ASSERT_EQ(Shell("podman exec " + app +
                  " /bin/sh -c \"mkdir -p /etc/dpkg/dpkg.cfg.d && printf "
                  "'%s\\n' 'pre-invoke=sleep 3' > /etc/dpkg/dpkg.cfg.d/sandwatch-package-delay\"")
                .exit_code,
            0);
  ASSERT_EQ(Shell("podman run -d" + u + "--network host --name " + attacker + " " +
                  Image("workload") + " sandwatch-attack-sim listen --bind 127.0.0.1 --port " +
                  std::to_string(lport) + " --speed blog --count 1 --timeout 300")
                .exit_code,
            0);
  std::array<char, 8> hex{};
  std::snprintf(hex.data(), hex.size(), "%04X", static_cast<unsigned>(lport));
  ASSERT_EQ(
      PollUntilOk(std::string("grep -q ':") + hex.data() + " 00000000:0000 0A' /proc/net/tcp", 60)
          .exit_code,
      0)
      << Shell("podman logs " + attacker).output;
  const ShellResult chain = Shell("podman exec " + app +
                                  " sandwatch-attack-sim run --chain blog --speed blog"
                                  " --package-install staged --ground-truth /tmp/gt.jsonl --quiet"
                                  " --target 127.0.0.1:" +
                                  std::to_string(lport));
  EXPECT_EQ(chain.exit_code, 0) << chain.output;
  // The reverse shell reached the attacker's container and ran `id` there.
  const ShellResult heard =
      PollUntilOk("podman logs " + attacker + " 2>/dev/null | grep -q 'uid=0'", 20);
  EXPECT_EQ(heard.exit_code, 0) << Shell("podman logs " + attacker).output;
  // Late events: two polls and the shipping delay (bounded polling, not a timed assertion).
  ShellResult rules;
  for (int i = 0; i < 30; ++i) {
    rules = Shell("curl -fsS '" + base + "/api/events?pod=kata-app&limit=1000'");
    bool all = true;
    for (const char* sig :
         {"unexpected_shell", "shadow_file_access", "aws_credential_discovery",
          "package_manager_execution", "post_start_binary_execution", "nc_execution"}) {
      all = all && rules.output.find(std::string(R"("rule":")") + sig + "\"") != std::string::npos;
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (const char* sig :
       {"unexpected_shell", "shadow_file_access", "aws_credential_discovery",
        "package_manager_execution", "post_start_binary_execution", "nc_execution"}) {
    EXPECT_NE(rules.output.find(std::string(R"("rule":")") + sig + "\""), std::string::npos)
        << sig << " missing; sensor log:\n"
        << Shell("podman logs " + sensor).output;
  }
  cleanup();
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
