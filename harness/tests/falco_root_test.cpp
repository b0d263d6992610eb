// Real Falco (started by the harness) against the blog chain in a runc pod: every alert of
// Falco's own file output is attributed to a step or explained. Label `root`: skips with
// the reason when root, runc, debootstrap, BTF or falco (in PATH) is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lab_test_util.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

using nlohmann::json;

std::string Missing(CommandRunner& r) {
  if (geteuid() != 0) return "not root (Falco's eBPF probe and runc need root)";
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
    return "no /sys/kernel/btf/vmlinux (Falco's modern eBPF engine needs BTF)";
  for (const char* t : {"runc", "debootstrap", "falco"}) {
    if (r.Which(t).empty()) return std::string(t) + " is not in PATH";
  }
  return "";
}

TEST(FalcoRoot, RealFalcoInARuncPodEveryAlertAttributedOrExplained) {
  auto runner = MakeProcessRunner();
  if (auto why = Missing(*runner); !why.empty()) GTEST_SKIP() << why;
  const std::string out_dir = testing::TempOut("falco-runc");
  auto out = testing::RunForReal(testing::SourceDir() + "/scenarios/falco-runc-ci.yaml", out_dir);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->all_cells_ok) << out->table;

  // Falco ran, was stopped, and left its log, counts and file output in the results folder.
  for (const char* f : {"falco.log", "falco-rule-counts.json", "falco-events.jsonl",
                        "falco-alerts.json", "observer-cost.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out_dir + "/" + f)) << f;
  }
  auto env = json::parse(testing::Slurp(out_dir + "/environment.json"));
  EXPECT_NE(env.value("falco_version", "").find("0."), std::string::npos) << env.dump();
  EXPECT_FALSE(env.value("falco_rules_release", "").empty());

  std::istringstream lines(testing::Slurp(out_dir + "/falco-events.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) n += line.empty() ? 0 : 1;
  ASSERT_GT(n, 0) << "Falco wrote no alert at all";
  auto acc = json::parse(testing::Slurp(out_dir + "/falco-alerts.json"));
  EXPECT_EQ(acc["alerts"].get<int>(), n);
  int credited = 0;
  for (const auto& a : acc["accounts"]) {
    std::string outcome = a["outcome"];
    EXPECT_TRUE(outcome == "attributed" || outcome == "noise" || outcome == "unattributable");
    EXPECT_FALSE(a["reason"].get<std::string>().empty()) << a.dump();
    if (outcome == "attributed") {
      EXPECT_FALSE(a["step"].get<std::string>().empty()) << a.dump();
    }
    credited += a["credited"].get<bool>() ? 1 : 0;
  }
  EXPECT_GT(credited, 0) << acc.dump(1);

  // Every behaviour Falco's stock rules fired on in the pod is credited to the falco column.
  auto summary = json::parse(testing::Slurp(out_dir + "/summary.json"));
  std::string missed = testing::MissedSignals(summary, "runc", "falco");
  for (const char* sig : {"shadow_file_access", "aws_credential_discovery",
                          "package_manager_execution", "nc_execution"}) {
    EXPECT_EQ(missed.find(sig), std::string::npos) << sig << "\n" << out->table;
  }
  // A failed run keeps its folder so the alerts can be read; a passing one leaves nothing.
  if (HasFailure()) {
    std::cerr << "kept for inspection: " << out_dir << "\n";
  } else {
    std::filesystem::remove_all(out_dir);
  }
}

}  // namespace
}  // namespace sandwatch::harness
