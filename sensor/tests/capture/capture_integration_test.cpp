// Capture sources against real processes on this machine. netlink runs in the
// host namespaces; inotify and fanotify run in the capture_selftest helper inside
// `unshare --pid --fork --mount-proc`, where the test also checks that netlink is
// refused and that `auto` falls back. Needs root; skips with the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capture_test_support.h"
#include "fanotify_source.h"
#include "inotify_source.h"
#include "netlink_source.h"
#include "sandwatch/sensor/capture_factory.h"
#include "self_facts.h"

namespace sandwatch::sensor {
namespace {

using nlohmann::json;

std::string Helper() {
  const char* dir = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(dir ? dir : ".") + "/capture_selftest";
}

std::vector<json> RunLines(const std::string& cmd) {
  std::vector<json> lines;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return lines;
  std::string text;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  pclose(p);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto j = json::parse(text.substr(pos, end - pos), nullptr, false);
    if (!j.is_discarded()) lines.push_back(j);
    pos = end + 1;
  }
  return lines;
}

#define SKIP_UNLESS_ROOT_WITH_UNSHARE()                                              \
  do {                                                                               \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)"; \
    if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "unshare(1) missing"; \
    if (access(Helper().c_str(), X_OK) != 0) GTEST_SKIP() << "no " << Helper();      \
  } while (0)

std::string InPrivatePidNs(const std::string& args) {
  return "/usr/bin/unshare --pid --fork --mount-proc " + Helper() + " " + args;
}

TEST(NetlinkHost, SeesEveryExecWithArgvAndExit) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN)";
  NetlinkSource source{NetlinkOptions{}};
  Status probe = source.Probe();
  if (!probe.ok()) GTEST_SKIP() << probe.error().message;
  testing::RecordingSink sink;
  ASSERT_TRUE(source.Start(&sink).ok());
  EXPECT_GE(source.rcvbuf_bytes(), 8 << 20);  // SO_RCVBUFFORCE took
  std::set<int> pids;
  for (int i = 0; i < 20; ++i) {
    int pid = testing::Spawn({"/usr/bin/sleep", "0.01"});
    ASSERT_GT(pid, 0);
    testing::WaitExit(pid);
    pids.insert(pid);
  }
  // Wait for the exit of the last child to come through (bounded, not timed).
  for (int i = 0; i < 200; ++i) {
    bool done = false;
    for (const auto& o : sink.Snapshot()) {
      done |= o.kind == Observation::Kind::kExit && o.pid == *pids.rbegin();
    }
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  source.Stop();
  std::set<int> execs, exits, with_argv;
  for (const auto& o : sink.Snapshot()) {
    if (!pids.count(o.pid)) continue;
    EXPECT_EQ(o.method, "netlink");
    if (o.kind == Observation::Kind::kExec) {
      execs.insert(o.pid);
      EXPECT_EQ(o.ppid, getpid());
      if (o.early && o.early->cmdline == std::vector<std::string>{"/usr/bin/sleep", "0.01"}) {
        with_argv.insert(o.pid);
        EXPECT_EQ(o.path, "/usr/bin/sleep");
      }
    }
    if (o.kind == Observation::Kind::kExit) exits.insert(o.pid);
  }
  EXPECT_EQ(execs, pids);  // the kernel reports every exec
  EXPECT_EQ(exits, pids);
  EXPECT_GE(with_argv.size(), 18U) << "argv read early for most 10 ms processes";
  std::map<std::string, int64_t> counters;
  source.AddCounters(&counters);
  EXPECT_EQ(counters["netlink_overflows"], 0);
  EXPECT_GE(counters["netlink_execs"], 20);
}

TEST(NetlinkPrivateNs, RefusedAndAutoFallsBack) {
  SKIP_UNLESS_ROOT_WITH_UNSHARE();
  auto lines = RunLines(InPrivatePidNs("probe --mode node"));
  ASSERT_GE(lines.size(), 5U);
  EXPECT_EQ(lines[0]["self"]["init_pid_ns"], false);
  EXPECT_EQ(lines[0]["self"]["pid"], 1);  // we are init of the new namespace
  EXPECT_EQ(lines[0]["self"]["nspid_levels"], 1) << "NSpid alone would have been fooled";
  EXPECT_EQ(lines[1]["probe"], "netlink");
  EXPECT_EQ(lines[1]["ok"], false);
  EXPECT_NE(lines[1]["reason"].get<std::string>().find("private PID namespace"), std::string::npos);
  EXPECT_EQ(lines[2]["probe"], "fanotify");
  EXPECT_EQ(lines[2]["ok"], true) << lines[2]["reason"];
  EXPECT_EQ(lines[4]["auto"], "fanotify");
  std::string why = lines[4]["why"];
  EXPECT_NE(why.find("netlink refused"), std::string::npos) << why;
  EXPECT_EQ(lines[4]["sources"], 2);  // fanotify + poll underneath
}

TEST(Factory, AutoOnTheHost) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (!ReadSelfFacts().InInitPidNs()) GTEST_SKIP() << "not in the initial PID namespace";
  CaptureOptions opts;
  opts.mode = "node";
  auto sel = MakeCaptureSources(opts);
  ASSERT_TRUE(sel.ok()) << sel.error().message;
  EXPECT_EQ(sel->active, "netlink+fanotify");
  ASSERT_EQ(sel->sources.size(), 3U);
  EXPECT_EQ(sel->sources.back()->Name(), "poll");
  opts.mode = "kata";
  sel = MakeCaptureSources(opts);
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->active, "fanotify");
  EXPECT_NE(sel->why.find("netlink skipped: mode=kata"), std::string::npos);
  opts.capture = "ebpf";
  EXPECT_FALSE(MakeCaptureSources(opts).ok());
}

json RunSourceInPrivateNs(const std::string& source) {
  auto lines = RunLines(InPrivatePidNs("run " + source));
  return lines.empty() ? json::object() : lines.back();
}

TEST(FanotifyPrivateNs, ShadowOpenAndExecWithExactPid) {
  SKIP_UNLESS_ROOT_WITH_UNSHARE();
  json out = RunSourceInPrivateNs("fanotify");
  ASSERT_FALSE(out.contains("start_error")) << out.dump();
  ASSERT_EQ(out["children"].size(), 3U);
  int cat_pid = out["children"][0]["pid"];
  int sleep_pid = out["children"][1]["pid"];
  int head_pid = out["children"][2]["pid"];
  EXPECT_LT(cat_pid, 100) << "pids are the private namespace's";
  bool cat_open = false, head_open = false, sleep_exec = false;
  for (const auto& o : out["observations"]) {
    int pid = o["pid"];
    if (o["kind"] == "file_open" && o["path"] == "/etc/shadow") {
      if (pid == cat_pid) {
        cat_open = true;
        EXPECT_EQ(o["cmdline"], json({"/usr/bin/cat", "/etc/shadow"}));
      }
      head_open |= pid == head_pid;
    }
    if (o["kind"] == "exec" && pid == sleep_pid) {
      sleep_exec = true;
      EXPECT_EQ(o["path"], "/usr/bin/sleep");
      EXPECT_EQ(o["cmdline"], json({"/usr/bin/sleep", "0.05"}));
    }
    EXPECT_NE(o["path"], "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        << "the ELF interpreter is merged into its exec";
  }
  EXPECT_TRUE(cat_open) << out.dump();
  EXPECT_TRUE(head_open);
  EXPECT_TRUE(sleep_exec);
  EXPECT_GE(out["counters"]["fanotify_interp_merged"].get<int>(), 1);
  EXPECT_EQ(out["counters"]["fanotify_file_perm"], 1) << "FAN_OPEN_PERM holds the opener";
}

TEST(InotifyPrivateNs, TriggeredScanSeesShortProcess) {
  SKIP_UNLESS_ROOT_WITH_UNSHARE();
  json out = RunSourceInPrivateNs("inotify");
  ASSERT_FALSE(out.contains("start_error")) << out.dump();
  int sleep_pid = out["children"][1]["pid"];
  int scans = 0;
  std::map<int, json> looked;  // pid -> argv the new-pid look read
  for (const auto& o : out["observations"]) {
    EXPECT_EQ(o["method"], "inotify");
    if (o["kind"] == "scan") {
      ++scans;
      continue;
    }
    EXPECT_EQ(o["kind"], "exec") << "the look reports new processes as kExec";
    looked[o["pid"].get<int>()] = o["cmdline"];
  }
  EXPECT_GE(scans, 1);
  // The look read the 50 ms sleep with its own argv, not its parent's.
  ASSERT_TRUE(looked.count(sleep_pid)) << out.dump();
  EXPECT_EQ(looked[sleep_pid], json({"/usr/bin/sleep", "0.05"}));
  EXPECT_GE(out["counters"]["inotify_looks"].get<int>(), 1);
  auto seen = out["scan_sightings"];
  ASSERT_TRUE(seen.contains(std::to_string(sleep_pid))) << out.dump();
  EXPECT_EQ(seen[std::to_string(sleep_pid)], json({"/usr/bin/sleep", "0.05"}));
  // Coalesced: fewer scans than raw events.
  EXPECT_LT(out["counters"]["inotify_scans_triggered"].get<int>(),
            out["counters"]["inotify_events"].get<int>());
}

}  // namespace
}  // namespace sandwatch::sensor

namespace sandwatch::sensor {
namespace {

TEST(InotifyPrivateNs, AutoFallsBackToInotifyWithoutSysAdmin) {
  SKIP_UNLESS_ROOT_WITH_UNSHARE();
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv(1) missing";
  // A pod sidecar without privileges: private PID namespace, no CAP_SYS_ADMIN.
  auto lines = RunLines(
      "/usr/bin/unshare --pid --fork --mount-proc /usr/bin/setpriv "
      "--inh-caps=-sys_admin --bounding-set=-sys_admin " +
      Helper() + " probe --mode sidecar");
  ASSERT_GE(lines.size(), 5U);
  EXPECT_EQ(lines[2]["probe"], "fanotify");
  EXPECT_EQ(lines[2]["ok"], false);
  EXPECT_NE(lines[2]["reason"].get<std::string>().find("CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_EQ(lines[4]["auto"], "inotify");
  std::string why = lines[4]["why"];
  EXPECT_NE(why.find("netlink skipped: mode=sidecar"), std::string::npos) << why;
  EXPECT_NE(why.find("fanotify refused: CAP_SYS_ADMIN is missing"), std::string::npos) << why;
}

// A sink that blocks in Push until released: a pipeline that fell behind.
class StallingSink : public ObservationSink {
 public:
  void Push(Observation obs) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return released_; });
    obs_.push_back(std::move(obs));
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<Observation> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return obs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<Observation> obs_;
};

TEST(NetlinkHost, OverflowIsCountedAndReconciledWithAScan) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN)";
  NetlinkOptions opts;
  opts.rcvbuf_bytes = 4096;  // tiny on purpose
  opts.early_read = false;
  opts.early_read_workers = 0;  // the receiving thread itself calls the stalled sink
  NetlinkSource source{opts};
  if (Status probe = source.Probe(); !probe.ok()) GTEST_SKIP() << probe.error().message;
  StallingSink sink;
  ASSERT_TRUE(source.Start(&sink).ok());
  // The receiving thread blocks in Push on the first event while 200 processes run.
  for (int i = 0; i < 200; ++i) testing::WaitExit(testing::Spawn({"/usr/bin/true"}));
  sink.Release();
  bool reconciled = false;
  for (int i = 0; i < 300 && !reconciled; ++i) {
    for (const auto& o : sink.Snapshot()) {
      reconciled |= o.kind == Observation::Kind::kScan && o.method == "netlink";
    }
    if (!reconciled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  source.Stop();
  std::map<std::string, int64_t> counters;
  source.AddCounters(&counters);
  EXPECT_GE(counters["netlink_overflows"], 1);
  EXPECT_TRUE(reconciled) << "an overflow is followed by a reconciling kScan";
}

}  // namespace
}  // namespace sandwatch::sensor

namespace sandwatch::sensor {
namespace {

// A fake workload root: etc/ld.so.cache, etc/shadow, usr/bin/<copy of true>.
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/capture_root_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    std::filesystem::create_directories(root_ + "/etc");
    std::filesystem::create_directories(root_ + "/usr/bin");
    std::ofstream(root_ + "/etc/ld.so.cache") << "cache";
    std::ofstream(root_ + "/etc/shadow") << "root:*:1::::::\n";
    std::filesystem::copy_file("/usr/bin/true", root_ + "/usr/bin/true");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static int CountScans(testing::RecordingSink& sink) {
    int n = 0;
    for (const auto& o : sink.Snapshot()) n += o.kind == Observation::Kind::kScan;
    return n;
  }
  template <class Pred>
  static bool WaitFor(Pred pred) {  // bounded wait for an asynchronous event
    for (int i = 0; i < 300; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
  std::string root_;
};

TEST_F(FakeRoot, InotifyRewatchesLdCacheAfterLdconfigReplacesIt) {
  InotifyOptions opts;
  opts.workload_root = root_;
  InotifySource source(opts);
  ASSERT_TRUE(source.Probe().ok());
  testing::RecordingSink sink;
  ASSERT_TRUE(source.Start(&sink).ok());
  auto watched = source.watched();
  EXPECT_NE(std::find(watched.begin(), watched.end(), "/etc/ld.so.cache"), watched.end());
  EXPECT_NE(std::find(watched.begin(), watched.end(), "/etc/shadow"), watched.end());

  std::ifstream(root_ + "/etc/shadow").get();  // a sensitive open triggers a scan
  EXPECT_TRUE(WaitFor([&] { return CountScans(sink) >= 1; }));
  // ldconfig writes a new cache and renames it over the old one.
  std::ofstream(root_ + "/etc/ld.so.cache~") << "new cache";
  std::filesystem::rename(root_ + "/etc/ld.so.cache~", root_ + "/etc/ld.so.cache");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the coalescing gap
  const int before = CountScans(sink);
  std::ifstream(root_ + "/etc/ld.so.cache").get();
  EXPECT_TRUE(WaitFor([&] { return CountScans(sink) > before; }))
      << "the replaced ld.so.cache is watched again";
  source.Stop();
  std::map<std::string, int64_t> c;
  source.AddCounters(&c);
  EXPECT_GE(c["inotify_scans_triggered"], 2);
}

TEST_F(FakeRoot, FanotifyPathsAreRelativeToTheWorkloadRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN)";
  FanotifyOptions opts;
  opts.workload_root = root_;
  FanotifySource source(opts);
  if (Status st = source.Probe(); !st.ok()) GTEST_SKIP() << st.error().message;
  testing::RecordingSink sink;
  ASSERT_TRUE(source.Start(&sink).ok());
  EXPECT_EQ(source.marked_files(), std::vector<std::string>{"/etc/shadow"});
  int exec_pid = testing::Spawn({root_ + "/usr/bin/true"});
  testing::WaitExit(exec_pid);
  int cat_pid = testing::Spawn({"/usr/bin/cat", root_ + "/etc/shadow"});
  testing::WaitExit(cat_pid);
  auto seen = [&](Observation::Kind kind, int pid, const std::string& path) {
    for (const auto& o : sink.Snapshot()) {
      if (o.kind == kind && o.pid == pid && o.path == path) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitFor([&] { return seen(Observation::Kind::kExec, exec_pid, "/usr/bin/true"); }));
  EXPECT_TRUE(WaitFor([&] { return seen(Observation::Kind::kFileOpen, cat_pid, "/etc/shadow"); }));
  source.Stop();
}

}  // namespace
}  // namespace sandwatch::sensor
