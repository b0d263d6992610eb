// The whole blog chain inside a Debian minbase rootfs where ncat is NOT installed (the lab's
// workload rootfs, mounted read-only under a throwaway overlay in a private mount
// namespace): the staged dpkg -i installs ncat, new-binary runs that fresh ncat, the
// reverse shell is the new ncat, and --cleanup purges it again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace sandwatch::attacksim {
namespace {

using namespace sandwatch::attacksim::testing;  // NOLINT(google-build-using-namespace)

std::string RootfsPath() {
  const char* env = std::getenv("SANDWATCH_TEST_ROOTFS");
  return env != nullptr ? env : "/var/cache/sandwatch/lab/rootfs-bookworm";
}

TEST(RootfsChain, FreshNcatIsInstalledRunAndPurged) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (overlay mount, chroot)";
  const std::string rootfs = RootfsPath();
  if (!std::filesystem::exists(rootfs + "/usr/bin/dpkg") ||
      !std::filesystem::exists(rootfs + "/var/cache/sandwatch/debs")) {
    GTEST_SKIP() << "no lab rootfs at " << rootfs
                 << " (the harness builds it: harness/lab/build-rootfs.sh)";
  }
  if (std::filesystem::exists(rootfs + "/usr/bin/ncat")) {
    GTEST_SKIP() << "ncat is already installed in " << rootfs;
  }
  const std::string dir = TempDir();
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() { std::filesystem::remove_all(path); }
  } remove_on_exit{dir};
  const std::string script = dir + "/inside.sh";
  {
    std::ofstream out(script);
    out << "set -e\n"
        << "T=" << dir << "\n"
        << "mkdir -p $T/upper $T/work $T/merged\n"
        << "mount -t overlay overlay -o lowerdir=" << rootfs
        << ",upperdir=$T/upper,workdir=$T/work $T/merged\n"
        << "mount -t proc proc $T/merged/proc\n"
        << "mount --rbind /dev $T/merged/dev\n"
        << "mkdir -p $T/merged/sw\n"
        << "cp " << BinPath() << " $T/merged/sw/\n"
        << "set +e\n"
        << "chroot $T/merged /sw/sandwatch-attack-sim --version >/dev/null 2>&1 || "
           "{ echo norun > $T/norun; exit 0; }\n"
        << "chroot $T/merged /sw/sandwatch-attack-sim run -q --speed fast --gap-ms 10 --cleanup "
           "--ground-truth /sw/gt.jsonl\n"
        << "echo $? > $T/rc\n"
        << "cp $T/merged/sw/gt.jsonl $T/gt.jsonl\n"
        << "chroot $T/merged dpkg-query -W -f '${db:Status-Status}' ncat > $T/after 2>/dev/null\n"
        << "ls -A $T/merged/tmp > $T/tmp-left\n"
        << "test -e $T/merged/usr/bin/ncat && echo present > $T/ncat-left\n"
        << "exit 0\n";
  }
  const std::string cmd =
      "unshare -m --propagation private bash " + script + " >" + dir + "/log 2>&1";
  if (std::system(cmd.c_str()) != 0 ||
      (!std::filesystem::exists(dir + "/rc") && !std::filesystem::exists(dir + "/norun"))) {
    std::string log = ReadFile(dir + "/log");
    GTEST_SKIP() << "cannot mount an overlay here: " << log;
  }
  if (std::filesystem::exists(dir + "/norun")) {
    GTEST_SKIP() << "this build of the binary cannot run inside the rootfs (sanitizer runtime?)";
  }
  EXPECT_EQ(ReadFile(dir + "/rc"), "0\n") << ReadFile(dir + "/log");
  auto steps = ReadTruth(dir + "/gt.jsonl");
  const GroundTruthStep* pkg = FindStep(steps, "package-install");
  ASSERT_NE(pkg, nullptr);
  EXPECT_EQ(pkg->exit_code, 0) << pkg->note;
  const GroundTruthStep* nb = FindStep(steps, "new-binary");
  ASSERT_NE(nb, nullptr);
  EXPECT_EQ(nb->variant, "ncat");
  EXPECT_EQ(nb->signals, std::vector<std::string>{"post_start_binary_execution"});
  const GroundTruthStep* rs = FindStep(steps, "reverse-shell");
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->signals, (std::vector<std::string>{"nc_execution", "reverse_shell",
                                                   "post_start_binary_execution"}));
  const GroundTruthStep* listener = FindStep(steps, "listener");
  ASSERT_NE(listener, nullptr);
  EXPECT_NE(listener->note.find("uid="), std::string::npos);
  const GroundTruthStep* cleanup = FindStep(steps, "cleanup");
  ASSERT_NE(cleanup, nullptr);
  EXPECT_EQ(cleanup->command, (std::vector<std::string>{"dpkg", "--purge", "ncat"}));
  EXPECT_EQ(cleanup->exit_code, 0);
  // Nothing survives: ncat is gone and nothing is left in the workload's /tmp.
  EXPECT_NE(ReadFile(dir + "/after"), "installed");
  EXPECT_FALSE(std::filesystem::exists(dir + "/ncat-left"));
  EXPECT_EQ(ReadFile(dir + "/tmp-left"), "");
}

}  // namespace
}  // namespace sandwatch::attacksim
