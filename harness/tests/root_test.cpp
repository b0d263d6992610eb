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
#include <thread>

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

nlohmann::json RunCell(const std::string& runtime, const std::string& tag) {
  const std::string out_dir = testing::TempOut(tag);
  auto out = testing::RunBlogDemoCi({runtime}, out_dir);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  if (!out.ok()) return {};
  EXPECT_TRUE(out->all_cells_ok) << out->table;
  auto summary = nlohmann::json::parse(testing::Slurp(out_dir + "/summary.json"));
  summary["_table"] = out->table;
  summary["_dir"] = out_dir;
  return summary;
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
  auto s = RunCell("runc", "runc");
  ASSERT_FALSE(s.empty());
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
  auto s = RunCell("kata-qemu", "vm");
  ASSERT_FALSE(s.empty());
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
