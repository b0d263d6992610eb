// Pure logic of the capture layer: scan coalescing, --capture planning, the
// early read on a fixture proc tree, self facts, path helpers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "capture_plan.h"
#include "early_read.h"
#include "inotify_decode.h"
#include "poll_source.h"
#include "sandwatch/sensor/capture_factory.h"
#include "self_facts.h"
#include "sharded_workers.h"
#include "source_util.h"
#include "watch_paths.h"

namespace sandwatch::sensor {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(ScanCoalescer, FirstEventScansAtOnceStormBecomesHandful) {
  ScanCoalescer c(5 * kMs);
  EXPECT_TRUE(c.OnEvent(100 * kMs));
  // 10,000 events within 20 ms: only the timer fires, at most once per gap.
  int scans = 1;
  for (int i = 0; i < 10000; ++i) {
    int64_t now = 100 * kMs + int64_t{i} * 2000;  // every 2 us
    if (c.OnEvent(now)) ++scans;
    if (c.OnTimer(now)) ++scans;
  }
  EXPECT_EQ(c.events(), 10001);
  EXPECT_EQ(c.scans(), scans);
  EXPECT_LE(scans, 6);         // 20 ms / 5 ms gap, plus the first
  EXPECT_GE(c.Deadline(), 0);  // the tail of the storm is still owed a scan
  EXPECT_TRUE(c.OnTimer(c.Deadline()));
  EXPECT_EQ(c.Deadline(), -1);
}

TEST(ScanCoalescer, DelayedEventIsPulledInByAnImmediateOne) {
  ScanCoalescer c(5 * kMs);
  EXPECT_FALSE(c.OnEvent(0, 1 * kMs));  // binary dir open: exec not finished yet
  EXPECT_EQ(c.Deadline(), 1 * kMs);
  EXPECT_TRUE(c.OnEvent(200'000));  // ld.so.cache open 0.2 ms later: scan now
  EXPECT_EQ(c.Deadline(), -1);
  EXPECT_FALSE(c.OnTimer(1 * kMs));
  EXPECT_EQ(c.scans(), 1);
}

TEST(ScanCoalescer, DelayedEventFiresOnTimer) {
  ScanCoalescer c(5 * kMs);
  EXPECT_FALSE(c.OnEvent(0, 1 * kMs));
  EXPECT_FALSE(c.OnTimer(kMs / 2));
  EXPECT_TRUE(c.OnTimer(1 * kMs));
  EXPECT_EQ(c.scans(), 1);
}

TEST(ScanCoalescer, UrgentEventUsesItsOwnGap) {
  ScanCoalescer c(5 * kMs);
  EXPECT_TRUE(c.OnEvent(0));                     // ld.so.cache: scan
  EXPECT_FALSE(c.OnEvent(kMs / 4, 0, kMs / 2));  // /etc/shadow 0.25 ms later: due at 0.5 ms
  EXPECT_EQ(c.Deadline(), kMs / 2);
  EXPECT_TRUE(c.OnEvent(kMs, 0, kMs / 2));  // past its gap: at once
  EXPECT_FALSE(c.OnEvent(kMs + 1));         // ordinary event: back to the 5 ms gap
  EXPECT_EQ(c.Deadline(), 6 * kMs);
}

TEST(ShardedWorkers, SameKeyRunsInOrderAndStopDrains) {
  std::mutex mu;
  std::map<int, std::vector<int>> seen;  // key -> task sequence numbers
  {
    ShardedWorkers workers(3, EventThreadPriority{0, false}, 1000);
    workers.Start();
    for (int i = 0; i < 300; ++i) {
      const int key = i % 7;
      ASSERT_TRUE(workers.Submit(key, [&, key, i] {
        std::lock_guard<std::mutex> lock(mu);
        seen[key].push_back(i);
      }));
    }
    workers.Stop();  // runs everything queued
    EXPECT_FALSE(workers.Submit(1, [] {}));
  }
  int total = 0;
  for (const auto& [key, seq] : seen) {
    EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end())) << "key " << key;
    total += static_cast<int>(seq.size());
  }
  EXPECT_EQ(total, 300);
}

TEST(ShardedWorkers, FullShardRefuses) {
  ShardedWorkers workers(1, EventThreadPriority{0, false}, 2);  // not started: nothing drains
  EXPECT_TRUE(workers.Submit(5, [] {}));
  EXPECT_TRUE(workers.Submit(6, [] {}));
  EXPECT_FALSE(workers.Submit(7, [] {}));
  workers.Start();
  workers.Stop();
}

TEST(CapturePlan, ParsesCombosInCanonicalOrder) {
  auto list = ParseCaptureList("inotify+fanotify+inotify");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"fanotify", "inotify"}));
  EXPECT_EQ(ParseCaptureList("auto")->at(0), "auto");
  auto bad = ParseCaptureList("netlink+ebpf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("--capture"), std::string::npos)
      << "the caller names the flag";
  EXPECT_NE(bad.error().message.find("\"ebpf\""), std::string::npos);
  EXPECT_NE(bad.error().message.find("fanotify+inotify"), std::string::npos);
  EXPECT_FALSE(ParseCaptureList("").ok());
  EXPECT_TRUE(ValidateCaptureValue("netlink+fanotify").ok());
  EXPECT_TRUE(ValidateCaptureValue("auto").ok());
  EXPECT_FALSE(ValidateCaptureValue("fanotify+").ok());
  EXPECT_FALSE(ParseCaptureList("auto+poll").ok());
}

// A canned probe: `allowed` lists what may run.
ProbeFn Allow(const std::vector<std::string>& allowed) {
  return [allowed](const std::string& name, bool) -> Status {
    for (const auto& a : allowed) {
      if (a == name) return OkStatus();
    }
    return MakeError(name + " refused: canned");
  };
}

TEST(CapturePlan, AutoInNodeModePrefersNetlinkWithFanotifyForFiles) {
  auto plan = PlanCapture("auto", "node", 2, Allow({"netlink", "fanotify", "inotify"}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "netlink+fanotify");
  EXPECT_TRUE(plan->fanotify_files_only);
  EXPECT_EQ(plan->why.find('\n'), std::string::npos);
}

TEST(CapturePlan, AutoInPrivatePidNamespaceFallsBack) {
  auto plan = PlanCapture("auto", "node", 2, Allow({"fanotify", "inotify"}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "fanotify");
  EXPECT_FALSE(plan->fanotify_files_only);
  EXPECT_NE(plan->why.find("netlink refused"), std::string::npos);
  plan = PlanCapture("auto", "sidecar", 2, Allow({"inotify"}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "inotify");
  EXPECT_NE(plan->why.find("fanotify refused"), std::string::npos);
  EXPECT_NE(plan->why.find("netlink skipped: mode=sidecar"), std::string::npos);
  plan = PlanCapture("auto", "kata", 0.5, Allow({}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "poll");
  EXPECT_NE(plan->why.find("poll every 0.5s"), std::string::npos);
}

TEST(CapturePlan, KataModeNeverPicksNetlink) {
  auto plan = PlanCapture("auto", "kata", 2, Allow({"netlink", "fanotify", "inotify"}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "fanotify");
}

TEST(CapturePlan, ExplicitSourceThatCannotRunIsAnError) {
  auto plan = PlanCapture("netlink", "sidecar", 2, Allow({"inotify"}));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message, "netlink refused: canned");
  plan = PlanCapture("fanotify+inotify", "kata", 2, Allow({"fanotify", "inotify"}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "fanotify+inotify");
  EXPECT_FALSE(plan->fanotify_files_only);
  plan = PlanCapture("poll", "kata", 2, Allow({}));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->active, "poll");
  EXPECT_TRUE(plan->sources.empty());
}

TEST(SelfFacts, ParsesCapsAndNspid) {
  SelfFacts f;
  ParseStatusFacts("Name:\tx\nNSpid:\t4242\t1\nCapEff:\t000001ffffffffff\n", &f);
  EXPECT_EQ(f.nspid_levels, 2);
  EXPECT_TRUE(f.HasCap(kCapSysAdmin));
  EXPECT_TRUE(f.HasCap(kCapNetAdmin));
  EXPECT_FALSE(f.InInitPidNs());  // ns inode unknown: NSpid decides
  f.pid_ns_ino = kInitPidNsIno;   // the inode wins: NSpid undercounts after --mount-proc
  EXPECT_TRUE(f.InInitPidNs());
  SelfFacts g;
  ParseStatusFacts("NSpid:\t1\nCapEff:\t0000000000001000\n", &g);
  EXPECT_TRUE(g.HasCap(kCapNetAdmin));
  EXPECT_FALSE(g.HasCap(kCapSysAdmin));
  g.pid_ns_ino = 4026532290;
  EXPECT_FALSE(g.InInitPidNs());
}

class FixtureProc : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/capture_fixture_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/321");
    std::ofstream(root_ + "/321/cmdline") << std::string("nc\0-e\0/bin/sh\0", 14);
    std::ofstream(root_ + "/321/stat")
        << "321 (nc) S 9 321 321 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 1 2\n";
    std::filesystem::create_symlink("/usr/bin/nc.traditional (deleted)", root_ + "/321/exe");
    std::filesystem::create_directories(root_ + "/322");  // gone half-way: only stat
    std::ofstream(root_ + "/322/stat") << "322 (x) Z 9 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n";
    std::filesystem::create_directories(root_ + "/323");  // a comm chosen to confuse parsers
    std::ofstream(root_ + "/323/cmdline") << std::string("sh\0", 3);
    std::ofstream(root_ + "/323/stat")
        << "323 (a) b (c)) S 12 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 555 1 2\n";
    std::filesystem::create_symlink("/bin/sh", root_ + "/323/exe");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(FixtureProc, EarlyReadFromInjectedRoot) {
  int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EarlyRead er = ReadEarly(fd, 321);
  EXPECT_TRUE(er.complete);
  EXPECT_EQ(er.cmdline, (std::vector<std::string>{"nc", "-e", "/bin/sh"}));
  EXPECT_EQ(er.exe, "/usr/bin/nc.traditional");
  EXPECT_EQ(er.ppid, 9);
  EXPECT_EQ(er.start_ticks, 4242U);
  EarlyRead gone = ReadEarly(fd, 322);
  EXPECT_FALSE(gone.complete);
  EXPECT_TRUE(gone.cmdline.empty());
  EXPECT_EQ(gone.ppid, 9);  // what was readable is kept
  EXPECT_FALSE(ReadEarly(fd, 999).complete);
  EarlyRead hostile = ReadEarly(fd, 323);
  EXPECT_TRUE(hostile.complete);
  EXPECT_EQ(hostile.name, "a) b (c)");
  EXPECT_EQ(hostile.ppid, 12);
  EXPECT_EQ(hostile.start_ticks, 555U);
  close(fd);
}

TEST_F(FixtureProc, ExistingUnderRootExpandsHomes) {
  std::filesystem::create_directories(root_ + "/etc");
  std::filesystem::create_directories(root_ + "/home/alice/.aws");
  std::filesystem::create_directories(root_ + "/root/.aws");
  std::ofstream(root_ + "/etc/shadow") << "x";
  std::ofstream(root_ + "/home/alice/.aws/credentials") << "x";
  std::ofstream(root_ + "/root/.aws/credentials") << "x";
  auto found = ExistingUnderRoot(root_, DefaultSensitivePatterns());
  EXPECT_EQ(found, (std::vector<std::string>{"/etc/shadow", "/home/alice/.aws/credentials",
                                             "/root/.aws/credentials"}));
}

TEST_F(FixtureProc, CredentialHomesComeFromPasswdAndTheWorkloadEnvironment) {
  std::filesystem::create_directories(root_ + "/etc");
  std::ofstream(root_ + "/etc/passwd") << "root:x:0:0:root:/root:/bin/bash\n"
                                          "app:x:1000:1000::/srv/app:/bin/sh\n"
                                          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                          "nobody:x:65534:65534::/nonexistent:/bin/false\n";
  for (const char* home : {"/srv/app", "/data/home", "/usr/sbin"}) {
    std::filesystem::create_directories(root_ + home + "/.aws");
    std::ofstream(root_ + home + "/.aws/credentials") << "x";
  }
  // /srv/app from passwd, /data/home from a process's HOME; /usr/sbin is a system dir.
  auto found = ExistingUnderRoot(root_, {"~/.aws/credentials"}, {"/data/home/"});
  EXPECT_EQ(found,
            (std::vector<std::string>{"/data/home/.aws/credentials", "/srv/app/.aws/credentials"}));
  // HOME values in the environment of the processes under a proc root.
  std::ofstream(root_ + "/321/environ") << std::string("PATH=/bin\0HOME=/data/home\0", 26);
  EXPECT_EQ(WorkloadHomes(procfs::ProcFs(root_)), std::vector<std::string>{"/data/home"});
}

TEST(PathHelpers, UnderAndRelativeToRoot) {
  EXPECT_EQ(UnderRoot("/", "/etc/shadow"), "/etc/shadow");
  EXPECT_EQ(UnderRoot("/proc/7/root/", "/etc/shadow"), "/proc/7/root/etc/shadow");
  EXPECT_EQ(RelativeToRoot("/var/lib/c1/rootfs", "/var/lib/c1/rootfs/usr/bin/cat"), "/usr/bin/cat");
  EXPECT_EQ(RelativeToRoot("/var/lib/c1/rootfs", "/var/lib/c1/rootfsX/cat"),
            "/var/lib/c1/rootfsX/cat");
  EXPECT_EQ(RelativeToRoot("/", "/usr/bin/cat"), "/usr/bin/cat");
  EXPECT_EQ(RelativeToRoot("/srv/r", "/srv/r"), "/");
}

// The injected clock stamps each poll tick; the real thread pushes to a real sink.
TEST(PollSource, TicksCarryTheInjectedClocksTime) {
  struct Sink : ObservationSink {
    void Push(Observation obs) override {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(std::move(obs));
      cv.notify_all();
    }
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Observation> got;
  } sink;
  ManualClock clock(1'800'000'000'000'000'000, 77 * kMs);
  PollSource poll(3600, &clock);  // one tick at Start, the next an hour later
  ASSERT_TRUE(poll.Start(&sink).ok());
  {
    std::unique_lock<std::mutex> lock(sink.mu);
    sink.cv.wait(lock, [&] { return !sink.got.empty(); });
  }
  poll.Stop();
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].kind, Observation::Kind::kScan);
  EXPECT_EQ(sink.got[0].method, "poll");
  EXPECT_EQ(sink.got[0].kernel_mono_ns, 77 * kMs);
}

}  // namespace
}  // namespace sandwatch::sensor
