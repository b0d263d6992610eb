// The orchestrator with a backend written the way EXTENDING.md describes (as the kube
// backend is) and an injected runner: cells run in order, the scratch dir goes away, and
// a run whose events cannot be fetched still writes what it has.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_runner.h"
#include "lab_test_util.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;

// What the backend saw; owned by the test, since the orchestrator destroys the backend.
struct Recorded {
  std::string work_dir;
  std::vector<std::string> cells;
  bool finished = false;
};

class RecordingBackend : public Backend {
 public:
  explicit RecordingBackend(Recorded* rec) : rec_(rec) {}
  std::string_view Name() const override { return "recording"; }
  std::vector<DoctorCheck> Doctor(const std::vector<std::string>&) override { return {}; }
  Status Prepare(RunContext& ctx) override {
    rec_->work_dir = ctx.work_dir;
    std::ofstream(ctx.work_dir + "/scratch.txt") << "x";
    return OkStatus();
  }
  std::string ReceiverUrl() const override { return "http://127.0.0.1:1"; }  // nothing listens
  Result<CellOutcome> RunCell(RunContext&, const Cell& cell) override {
    rec_->cells.push_back(cell.Id());
    CellOutcome o;
    o.cell = cell;
    o.ok = true;
    return o;
  }
  std::map<std::string, std::string> Environment() override { return {{"backend", "recording"}}; }
  void Finish(RunContext&) override { rec_->finished = true; }

 private:
  Recorded* rec_;
};

TEST(Orchestrator, RunsCellsInOrderAndRemovesItsScratchDir) {
  testing::FakeRunner fake;
  Recorded rec;
  bool created = false;
  BackendRegistry reg;
  reg.Register("recording", [&rec, &created](CommandRunner&) {
    created = true;
    return std::make_unique<RecordingBackend>(&rec);
  });
  std::string dir = testing::TempOut("orchestrator");
  std::string scenario = dir + ".yaml";
  std::ofstream(scenario) << "kind: chain\nname: t\nruntimes: [runc, kata-qemu]\n"
                             "observers: [in-guest]\nspeeds: [blog, fast]\n";
  RunOptions o;
  o.scenario_path = scenario;
  o.backend = "recording";
  o.out_dir = dir;
  o.quiet = true;
  auto out = RunScenario(o, reg, fake, SystemClock());
  ASSERT_TRUE(created);
  // No receiver answered: the run says so, and still writes what it gathered.
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("fetching events"), std::string::npos) << out.error().message;
  EXPECT_EQ(rec.cells,
            (std::vector<std::string>{"runc-blog-default-r0", "runc-fast-default-r0",
                                      "kata-qemu-blog-default-r0", "kata-qemu-fast-default-r0"}));
  EXPECT_TRUE(rec.finished);
  EXPECT_FALSE(rec.work_dir.empty());
  EXPECT_FALSE(fs::exists(rec.work_dir)) << "scratch dir left behind";
  EXPECT_TRUE(fs::exists(dir + "/cells.json"));
  EXPECT_TRUE(fs::exists(dir + "/summary.json"));
  EXPECT_TRUE(fake.calls.empty()) << "the orchestrator itself runs no commands";
  fs::remove_all(dir);
  fs::remove(scenario);
}

// `kind:` picks the scenario kind; an unknown one is a usage error naming the known ones.
TEST(Orchestrator, DispatchesOnTheScenarioKind) {
  testing::FakeRunner fake;
  BackendRegistry none;
  RunOptions o;
  o.scenario_path = "inline.yaml";
  o.scenario_text = "kind: fuzz\nname: t\n";
  auto out = RunScenario(o, none, fake, SystemClock());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, 2);
  EXPECT_NE(out.error().message.find("known: chain, sweep"), std::string::npos)
      << out.error().message;

  // A sweep scenario reaches the sweep kind (which checks its sensor before running).
  o.out_dir = testing::TempOut("orchestrator-sweep");
  o.sensor_path = "/nonexistent/sandwatch-sensor";
  o.scenario_text = "kind: sweep\nname: t\nsweep: {captures: [poll]}\n";
  out = RunScenario(o, none, fake, SystemClock());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("sandwatch-sensor not found"), std::string::npos)
      << out.error().message;
  // A bad sweep section is a usage error, as a bad chain scenario is.
  o.scenario_text = "kind: sweep\nname: t\nsweep: {trails: 3}\n";
  out = RunScenario(o, none, fake, SystemClock());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, 2);
  // The chain kind refuses a sweep section.
  o.scenario_text = "kind: chain\nname: t\nruntimes: [host]\nobservers: [in-guest]\nsweep: {}\n";
  out = RunScenario(o, none, fake, SystemClock());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("sweep: unknown key"), std::string::npos)
      << out.error().message;
  EXPECT_TRUE(fake.calls.empty());
  fs::remove_all(o.out_dir);
}

// `report DIR` goes to the kind whose files DIR holds; a folder of neither kind gets
// the chain kind's error naming what is missing.
TEST(Orchestrator, ReportDispatchesOnTheFolder) {
  const std::string dir = testing::TempOut("orchestrator-report");
  fs::create_directories(dir);
  EXPECT_FALSE(SweepKind().WroteFolder(dir));
  EXPECT_FALSE(ChainKind().WroteFolder(dir));
  EXPECT_FALSE(RerenderReport(dir).ok());
  std::ofstream(dir + "/cells.jsonl") << "";
  EXPECT_TRUE(SweepKind().WroteFolder(dir));
  auto out = RerenderReport(dir);  // the sweep kind: an empty cells.jsonl has nothing to render
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("no cells to render"), std::string::npos)
      << out.error().message;
  std::ofstream(dir + "/events.jsonl") << "";
  EXPECT_FALSE(SweepKind().WroteFolder(dir));
  EXPECT_TRUE(ChainKind().WroteFolder(dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sandwatch::harness
