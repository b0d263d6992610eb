#include "sandwatch/sensor/spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sandwatch::sensor {
namespace {

std::string TempDir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/sw-spool-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  return d;
}

size_t SegmentCount(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") ++n;
  }
  return n;
}

TEST(MemoryQueue, BoundedInOrderAndCountsDrops) {
  MemoryQueue q(30);
  EXPECT_TRUE(q.Append("aaaaaaaaa"));  // 10 bytes with newline
  EXPECT_TRUE(q.Append("bbbbbbbbb"));
  EXPECT_TRUE(q.Append("ccccccccc"));
  EXPECT_FALSE(q.Append("d"));
  EXPECT_EQ(q.Dropped(), 1u);
  auto p = q.Peek(2, 1000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "aaaaaaaaa");
  ASSERT_TRUE(q.Commit(2).ok());
  EXPECT_EQ(q.PendingRecords(), 1u);
  EXPECT_TRUE(q.Append("d"));
  p = q.Peek(10, 1000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1], "d");
}

TEST(Spool, SurvivesRestartAndDeliversInOrder) {
  std::string dir = TempDir("restart");
  {
    auto s = Spool::Open(dir, 1 << 20, 64);  // tiny segments: rolls often
    ASSERT_TRUE(s.ok()) << s.error().message;
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*s)->Append("{\"seq\":" + std::to_string(i) + "}"));
    EXPECT_GT(SegmentCount(dir), 1u);
    auto p = (*s)->Peek(4, 1 << 20);
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p[3], "{\"seq\":4}");
    ASSERT_TRUE((*s)->Commit(4).ok());
    EXPECT_EQ((*s)->PendingRecords(), 6u);
  }
  auto s = Spool::Open(dir, 1 << 20, 64);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->PendingRecords(), 6u);
  ASSERT_TRUE((*s)->Append("{\"seq\":11}"));
  std::vector<std::string> all;
  for (;;) {
    auto p = (*s)->Peek(3, 1 << 20);
    if (p.empty()) break;
    all.insert(all.end(), p.begin(), p.end());
    ASSERT_TRUE((*s)->Commit(p.size()).ok());
  }
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i], "{\"seq\":" + std::to_string(i + 5) + "}");
  EXPECT_EQ((*s)->PendingBytes(), 0u);
  EXPECT_LE(SegmentCount(dir), 1u);  // delivered segments are deleted
  std::filesystem::remove_all(dir);
}

TEST(Spool, FullSpoolDropsNewRecordsAndCountsThem) {
  std::string dir = TempDir("full");
  auto s = Spool::Open(dir, 100);
  ASSERT_TRUE(s.ok());
  int accepted = 0;
  for (int i = 0; i < 20; ++i)
    accepted += (*s)->Append("0123456789abcdefghi") ? 1 : 0;  // 20 B each
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ((*s)->Dropped(), 15u);
  EXPECT_EQ((*s)->PendingBytes(), 100u);
  // Delivering makes room again.
  auto p = (*s)->Peek(2, 1000);
  ASSERT_TRUE((*s)->Commit(p.size()).ok());
  EXPECT_TRUE((*s)->Append("again"));
  std::filesystem::remove_all(dir);
}

TEST(Spool, TornLastRecordIsCutAtOpen) {
  std::string dir = TempDir("torn");
  {
    auto s = Spool::Open(dir, 1 << 20);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append("{\"seq\":1}"));
  }
  // A crash in the middle of the next append.
  std::string seg;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") seg = e.path();
  }
  std::ofstream(seg, std::ios::app) << R"({"seq":2, "trunc)";
  auto s = Spool::Open(dir, 1 << 20);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->PendingRecords(), 1u);
  ASSERT_TRUE((*s)->Append("{\"seq\":2}"));
  auto p = (*s)->Peek(10, 1 << 20);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1], "{\"seq\":2}");
  std::filesystem::remove_all(dir);
}

TEST(Spool, UnwritableDirIsAnError) {
  auto s = Spool::Open("/proc/sandwatch-no-such/spool", 1 << 20);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace sandwatch::sensor
