// The runc and qemu (kata-qemu stand-in) paths of the local lab, end to end, and cleanup
// after Ctrl-C. Label `root`: each test skips with the reason when root, runc or qemu is
// missing. The first run may build the rootfs (~1 min) and fetch the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lab_test_util.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::MissedSignals;

std::string MissingFor(CommandRunner& r, const std::vector<std::string>& tools) {
  if (geteuid() != 0) return "not root";
  for (const auto& t : tools) {
    if (r.Which(t).empty()) return t + " is not installed";
  }
  return "";
}

// With `keep`, the run's scratch dir stays for the test to read ("_scratch"); the test
// removes it.
nlohmann::json RunCell(const std::string& runtime, const std::string& tag, bool keep = false) {
  const std::string out_dir = testing::TempOut(tag);
  auto out = testing::RunBlogDemoCi({runtime}, out_dir, keep);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  if (!out.ok()) return {};
  EXPECT_TRUE(out->all_cells_ok) << out->table;
  auto summary = nlohmann::json::parse(testing::Slurp(out_dir + "/summary.json"));
  summary["_table"] = out->table;
  summary["_dir"] = out_dir;
  if (keep) {
    const std::string prefix = "sandwatch-run-" + summary.value("run_id", "") + "-";
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
      if (e.path().filename().string().rfind(prefix, 0) == 0)
        summary["_scratch"] = e.path().string();
    }
    EXPECT_TRUE(summary.contains("_scratch")) << "no scratch dir " << prefix << "*";
  }
  return summary;
}

// Every file named *.token below `dir`, relative to it.
std::vector<std::string> TokenFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".token") out.push_back(fs::relative(e.path(), dir).string());
  }
  return out;
}

// A failed run keeps its folder (events, ground truth, report) so the miss can be read.
void RemoveUnlessFailed(bool failed, const nlohmann::json& summary) {
  const std::string dir = summary["_dir"].get<std::string>();
  if (failed) {
    std::cerr << "kept for inspection: " << dir << "\n";
  } else {
    fs::remove_all(dir);
  }
}

std::string Mounts() { return testing::Slurp("/proc/self/mountinfo"); }

TEST(HarnessRoot, RuncSidecarAndHostViewSeeTheChain) {
  auto r = MakeProcessRunner();
  if (auto why = MissingFor(*r, {"runc", "debootstrap"}); !why.empty()) GTEST_SKIP() << why;
  auto s = RunCell("runc", "runc", /*keep=*/true);
  ASSERT_FALSE(s.empty());
  if (s.contains("_scratch")) {
    // A pod holds only its own sensor's token, mounted into the sidecar alone: the shared
    // /sw (mounted into the workload too) holds none, so a shell there cannot post as the
    // host view.
    const std::string scratch = s["_scratch"].get<std::string>();
    EXPECT_EQ(TokenFiles(scratch + "/sw"), std::vector<std::string>{});
    const std::string cell = scratch + "/runc-blog-default-r0";
    const std::string app = testing::Slurp(cell + "/app/bundle/config.json");
    const std::string sensor = testing::Slurp(cell + "/sensor/bundle/config.json");
    EXPECT_EQ(app.find("/run/secrets"), std::string::npos);
    EXPECT_EQ(app.find(".token"), std::string::npos);
    EXPECT_NE(sensor.find("runc-app.token"), std::string::npos);
    EXPECT_EQ(sensor.find("host-view.token"), std::string::npos);
    fs::remove_all(scratch);
  }
  EXPECT_EQ(MissedSignals(s, "runc", "in-guest"), "") << s["_table"].get<std::string>();
  EXPECT_EQ(MissedSignals(s, "runc", "host-view"), "") << s["_table"].get<std::string>();
  EXPECT_EQ(Mounts().find("sandwatch-run-"), std::string::npos) << "a mount was left behind";
  auto list = r->Run(Cmd({"runc", "list", "-q"}));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->out.find("sw-" + std::to_string(getpid()) + "-"), std::string::npos);
  RemoveUnlessFailed(HasFailure(), s);
}

TEST(HarnessRoot, VmStandInHidesTheChainFromTheHostView) {
  auto r = MakeProcessRunner();
  if (auto why = MissingFor(*r, {"qemu-system-x86_64", "debootstrap", "cpio", "busybox"});
      !why.empty()) {
    GTEST_SKIP() << why;
  }
  auto s = RunCell("kata-qemu", "vm", /*keep=*/true);
  ASSERT_FALSE(s.empty());
  if (s.contains("_scratch")) {
    // The guest's initramfs parts: the shared /sw holds no token, the cell's own part only
    // the kata-app sensor's.
    const std::string scratch = s["_scratch"].get<std::string>();
    EXPECT_EQ(TokenFiles(scratch + "/sw"), std::vector<std::string>{});
    EXPECT_EQ(TokenFiles(scratch + "/kata-qemu-blog-default-r0/root"),
              std::vector<std::string>{"sw/cell/sensor.token"});
    fs::remove_all(scratch);
  }
  EXPECT_EQ(MissedSignals(s, "kata-qemu", "in-guest"), "") << s["_table"].get<std::string>();
  for (const auto& c : s["coverage"]) {
    if (c["runtime"] == "kata-qemu" && c["observer"] == "host-view") {
      EXPECT_FALSE(c["detected"].get<bool>()) << c.dump();
      EXPECT_FALSE(c["expected"].get<bool>());
    }
  }
  auto env =
      nlohmann::json::parse(testing::Slurp(s["_dir"].get<std::string>() + "/environment.json"));
  EXPECT_NE(env.value("stand_in.kata-qemu", "").find("not Kata"), std::string::npos);
  RemoveUnlessFailed(HasFailure(), s);
}

TEST(HarnessRoot, CtrlCCleansUpContainersAndMounts) {
  auto r = MakeProcessRunner();
  if (auto why = MissingFor(*r, {"runc", "debootstrap"}); !why.empty()) GTEST_SKIP() << why;
  std::string out = testing::TempOut("interrupt");
  std::string err = out + ".stderr";
  auto h = r->Start(Bg(
      {testing::BinDir() + "/sandwatch-harness", "run",
       testing::SourceDir() + "/scenarios/blog-demo-ci.yaml", "--runtimes", "runc", "--out", out},
      "", err));
  ASSERT_TRUE(h.ok());
  int pid = (*h)->Pid();
  // Interrupt once the chain runs inside the container.
  bool running = false;
  for (int i = 0; i < 1200 && !running && (*h)->Running(); ++i) {
    running = testing::Slurp(err).find("chain running") != std::string::npos;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(running) << testing::Slurp(err);
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  auto code = (*h)->Wait(60s);
  ASSERT_TRUE(code.ok()) << "the harness did not stop after SIGINT";
  EXPECT_EQ(*code, 130) << testing::Slurp(err);
  EXPECT_EQ(Mounts().find("sandwatch-run-"), std::string::npos) << "a mount was left behind";
  auto list = r->Run(Cmd({"runc", "list", "-q"}));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->out.find("sw-" + std::to_string(pid) + "-"), std::string::npos) << list->out;
  // Partial results are still written.
  EXPECT_TRUE(fs::exists(out + "/summary.json"));
  fs::remove_all(out);
  fs::remove(err);
}

}  // namespace
}  // namespace sandwatch::harness
