// The binary's flags, exit codes, the listen subcommand and the loopback rule.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "test_util.h"

namespace sandwatch::attacksim {
namespace {

using namespace sandwatch::attacksim::testing;  // NOLINT(google-build-using-namespace)

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  int Run(const std::vector<std::string>& args, std::string* out = nullptr,
          std::string* err = nullptr) {
    Exec e = Start(args, dir_, "cli" + std::to_string(n_++));
    int rc = Wait(e);
    if (out != nullptr) *out = ReadFile(e.out_path);
    if (err != nullptr) *err = ReadFile(e.err_path);
    return rc;
  }
  std::string dir_;
  int n_ = 0;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ADD_FAILURE() << "no free loopback port";
  }
  close(fd);
  return ntohs(a.sin_port);
}

TEST_F(CliTest, HelpAndVersion) {
  std::string out;
  EXPECT_EQ(Run({"--help"}, &out), 0);
  EXPECT_NE(out.find("run"), std::string::npos);
  EXPECT_EQ(Run({"run", "--help"}, &out), 0);
  EXPECT_NE(out.find("Examples:"), std::string::npos);
  EXPECT_NE(out.find("--allow-remote"), std::string::npos);
  EXPECT_EQ(Run({"--version"}, &out), 0);
  EXPECT_NE(out.find("sandwatch-attack-sim"), std::string::npos);
}

TEST_F(CliTest, BadFlagsExitTwoWithOneLineNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", "--speed", "warp"}, "--speed"},
      {{"run", "--hold-ms", "shadow=abc"}, "--hold-ms"},
      {{"run", "--repeat", "x"}, "--repeat"},
      {{"run", "--nosuchflag"}, "--nosuchflag"},
      {{"listen", "--port", "70000"}, "--port"},
      {{"run", "--package-install", "sometimes"}, "--package-install"},
      {{"run", "--steps", "shadow", "--ground-truth", "/nonexistent-dir/gt.jsonl"},
       "--ground-truth"},
      {{"listen", "--bind", "not-an-address", "--port", "0"}, "--bind"},
      {{"listen", "--speed", "warp"}, "--speed"},
  };
  for (const auto& [args, flag] : cases) {
    std::string err;
    EXPECT_EQ(Run(args, nullptr, &err), 2) << args[1];
    EXPECT_NE(err.find(flag), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST_F(CliTest, NonLoopbackTargetIsRefusedBeforeAnythingRuns) {
  std::string err;
  const std::string gt = dir_ + "/gt.jsonl";
  for (const char* target :
       {"10.244.0.1:4444", "192.168.1.1:80", "example.com:4444", "[2001:db8::1]:4444"}) {
    EXPECT_EQ(Run({"run", "--target", target, "--ground-truth", gt}, nullptr, &err), 2) << target;
    EXPECT_NE(err.find("--target"), std::string::npos) << err;
    EXPECT_NE(err.find("--allow-remote"), std::string::npos) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(gt));  // nothing ran
}

TEST_F(CliTest, AllowRemoteIsAcceptedButNoStepHereConnects) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to read /etc/shadow";
  // Only the shadow step runs: the remote target is parsed and accepted, never contacted.
  const std::string gt = dir_ + "/gt.jsonl";
  std::string err;
  EXPECT_EQ(Run({"run", "--target", "10.244.0.1:4444", "--allow-remote", "--steps", "shadow",
                 "--speed", "burst", "--ground-truth", gt},
                nullptr, &err),
            0)
      << err;
  auto steps = ReadTruth(gt);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, "shadow");
}

TEST_F(CliTest, ListShowsStepsVariantsSpeedsAndSkips) {
  std::string out;
  EXPECT_EQ(Run({"--list"}, &out), 0);
  for (const char* word :
       {"shell", "reverse-shell", "socat", "busybox-nc", "apk", "burst", "human", "staged"}) {
    EXPECT_NE(out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(Run({"run", "--list", "--json"}, &out), 0);
  EXPECT_NE(out.find("\"skipped_reason\""), std::string::npos);
}

TEST_F(CliTest, ListenSubcommandReceivesTheReverseShell) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to read /etc/shadow";
  const int port = FreePort();
  const std::string lgt = dir_ + "/listen.jsonl";
  Exec listener = Start({"listen", "--port", std::to_string(port), "--ground-truth", lgt,
                         "--timeout", "30", "--run-id", "shared-id"},
                        dir_, "listen");
  ASSERT_GT(listener.pid, 0);
  // The listener binds at once; retry the run briefly if it was not up yet.
  std::string err;
  int rc = 1;
  for (int attempt = 0; attempt < 50 && rc != 0; ++attempt) {
    usleep(100'000);
    if (ReadFile(listener.err_path).find("listening") == std::string::npos) continue;
    rc = Run(
        {"run", "--target", "127.0.0.1:" + std::to_string(port), "--steps", "shell,reverse-shell",
         "--speed", "fast", "--run-id", "shared-id", "--ground-truth", dir_ + "/run.jsonl"},
        nullptr, &err);
  }
  EXPECT_EQ(rc, 0) << err;
  EXPECT_EQ(Wait(listener), 0) << ReadFile(listener.err_path);
  EXPECT_NE(ReadFile(listener.out_path).find("uid="), std::string::npos);
  auto steps = ReadTruth(lgt);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, "listener");
  EXPECT_EQ(steps[0].run_id, "shared-id");
  EXPECT_NE(steps[0].note.find("uid="), std::string::npos);
  auto run_steps = ReadTruth(dir_ + "/run.jsonl");
  const GroundTruthStep* rs = FindStep(run_steps, "reverse-shell");
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->command.back(), std::to_string(port));
  EXPECT_EQ(FindStep(run_steps, "listener"), nullptr);  // the external listener records it
}

TEST_F(CliTest, ListenTimesOutWithExitOne) {
  std::string err;
  EXPECT_EQ(Run({"listen", "--port", "0", "--timeout", "0.2"}, nullptr, &err), 1);
  EXPECT_NE(err.find("no connection"), std::string::npos) << err;
}

}  // namespace
}  // namespace sandwatch::attacksim
