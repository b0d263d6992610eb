// The vantage doctor line: which capture `auto` gets from a set of privileges, what
// that vantage means, and the figures it quotes from a sweep's cells.jsonl.
#include "sandwatch/harness/vantage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sw-vantage-test-XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Vantage, AutoCaptureFollowsPrivilegesAndMode) {
  VantageFacts node{true, true, true};
  EXPECT_EQ(AutoCapture(node, "node"), "netlink+fanotify");
  EXPECT_EQ(AutoCapture(node, "sidecar"), "fanotify");  // netlink sees the whole node
  VantageFacts pod{false, false, false};
  EXPECT_EQ(AutoCapture(pod, "sidecar"), "inotify");
  EXPECT_EQ(AutoCapture(pod, "node"), "inotify");  // not the initial PID namespace
  EXPECT_NE(VantageSummary("inotify", "sidecar").find("sidecar without privileges"),
            std::string::npos);
  EXPECT_NE(VantageSummary("fanotify", "sidecar").find("privileged sidecar"), std::string::npos);
  EXPECT_NE(VantageSummary("netlink+fanotify", "node").find("privileged node"), std::string::npos);
  EXPECT_NE(VantageSummary("poll", "sidecar").find("POLL_INTERVAL"), std::string::npos);
}

TEST(Vantage, ProbeReadsCapEffFromStatus) {
  TempDir proc;
  fs::create_directories(proc.path() + "/self/ns");
  // CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21), not CAP_SYS_NICE (23)
  std::ofstream(proc.path() + "/self/status") << "Name:\tx\nCapEff:\t0000000000201000\n";
  std::ofstream(proc.path() + "/self/ns/pid") << "";  // a plain file: not the initial ns
  const VantageFacts f = ProbeVantage(proc.path());
  EXPECT_TRUE(f.net_admin);
  EXPECT_TRUE(f.sys_admin);
  EXPECT_FALSE(f.initial_pid_ns);
}

TEST(Vantage, QuotesTheNewestSweepAtTheIntervalClosestToTwoSeconds) {
  TempDir results;
  EXPECT_NE(MeasuredShortLived(results.path(), "inotify", true).find("no poll-interval sweep"),
            std::string::npos);
  fs::create_directories(results.path() + "/poll-sweep-2026-01-01");
  fs::create_directories(results.path() + "/poll-sweep-2026-02-01");
  std::ofstream(results.path() + "/poll-sweep-2026-01-01/cells.jsonl")
      << R"({"capture":"inotify","poll_interval_s":2,"lifetime_ms":1,"trials":9,"detected":9})"
      << "\n";
  std::ofstream out(results.path() + "/poll-sweep-2026-02-01/cells.jsonl");
  const auto cell = [&out](const char* vantage, const char* binary, double p, int l, int det) {
    out << R"({"capture":"inotify","vantage":")" << vantage << R"(","binary":")" << binary
        << R"(","poll_interval_s":)" << p << R"(,"lifetime_ms":)" << l
        << R"(,"trials":100,"detected":)" << det << "}\n";
  };
  cell("unprivileged", "static", 2, 1, 97);
  cell("unprivileged", "dynamic", 2, 1, 99);
  cell("unprivileged", "static", 0.5, 1, 11);
  cell("privileged", "static", 2, 1, 55);
  cell("unprivileged", "static", 2, 100, 3);  // not quoted: only 1 and 10 ms
  out << "not json\n";                        // skipped, the rest is still read
  out.close();
  const std::string s = MeasuredShortLived(results.path(), "inotify", true);
  EXPECT_NE(s.find("results/poll-sweep-2026-02-01"), std::string::npos) << s;
  EXPECT_NE(s.find("P=2 s"), std::string::npos) << s;
  EXPECT_NE(s.find("1 ms static 97/100, 1 ms dynamic 99/100"), std::string::npos) << s;
  EXPECT_EQ(s.find("55/100"), std::string::npos) << s;
  EXPECT_EQ(s.find("3/100"), std::string::npos) << s;
  EXPECT_NE(MeasuredShortLived(results.path(), "fanotify", false).find("has no fanotify cells"),
            std::string::npos);

  const DoctorCheck c = VantageCheck("v", "poll", "sidecar", results.path());
  EXPECT_FALSE(c.ok);  // a poll-only sensor is flagged
  EXPECT_FALSE(c.required);
  EXPECT_FALSE(c.fix.empty());
}

}  // namespace
}  // namespace sandwatch::harness
