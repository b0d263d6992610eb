// `sandwatch-harness tune` as a user runs it: the answer from a stored sweep,
// --json, bad flags (exit 2 naming the flag), no sweep (exit 1), --render.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "fixture_cells.h"
#include "sandwatch/harness/tune/cell.h"

extern "C" char** environ;

namespace sandwatch::harness::tune {
namespace {

struct Ran {
  int code = -1;
  std::string out;  // stdout and stderr
};

std::string Harness() {
  const char* bin = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(bin ? bin : "build/bin") + "/sandwatch-harness";
}

Ran RunHarness(const std::string& args) {
  Ran r;
  FILE* p = popen((Harness() + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class TuneCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(Harness().c_str(), X_OK) != 0)
      GTEST_SKIP() << "no sandwatch-harness at " << Harness();
    std::string tmpl = "/tmp/sw-tune-cli-XXXXXX";
    root_ = mkdtemp(tmpl.data());
    dir_ = root_ + "/results/poll-sweep-2026-01-01";
    std::filesystem::create_directories(dir_);
    auto cells =
        testing::ModelPollSweep({0.1, 0.25, 0.5, 1, 2, 5}, {1, 10, 100, 500, 1000, 2000, 5000});
    for (double p : {0.5, 2.0})
      cells.push_back(testing::MakeCell("netlink", p, 10, 100, 100, 0.002));
    ASSERT_TRUE(AppendCells(dir_ + "/cells.jsonl", cells).ok());
  }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  std::string root_;
  std::string dir_;
};

TEST_F(TuneCli, RecommendsAnIntervalWhoseMissBoundMeetsTheTarget) {
  const Ran r =
      RunHarness("tune " + dir_ + " --target-miss 0.05 --min-lifetime-ms 500 --cpu-budget 0.01");
  EXPECT_EQ(r.code, 0) << r.out;
  // The target is met by the Wilson upper bound of the measured miss, not the point estimate.
  EXPECT_NE(r.out.find("POLL_INTERVAL=0.5 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("95% upper bound"), std::string::npos) << r.out;
}

TEST_F(TuneCli, JsonForScripts) {
  const Ran r = RunHarness("tune " + dir_ + " --target-miss 0.05 --min-lifetime-ms 10 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.at("poll_interval_s").is_null());
  EXPECT_EQ(j.at("capture"), "netlink");
  EXPECT_EQ(j.at("basis").at("folder"), "results/poll-sweep-2026-01-01");
  EXPECT_TRUE(j.contains("expected_miss"));
  EXPECT_TRUE(j.contains("cpu_fraction"));
}

TEST_F(TuneCli, NewestSweepUnderResultsDir) {
  const Ran r = RunHarness("tune --results-dir " + root_ + "/results --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("capture"), "poll");
}

TEST_F(TuneCli, BadFlagsExit2NamingTheFlag) {
  Ran r = RunHarness("tune " + dir_ + " --target-miss 1.5");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--target-miss"), std::string::npos) << r.out;
  r = RunHarness("tune " + dir_ + " --cpu-budget abc");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--cpu-budget"), std::string::npos) << r.out;
  r = RunHarness("tune --sweep --captures ebpf");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST_F(TuneCli, NoSweepIsExit1) {
  const Ran r = RunHarness("tune --results-dir " + root_ + "/nothing-here");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("tune --sweep"), std::string::npos) << r.out;
}

TEST_F(TuneCli, RenderAndReportWriteTheReports) {
  Ran r = RunHarness("tune --render " + dir_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/report.html"));
  std::filesystem::remove(dir_ + "/report.md");
  r = RunHarness("report " + dir_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/report.md"));
}

TEST_F(TuneCli, HelpTeaches) {
  const Ran r = RunHarness("tune --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--target-miss 0.05 --min-lifetime-ms 500"), std::string::npos);
}

size_t Lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) n += line.empty() ? 0 : 1;
  return n;
}

// Ctrl-C after the first of two pairs, then a rerun with the same --out measures only
// the second one.
TEST_F(TuneCli, InterruptedSweepResumes) {
  const char* bin = std::getenv("SANDWATCH_BIN_DIR");
  const std::string sensor = std::string(bin ? bin : "build/bin") + "/sandwatch-sensor";
  if (access(sensor.c_str(), X_OK) != 0) GTEST_SKIP() << "no sandwatch-sensor";
  const std::string out = root_ + "/results/poll-sweep-resume";
  const std::string args =
      "tune --sweep --quiet --out " + out +
      " --captures poll --vantages privileged --binaries static --intervals 0.5,1 --lifetimes "
      "10,1000 --trials 5 --window-s 1";
  std::vector<std::string> argv = {Harness(),     "tune",       "--sweep",     "--quiet",
                                   "--out",       out,          "--captures",  "poll",
                                   "--vantages",  "privileged", "--binaries",  "static",
                                   "--intervals", "0.5,1",      "--lifetimes", "10,1000",
                                   "--trials",    "5",          "--window-s",  "1"};
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, Harness().c_str(), nullptr, nullptr, cargv.data(), environ), 0);
  // Wait for the first pair's cells (2 lifetimes), then interrupt.
  for (int i = 0; i < 600 && Lines(out + "/cells.jsonl") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  const size_t after_first = Lines(out + "/cells.jsonl");
  ASSERT_GE(after_first, 2u);
  if (after_first == 4u) GTEST_SKIP() << "the second pair finished before the interrupt landed";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
  const Ran r = RunHarness(args + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 pairs measured, 1 resumed"), std::string::npos) << r.out;
  EXPECT_EQ(Lines(out + "/cells.jsonl"), 4u);
}

}  // namespace
}  // namespace sandwatch::harness::tune
