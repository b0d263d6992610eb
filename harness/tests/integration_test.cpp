// blog-demo (the short CI variant) on the `host` runtime, end to end: the real receiver,
// sensors and attack-sim from SANDWATCH_BIN_DIR, real processes, loopback only.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lab_test_util.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;
using testing::MissedSignals;

TEST(HarnessIntegration, BlogDemoOnTheHostRuntime) {
  const std::string out_dir = testing::TempOut("host");
  auto out =
      testing::RunForReal(testing::SourceDir() + "/scenarios/blog-demo-ci.yaml", out_dir, {"host"});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->all_cells_ok) << out->table;
  for (const char* f :
       {"summary.json", "report.md", "report.html", "events.jsonl", "ground-truth.jsonl",
        "environment.json", "cells.json", "coverage.svg", "latency.svg"}) {
    EXPECT_TRUE(fs::exists(out_dir + "/" + f)) << f;
  }
  auto summary = nlohmann::json::parse(testing::Slurp(out_dir + "/summary.json"));
  EXPECT_EQ(summary["scenario"], "blog-demo-ci");
  EXPECT_EQ(MissedSignals(summary, "host", "in-guest"), "") << out->table;
  EXPECT_EQ(MissedSignals(summary, "host", "host-view"), "") << out->table;
  // environment.json records what capture the observers really used.
  auto env = nlohmann::json::parse(testing::Slurp(out_dir + "/environment.json"));
  EXPECT_FALSE(env.value("host_view_capture_active", "").empty());
  // Both sensors spoke through their own credentials (the signals above arrived that way).
  EXPECT_EQ(env.value("receiver_auth", ""), "per-sensor credentials (--sensor-tokens)");
  // blog-demo-ci lists no falco observer, so no Falco is started (or faked).
  EXPECT_EQ(env.value("falco", ""), "not in this scenario's observers");
  // `harness report` re-renders the same summary from the stored data.
  std::string before = testing::Slurp(out_dir + "/summary.json");
  ASSERT_TRUE(RerenderReport(out_dir).ok());
  EXPECT_EQ(before, testing::Slurp(out_dir + "/summary.json"));
  fs::remove_all(out_dir);
}

TEST(HarnessIntegration, BadScenarioExitsTwoNamingTheKey) {
  std::string dir = testing::TempOut("bad");
  fs::create_directories(dir);
  std::string path = dir + "/bad.yaml";
  {
    std::ofstream f(path);
    f << "name: bad\nruntimes: [host]\nobservers: [in-guest]\nsensor: {poll_interval: soon}\n";
  }
  auto r = MakeProcessRunner();
  auto res =
      r->Run(Cmd({testing::BinDir() + "/sandwatch-harness", "run", path, "--out", dir + "/o"}));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 2);
  EXPECT_NE(res->err.find("sensor.poll_interval"), std::string::npos) << res->err;
  res = r->Run(Cmd({testing::BinDir() + "/sandwatch-harness", "run", path, "--backend", "nope"}));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 2);
  res = r->Run(Cmd({testing::BinDir() + "/sandwatch-harness", "--version"}));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 0);
  EXPECT_NE(res->out.find("sandwatch-harness"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sandwatch::harness

namespace sandwatch::harness {
namespace {

TEST(HarnessIntegration, LabScriptsPassShellcheck) {
  auto r = MakeProcessRunner();
  if (r->Which("shellcheck").empty()) GTEST_SKIP() << "shellcheck is not installed";
  std::string lab = testing::SourceDir() + "/harness/lab/";
  auto res =
      r->Run(Cmd({"shellcheck", lab + "build-rootfs.sh", lab + "fetch-kernel.sh", lab + "pod.sh",
                  lab + "guest-init.sh", testing::SourceDir() + "/scripts/demo"}));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 0) << res->out;
}

}  // namespace
}  // namespace sandwatch::harness
