// Integration: the calling thread's schedstat, thread names and nice values, on real
// threads of this test process.
#include "sandwatch/core/procfs/thread_sched.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sandwatch::procfs {
namespace {

TEST(ParseSchedstat, ReadsRunAndWait) {
  auto t = ParseSchedstat("244791496 161371145 1364\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->run_ns, 244791496);
  EXPECT_EQ(t->wait_ns, 161371145);
  EXPECT_FALSE(ParseSchedstat("").has_value());
  EXPECT_FALSE(ParseSchedstat("12").has_value());
  EXPECT_FALSE(ParseSchedstat("x 1 2").has_value());
  EXPECT_FALSE(ParseSchedstat("-5 1 2").has_value());
}

TEST(ThreadSchedClock, RunTimeGrowsWithWork) {
  ThreadSchedClock clock;
  auto before = clock.Read();
  if (!before) GTEST_SKIP() << "this kernel keeps no /proc/thread-self/schedstat figures";
  // Burn CPU until the kernel has charged this thread for some of it (no time limit: the
  // loop ends when the figure moves, however busy the machine is).
  volatile uint64_t sink = 0;
  std::optional<SchedTimes> after;
  do {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + static_cast<uint64_t>(i);
    after = clock.Read();
    ASSERT_TRUE(after.has_value());
  } while (after->run_ns == before->run_ns);
  EXPECT_GT(after->run_ns, before->run_ns);
  EXPECT_GE(after->wait_ns, before->wait_ns);
}

TEST(ThreadSched, FindsANamedThreadAndRaisesItsNice) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int tid = 0;
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(mu);
    tid = static_cast<int>(gettid());
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
  });
  pthread_setname_np(t.native_handle(), "sw-sched-test");
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return tid != 0; });
  }
  auto named = ThreadsNamed("sw-sched-test");
  EXPECT_EQ(named, std::vector<int>{tid});
  EXPECT_TRUE(ThreadsNamed("sw-no-such-thread").empty());
  auto own = ThreadNice(0);
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(SetThreadNice(tid, std::min(*own + 3, 19)).ok());
  auto raised = ThreadNice(tid);
  ASSERT_TRUE(raised.ok());
  EXPECT_EQ(*raised, std::min(*own + 3, 19));
  ASSERT_TRUE(RaiseThreadNice(tid, 40).ok());  // capped at 19
  auto capped = ThreadNice(tid);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(*capped, 19);
  auto unchanged = ThreadNice(0);  // only that thread, not the process
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(*unchanged, *own);
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  t.join();
}

}  // namespace
}  // namespace sandwatch::procfs
