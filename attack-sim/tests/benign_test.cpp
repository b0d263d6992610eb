// Benign steps as real processes on this machine: each one that can run here runs to
// completion with a clean exit, its ground truth says kind benign and the signal it
// resembles, and the scratch directory is removed afterwards.
#include "sandwatch/attack_sim/benign.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>

#include "sandwatch/attack_sim/options.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::attacksim {
namespace {

namespace fs = std::filesystem;

TEST(Benign, EveryStepRunsForRealOrSaysWhyNot) {
  fs::path dir = fs::temp_directory_path() / ("sw-benign-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  {
    BenignPlayer player("run-1", "fast", dir.string(), SystemClock());
    ASSERT_TRUE(player.Prepare().ok());
    for (const auto& info : BenignSteps()) {
      GroundTruthStep g = player.Run(2, info.name);
      EXPECT_EQ(g.kind, "benign");
      EXPECT_EQ(g.step, info.name);
      EXPECT_EQ(g.repeat, 2);
      EXPECT_EQ(g.signal, info.resembles);
      EXPECT_FALSE(g.command.empty()) << info.name;
      if (!FindOnPath(info.tool).ok()) {
        EXPECT_EQ(g.status, "skipped") << info.name;
        EXPECT_NE(g.note.find("not installed"), std::string::npos) << g.note;
        continue;
      }
      EXPECT_EQ(g.status, "ran") << info.name << ": " << g.note;
      EXPECT_GT(g.pid, 0) << info.name;
      EXPECT_GE(g.end_wall_ns, g.start_wall_ns) << info.name;
      // pip needs setuptools beside it; every other step must exit cleanly.
      if (info.name != "pip-local") {
        EXPECT_EQ(g.exit_code, 0) << info.name << ": " << g.note;
      }
    }
    GroundTruthStep unknown = player.Run(0, "nope");
    EXPECT_EQ(unknown.status, "skipped");
    // Round robin: the catalogue's first step comes first.
    EXPECT_EQ(player.RunNext(0).step, BenignSteps().front().name);
  }
  // The player removed its scratch directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 0);
  fs::remove_all(dir);
}

TEST(Benign, ChainFlagsAreValidated) {
  RunOptions o;
  o.chain = "benign";
  o.benign_duration_s = 30;
  o.benign_rate_per_min = 12;
  auto c = ResolveRun(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->chain, "benign");
  EXPECT_EQ(c->benign_rate_per_min, 12);
  o.mix_benign = true;
  EXPECT_NE(ResolveRun(o).error().message.find("--mix-benign"), std::string::npos);
  o.mix_benign = false;
  o.benign_rate_per_min = 0;
  EXPECT_NE(ResolveRun(o).error().message.find("--benign-rate-per-min"), std::string::npos);
  o.chain = "nope";
  EXPECT_NE(ResolveRun(o).error().message.find("--chain"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::attacksim
