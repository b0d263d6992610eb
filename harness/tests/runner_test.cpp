// The real CommandRunner (Boost.Process) on real processes, and the fake one.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "fake_runner.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"

namespace sandwatch::harness {
namespace {

using namespace std::chrono_literals;

TEST(ProcessRunner, CapturesOutputAndExitCode) {
  auto r = MakeProcessRunner();
  CommandSpec spec = Cmd({"sh", "-c", "echo out; echo err >&2; cat; exit 3"});
  spec.stdin_data = "from stdin\n";
  spec.env["SW_TEST_VAR"] = "x";
  auto res = r->Run(spec);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->exit_code, 3);
  EXPECT_EQ(res->out, "out\nfrom stdin\n");
  EXPECT_EQ(res->err, "err\n");
  EXPECT_FALSE(res->timed_out);
}

TEST(ProcessRunner, PassesEnvironmentAndWorkingDirectory) {
  auto r = MakeProcessRunner();
  CommandSpec spec = Cmd({"sh", "-c", "echo \"$SW_TEST_VAR\"; pwd"});
  spec.env["SW_TEST_VAR"] = "hello world";
  spec.cwd = "/tmp";
  auto res = r->Run(spec);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "hello world\n/tmp\n");
}

TEST(ProcessRunner, TimeoutKillsTheChild) {
  auto r = MakeProcessRunner();
  auto res = r->Run(Cmd({"sleep", "30"}, 200ms));
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->timed_out);
  EXPECT_NE(res->exit_code, 0);
}

TEST(ProcessRunner, UnknownProgramIsAnError) {
  auto r = MakeProcessRunner();
  auto res = r->Run(Cmd({"sandwatch-no-such-program-xyz"}));
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("not found"), std::string::npos);
  EXPECT_TRUE(r->Which("sandwatch-no-such-program-xyz").empty());
  EXPECT_FALSE(r->Which("sh").empty());
}

TEST(ProcessRunner, BackgroundChildIsStoppedAndReaped) {
  auto r = MakeProcessRunner();
  std::string out = "/tmp/sandwatch-runner-test-" + std::to_string(getpid());
  auto h = r->Start(Bg({"sh", "-c", "echo started; exec sleep 30"}, out, ""));
  ASSERT_TRUE(h.ok()) << h.error().message;
  int pid = (*h)->Pid();
  EXPECT_TRUE((*h)->Running());
  EXPECT_FALSE((*h)->Wait(50ms).ok());
  int code = (*h)->Stop(2000ms);
  EXPECT_EQ(code, 128 + SIGTERM);
  EXPECT_FALSE((*h)->Running());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped, gone
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "started");
  std::filesystem::remove(out);
}

TEST(ProcessRunner, DroppedHandleKillsItsChild) {
  auto r = MakeProcessRunner();
  int pid = 0;
  {
    auto h = r->Start(Bg({"sleep", "30"}, "", ""));
    ASSERT_TRUE(h.ok());
    pid = (*h)->Pid();
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string st;
  std::getline(stat, st);
  EXPECT_NE(::kill(pid, 0), 0) << st;
}

TEST(RenderCommand, QuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(RenderCommand({"runc", "delete", "-f", "sw-1"}), "runc delete -f sw-1");
  EXPECT_EQ(RenderCommand({"sh", "-c", "echo 'a b'"}), "sh -c 'echo '\\''a b'\\'''");
  EXPECT_EQ(RenderCommand({""}), "''");
}

TEST(LocalDoctor, NamesWhatIsMissingAndHowToGetIt) {
  testing::FakeRunner fake;
  fake.Provide("runc", "/usr/sbin/runc");
  CommandResult v;
  v.exit_code = 0;
  v.out = "runc version 1.1.5\n";
  fake.On("runc --version", v);
  BackendRegistry reg;
  RegisterLocalBackend(reg);
  auto backend = reg.Create("local", fake);
  ASSERT_TRUE(backend.ok());
  auto checks = (*backend)->Doctor({"runc", "kata-qemu"});
  bool saw_runc = false, saw_qemu = false;
  for (const auto& c : checks) {
    if (c.name == "runc") {
      saw_runc = true;
      EXPECT_TRUE(c.ok);
      EXPECT_NE(c.detail.find("1.1.5"), std::string::npos);
    }
    if (c.name == "qemu-system-x86_64") {
      saw_qemu = true;
      EXPECT_FALSE(c.ok);
      EXPECT_TRUE(c.required);
      EXPECT_NE(c.fix.find("apt-get install qemu-system-x86"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_runc);
  EXPECT_TRUE(saw_qemu);
  EXPECT_EQ(fake.Rendered().front(), "runc --version");
}

TEST(BackendRegistry, UnknownBackendNamesTheKnownOnes) {
  testing::FakeRunner fake;
  BackendRegistry reg;
  RegisterLocalBackend(reg);
  auto b = reg.Create("k8s", fake);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("local"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::harness
