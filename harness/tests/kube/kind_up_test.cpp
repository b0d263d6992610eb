// kind-up.sh and kind-down.sh with kind, helm, kubectl and the container engine replaced
// by recorders on PATH (golden sequence, /dev/shm, image loading, the staged .deb), and
// the harness binary's `run --backend kube --dry-run`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// kind-up.sh and kind-down.sh, past the preflight, with kind, helm, kubectl and podman
// replaced by recorders on PATH: the golden sequence of what they run, in order.
class KindUpSequence : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("sw-kindup");
    ASSERT_FALSE(root_.empty());
    fs::create_directories(root_ / "bin");
    // Each tool appends its argv to the log. `kind get clusters` lists what was created.
    Tool("kind",
         "if [ \"$1 $2\" = 'get clusters' ]; then cat \"$SW_ROOT/clusters\" 2>/dev/null; exit 0; "
         "fi\n"
         "if [ \"$1 $2\" = 'get nodes' ]; then echo sandwatch-control-plane; exit 0; fi\n"
         "if [ \"$1 $2\" = 'create cluster' ]; then echo sandwatch >> \"$SW_ROOT/clusters\"; fi\n"
         "if [ \"$1 $2\" = 'delete cluster' ]; then rm -f \"$SW_ROOT/clusters\"; fi");
    Tool("helm", "");
    // kata-deploy has labelled the node.
    Tool("kubectl",
         "case \"$*\" in *'get nodes -l katacontainers.io/kata-runtime=true'*) "
         "echo node/sandwatch-control-plane ;; esac");
    // The node's /dev/shm: 64 MiB until remounted (unless SW_REMOUNT_IGNORED is set);
    // `run ... ls` of the staged .deb fails when SW_NO_DEB is set.
    const std::string engine =
        "case \"$1\" in\n"
        "  save) : > \"$3\" ;;\n"
        "  run) [ -z \"$SW_NO_DEB\" ] || { echo 'ls: cannot access' >&2; exit 2; } ;;\n"
        "  exec) case \"$*\" in\n"
        "    *remount,size=*) [ -n \"$SW_REMOUNT_IGNORED\" ] || "
        "echo \"$5\" | sed 's/.*size=//; s/m$//' > \"$SW_ROOT/shm\" ;;\n"
        "    *df*) echo 'Filesystem 1048576-blocks Used Available Capacity Mounted on'; "
        "echo \"shm $(cat \"$SW_ROOT/shm\" 2>/dev/null || echo 64) 0 0 0% /dev/shm\" ;;\n"
        "  esac ;;\n"
        "esac";
    Tool("podman", engine);
    Tool("docker", engine);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Tool(const std::string& name, const std::string& body) {
    std::ofstream(root_ / "bin" / name)
        << "#!/bin/sh\necho \"" << name << " $*\" >> \"$SW_ROOT/log\"\n"
        << body << "\nexit 0\n";
    fs::permissions(root_ / "bin" / name, fs::perms::owner_all);
  }
  ShellResult Run(const std::string& script, const std::string& env = "",
                  const std::string& engine = "podman") {
    const std::string r = root_.string();
    return Shell(env + " SW_ROOT=" + ShellQuote(r) + " PATH=" + ShellQuote(r + "/bin") +
                 ":/usr/bin:/bin SKIP_PREFLIGHT=1 CONTAINER_ENGINE=" + engine +
                 " TMPDIR=" + ShellQuote(r) + " bash " +
                 ShellQuote(SourceDir() + "/kind-cluster/scripts/" + script));
  }
  std::string Log() {
    std::string log = ReadFile((root_ / "log").string());
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {SourceDir(), "${SRC}"}, {root_.string(), "${TMP}"}}) {
      for (size_t p; (p = log.find(from)) != std::string::npos;) log.replace(p, from.size(), to);
    }
    // mktemp's random suffix.
    for (size_t p = 0; (p = log.find("${TMP}/tmp.", p)) != std::string::npos; p += 6) {
      log.replace(p + 11, 10, "XXXXXXXXXX");
    }
    return log;
  }
  fs::path root_;
};

TEST_F(KindUpSequence, KindUpThenKindDownRunTheGoldenSequence) {
  const ShellResult up = Run("kind-up.sh");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_THAT(up.output, HasSubstr("kind-up: cluster sandwatch is ready."));
  const ShellResult down = Run("kind-down.sh");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  const std::string golden = SourceDir() + "/harness/tests/kube/golden/kind-up-down.commands.txt";
  if (std::getenv("SANDWATCH_UPDATE_GOLDEN") != nullptr) std::ofstream(golden) << Log();
  EXPECT_EQ(Log(), ReadFile(golden)) << "rerun with SANDWATCH_UPDATE_GOLDEN=1 if intended";
  EXPECT_THAT(up.output, HasSubstr("/dev/shm 4608 MiB"));
}

// Docker (whose containerd image store `kind load docker-image` cannot read) goes
// through `docker save` + `kind load image-archive` too.
TEST_F(KindUpSequence, DockerImagesAreLoadedFromArchives) {
  const ShellResult up = Run("kind-up.sh", "", "docker");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  const std::string log = Log();
  EXPECT_THAT(log, Not(HasSubstr("kind load docker-image")));
  for (const char* i : {"sensor", "receiver", "workload"}) {
    const std::string tar = std::string("/") + i + ".tar";
    EXPECT_THAT(log, HasSubstr("docker save -o ${TMP}/tmp.XXXXXXXXXX" + tar));
    EXPECT_THAT(log, HasSubstr("kind load image-archive ${TMP}/tmp.XXXXXXXXXX" + tar));
  }
  EXPECT_THAT(
      log, HasSubstr("docker exec sandwatch-control-plane mount -o remount,size=4608m /dev/shm"));
}

// A node whose /dev/shm stays at 64 MiB stops kind-up before Kata is installed, naming
// /dev/shm (not /dev/kvm) and the remount that fixes it.
TEST_F(KindUpSequence, ANodeShmTooSmallForKataStopsWithTheRemountFix) {
  const ShellResult up = Run("kind-up.sh", "SW_REMOUNT_IGNORED=1");
  EXPECT_EQ(up.exit_code, 1) << up.output;
  EXPECT_THAT(up.output,
              HasSubstr("/dev/shm in node sandwatch-control-plane is 64 MiB, less than Kata's "
                        "default_memory of 2048 MiB"));
  EXPECT_THAT(up.output,
              HasSubstr("FIX: podman exec sandwatch-control-plane mount -o remount,size=4608m "
                        "/dev/shm"));
  EXPECT_THAT(Log(), Not(HasSubstr("helm upgrade --install kata-deploy")));
}

// Reusing a cluster (its node container restarted: /dev/shm back to 64 MiB) enlarges
// /dev/shm again before anything else.
TEST_F(KindUpSequence, AReusedClusterGetsItsShmEnlargedAgain) {
  ASSERT_EQ(Run("kind-up.sh").exit_code, 0);
  fs::remove(root_ / "shm");
  fs::remove(root_ / "log");
  const ShellResult again = Run("kind-up.sh");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("reusing it"));
  const std::string log = Log();
  EXPECT_THAT(log, Not(HasSubstr("kind create cluster")));
  EXPECT_THAT(
      log, HasSubstr("podman exec sandwatch-control-plane mount -o remount,size=4608m /dev/shm"));
}

// A workload image without the staged ncat .deb stops kind-up before any cluster exists.
TEST_F(KindUpSequence, AWorkloadImageWithoutTheNcatDebFailsEarly) {
  const ShellResult up = Run("kind-up.sh", "SW_NO_DEB=1");
  EXPECT_EQ(up.exit_code, 1) << up.output;
  EXPECT_THAT(up.output, HasSubstr("holds no staged ncat .deb"));
  EXPECT_THAT(up.output, HasSubstr("FIX: make deps"));
  EXPECT_THAT(Log(), Not(HasSubstr("kind create cluster")));
}

// credentials.sh with a recording kubectl that has no Secrets yet: four Secrets written
// from generated files, each token 64 hex digits, and no token ever in a command line.
TEST_F(KindUpSequence, CredentialsAreGeneratedIntoSecretsNeverIntoArgv) {
  Tool("kubectl",
       "case \"$*\" in *'get secret'*) exit 1 ;; esac\n"
       "for a in \"$@\"; do case \"$a\" in --from-file=*) f=\"${a#*=}\"; f=\"${f#*=}\";"
       " cp \"$f\" \"$SW_ROOT/secret-$8\" ;; esac; done");
  const ShellResult r = Run("credentials.sh");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto secret = [&](const std::string& name) {
    return ReadFile((root_ / ("secret-" + name)).string());
  };
  const std::string kata = secret("sandwatch-sensor-kata-app");
  const std::string normal = secret("sandwatch-sensor-normal-app");
  const std::string header = secret("sandwatch-falcosidekick-credential");
  const std::string file = secret("sandwatch-receiver-credentials");
  for (const std::string& t : {kata, normal}) {
    EXPECT_EQ(t.size(), 64u) << t;
    EXPECT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
  }
  EXPECT_NE(kata, normal);
  ASSERT_EQ(header.rfind("Authorization:Bearer ", 0), 0u) << header;
  const std::string falco = header.substr(21);
  EXPECT_EQ(falco.size(), 64u);
  EXPECT_THAT(file, HasSubstr("\nkata-app-*    " + kata + "\n"));
  EXPECT_THAT(file, HasSubstr("\nnormal-app-*  " + normal + "\n"));
  EXPECT_THAT(file, HasSubstr("\n@falco        " + falco + "\n"));
  const std::string argv_log = ReadFile((root_ / "log").string());
  for (const std::string& t : {kata, normal, falco}) {
    EXPECT_THAT(argv_log, Not(HasSubstr(t))) << "a token was in a command line";
  }
  EXPECT_THAT(argv_log,
              HasSubstr("-n falco create secret generic sandwatch-falcosidekick-credential"));

  Tool("kubectl", "");  // the Secrets exist now: a re-run keeps them
  const ShellResult again = Run("credentials.sh");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("keeping them"));
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing

namespace sandwatch::harness::kube::testing {
namespace {

// The real binary: `run --backend kube --dry-run` needs no cluster, only kubectl to render
// the manifests; other backends refuse the flag.
TEST(HarnessDryRun, PrintsTheBlogDemoCellsWithoutACluster) {
  const std::string harness = BinDir() + "/sandwatch-harness";
  if (!fs::exists(harness)) GTEST_SKIP() << harness << " not built";
  const std::string scenario = ShellQuote(SourceDir() + "/scenarios/blog-demo.yaml");
  const ShellResult local = Shell(ShellQuote(harness) + " run " + scenario + " --dry-run");
  EXPECT_EQ(local.exit_code, 2) << local.output;
  EXPECT_NE(local.output.find("--dry-run needs --backend kube"), std::string::npos);
  if (!OnPath("kubectl")) GTEST_SKIP() << "kubectl not on PATH: it renders the manifests";
  const ShellResult r = Shell("SANDWATCH_KUBE_CONTEXT=no-such-context " + ShellQuote(harness) +
                              " run " + scenario + " --backend kube --dry-run 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* want :
       {"# cell runc-", "# cell kata-qemu-", "--context no-such-context -n kata-demo apply -f -",
        R"("runtimeClassName": "kata-qemu")", "sandwatch-attack-sim run --chain blog"}) {
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
  }
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
