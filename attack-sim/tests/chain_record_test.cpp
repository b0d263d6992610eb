// Ground-truth records of a chain run, timed by a manual clock and written to a real file.
#include "sandwatch/attack_sim/chain_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace sandwatch::attacksim {
namespace {

TEST(ChainRecorder, SkippedRecordsTakeTheInjectedClockAndAreWrittenAndCounted) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sw-chain-record-" + std::to_string(::getpid()) + ".jsonl"))
                               .string();
  std::filesystem::remove(path);
  ChainConfig cfg;
  cfg.run_id = "run-7";
  cfg.speed = "fast";
  auto sink = TruthSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.error().message;
  ManualClock clock(1'800'000'000'000'000'000, 42'000'000'000);
  ChainRecorder rec(cfg, sink->get(), clock);

  GroundTruthStep skipped = rec.Base(0, "shadow", "cat");
  rec.MarkSkippedNow(&skipped, -1);
  AddNote(&skipped.note, "skipped: no shadow file");
  rec.Emit(skipped);

  clock.Advance(1'500'000'000);
  LaunchResult launch;
  launch.pid = 1234;
  launch.start_mono_ns = clock.MonoNs();
  launch.end_mono_ns = clock.MonoNs() + 250'000'000;
  launch.killed_at_hold = true;
  GroundTruthStep ran = rec.Base(0, "reverse-shell", "bash-tcp");
  ChainRecorder::Fill(&ran, launch);
  rec.Emit(ran);
  sink->reset();  // flush and close

  EXPECT_EQ(rec.ran(), 1);
  EXPECT_EQ(rec.skipped(), 1);
  EXPECT_FALSE(rec.failed());
  auto lines = ReadGroundTruthFile(path);
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_EQ(lines->size(), 2u);
  const GroundTruthStep& a = (*lines)[0];
  EXPECT_EQ(a.run_id, "run-7");
  EXPECT_EQ(a.speed, "fast");
  EXPECT_EQ(a.status, "skipped");
  EXPECT_EQ(a.exit_code, -1);
  EXPECT_EQ(a.start_wall_ns, 1'800'000'000'000'000'000);
  EXPECT_EQ(a.end_mono_ns, 42'000'000'000);
  EXPECT_EQ(a.note, "skipped: no shadow file");
  const GroundTruthStep& b = (*lines)[1];
  EXPECT_EQ(b.status, "ran");
  EXPECT_EQ(b.pid, 1234);
  EXPECT_DOUBLE_EQ(b.hold_ms, 250.0);
  EXPECT_EQ(b.note, "ended: killed after hold");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sandwatch::attacksim
