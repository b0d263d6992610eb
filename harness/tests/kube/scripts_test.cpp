// kind-cluster/scripts/preflight.sh against fixture trees (SYSFS_ROOT, DEV_ROOT,
// PROC_ROOT, and kind/kubectl/helm on a fixture PATH that print given versions), and on
// this machine as it is. Every failure must name a FIX; no shell error may leak out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

namespace fs = std::filesystem;

class PreflightFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-preflight-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    // A bare-metal Intel laptop with everything in place.
    Write("sys/module/kvm_intel/parameters/nested", "Y\n");
    fs::create_directories(root_ / "sys/module/vhost_net");
    fs::create_directories(root_ / "sys/module/vhost_vsock");
    Write("dev/kvm", "");
    Write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme vmx sse2\n");
    Tool("kind", "echo 'kind v0.23.0 go1.22 linux/amd64'");
    Tool("kubectl", "echo 'Client Version: v1.30.2'; echo 'Kustomize Version: v5.0.4'");
    Tool("helm", "echo 'v3.15.1+g1234'");
    Tool("podman", "exit 0");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& content) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << content;
  }
  void Tool(const std::string& name, const std::string& body) {
    Write("bin/" + name, "#!/bin/sh\n" + body + "\n");
    fs::permissions(root_ / "bin" / name, fs::perms::owner_all);
  }
  ShellResult Run() {
    const std::string script = SourceDir() + "/kind-cluster/scripts/preflight.sh";
    const std::string r = root_.string();
    // Only the fixture bin dir plus the basic utilities the script itself uses.
    Write("bin/.keep", "");
    for (const char* util : {"cat", "grep", "awk", "sort", "head", "dirname", "printf"}) {
      const ShellResult where = Shell(std::string("command -v ") + util);
      std::string path = where.output;
      while (!path.empty() && path.back() == '\n') path.pop_back();
      if (where.exit_code == 0 && path.front() == '/' && !fs::exists(root_ / "bin" / util)) {
        fs::create_symlink(path, root_ / "bin" / util);
      }
    }
    return Shell("env -i PATH=" + ShellQuote(r + "/bin") + " SYSFS_ROOT=" + ShellQuote(r + "/sys") +
                 " DEV_ROOT=" + ShellQuote(r + "/dev") + " PROC_ROOT=" + ShellQuote(r + "/proc") +
                 " CONTAINER_ENGINE=podman " + Bash() + " " + ShellQuote(script));
  }
  static std::string Bash() {
    ShellResult r = Shell("command -v bash");
    while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
    return r.output;
  }

  fs::path root_;
};

void ExpectNoShellErrors(const std::string& out) {
  EXPECT_EQ(out.find("command not found"), std::string::npos) << out;
  EXPECT_EQ(out.find("syntax error"), std::string::npos) << out;
  EXPECT_EQ(out.find("unbound variable"), std::string::npos) << out;
}

TEST_F(PreflightFixture, AllChecksPassOnAReadyLaptop) {
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("all checks passed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ok    kind v0.23.0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ok    helm v3.15.1+g1234"), std::string::npos) << r.output;
  ExpectNoShellErrors(r.output);
}

TEST_F(PreflightFixture, AVmWithoutNestedVirtualisationFailsWithTheFix) {
  fs::remove_all(root_ / "sys/module/kvm_intel");
  Write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 hypervisor\n");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("without nested virtualisation"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("FIX: on the outer host: echo 'options kvm_intel nested=1'"),
            std::string::npos)
      << r.output;
  ExpectNoShellErrors(r.output);
}

TEST_F(PreflightFixture, NestedOffInsideAVmFails) {
  Write("sys/module/kvm_intel/parameters/nested", "N\n");
  Write("proc/cpuinfo", "flags\t\t: fpu vmx hypervisor\n");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("kvm_intel nested=N inside a VM"), std::string::npos) << r.output;
}

TEST_F(PreflightFixture, NestedOffOnBareMetalIsOnlyANote) {
  Write("sys/module/kvm_intel/parameters/nested", "N\n");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warn  kvm_intel loaded, nested=N"), std::string::npos) << r.output;
}

TEST_F(PreflightFixture, MissingKvmAndVhostModulesNameTheModprobeFix) {
  fs::remove(root_ / "dev/kvm");
  fs::remove_all(root_ / "sys/module/vhost_vsock");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  /dev/kvm missing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("FIX: sudo modprobe vhost_vsock"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FIX: sudo modprobe vhost_net"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 check(s) failed"), std::string::npos) << r.output;
}

TEST_F(PreflightFixture, OldOrMissingToolsFailWithWhereToGetThem) {
  Tool("helm", "echo 'v3.7.2+gabc'");
  fs::remove(root_ / "bin/kind");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  helm v3.7.2+gabc is older than 3.8.0"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("FAIL  kind not found on PATH"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("FIX: install kind >= 0.20.0"), std::string::npos) << r.output;
  ExpectNoShellErrors(r.output);
}

// On this machine, as it is: whatever passes or fails, each FAIL is followed by a FIX
// line and the script exits 0 or 1 without a shell error.
TEST(Preflight, RunsOnThisMachineAndNamesAFixForEveryFailure) {
  const ShellResult r =
      Shell("bash " + ShellQuote(SourceDir() + "/kind-cluster/scripts/preflight.sh"));
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.output;
  size_t fails = 0;
  size_t fixes = 0;
  for (size_t p = 0; (p = r.output.find("\nFAIL  ", p)) != std::string::npos; ++p) ++fails;
  if (r.output.rfind("FAIL  ", 0) == 0) ++fails;
  for (size_t p = 0; (p = r.output.find("FIX: ", p)) != std::string::npos; ++p) ++fixes;
  EXPECT_EQ(fails, fixes) << r.output;
  EXPECT_EQ(r.exit_code == 0, fails == 0) << r.output;
  ExpectNoShellErrors(r.output);
  RecordProperty("preflight_failures", static_cast<int>(fails));
}

// kind-up stops at a failed preflight with the FIX, before touching anything.
TEST(KindUp, StopsAtAFailedPreflightWithoutCreatingAnything) {
  const std::string pf = SourceDir() + "/kind-cluster/scripts/preflight.sh";
  if (Shell("bash " + ShellQuote(pf) + " >/dev/null").exit_code == 0) {
    GTEST_SKIP() << "preflight passes on this machine; kind-up would create a real cluster";
  }
  const ShellResult r =
      Shell("bash " + ShellQuote(SourceDir() + "/kind-cluster/scripts/kind-up.sh"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("kind-up.sh: FAILED: preflight checks failed"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("+ kind create cluster"), std::string::npos) << r.output;
  ExpectNoShellErrors(r.output);
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing

namespace sandwatch::harness::kube::testing {
namespace {

// images/build: bad flags exit 2 naming the flag; missing binaries name the FIX.
TEST(ImagesBuildScript, BadInputIsAOneLineErrorWithTheFix) {
  const std::string script = ShellQuote(SourceDir() + "/images/build");
  const ShellResult bad = Shell("bash " + script + " --speed 3");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("unknown argument '--speed'"), std::string::npos) << bad.output;
  const ShellResult only = Shell("bash " + script + " --only nope --engine podman");
  EXPECT_EQ(only.exit_code, 2) << only.output;
  EXPECT_NE(only.output.find("--only: unknown image 'nope'"), std::string::npos) << only.output;
  const ShellResult engine = Shell("bash " + script + " --engine rkt");
  EXPECT_EQ(engine.exit_code, 2) << engine.output;
  EXPECT_NE(engine.output.find("--engine must be podman or docker"), std::string::npos);
  const ShellResult missing =
      Shell("bash " + script + " --engine podman --only sensor --build-dir /nonexistent-sw");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent-sw/bin/sandwatch-sensor not found. FIX: make build"),
            std::string::npos)
      << missing.output;
  const ShellResult help = Shell("bash " + script + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Examples:"), std::string::npos) << help.output;
  EXPECT_EQ(help.output.find("set -euo"), std::string::npos) << help.output;
}

TEST(KindScripts, HelpAndBadArguments) {
  for (const char* s : {"preflight.sh", "kind-up.sh", "kind-down.sh", "credentials.sh"}) {
    const std::string path = ShellQuote(SourceDir() + "/kind-cluster/scripts/" + s);
    const ShellResult help = Shell("bash " + path + " --help");
    EXPECT_EQ(help.exit_code, 0) << s << help.output;
    EXPECT_NE(help.output.find("Usage:"), std::string::npos) << s << help.output;
    const ShellResult bad = Shell("bash " + path + " --frobnicate");
    EXPECT_EQ(bad.exit_code, 2) << s << bad.output;
    EXPECT_NE(bad.output.find("unknown argument --frobnicate"), std::string::npos) << bad.output;
  }
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing

namespace sandwatch::harness::kube::testing {
namespace {

// kind-up.sh and kind-down.sh, past the preflight, with kind, helm, kubectl and podman
// replaced by recorders on PATH: the golden sequence of what they run, in order.
class KindUpSequence : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-kindup-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "bin");
    // Each tool appends its argv to the log. `kind get clusters` lists what was created.
    Tool("kind",
         "if [ \"$1 $2\" = 'get clusters' ]; then cat \"$SW_ROOT/clusters\" 2>/dev/null; exit 0; "
         "fi\n"
         "if [ \"$1 $2\" = 'create cluster' ]; then echo sandwatch >> \"$SW_ROOT/clusters\"; fi\n"
         "if [ \"$1 $2\" = 'delete cluster' ]; then rm -f \"$SW_ROOT/clusters\"; fi");
    Tool("helm", "");
    Tool("kubectl", "");
    Tool("podman", "if [ \"$1\" = save ]; then : > \"$3\"; fi");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Tool(const std::string& name, const std::string& body) {
    std::ofstream(root_ / "bin" / name)
        << "#!/bin/sh\necho \"" << name << " $*\" >> \"$SW_ROOT/log\"\n"
        << body << "\nexit 0\n";
    fs::permissions(root_ / "bin" / name, fs::perms::owner_all);
  }
  ShellResult Run(const std::string& script) {
    const std::string r = root_.string();
    return Shell("SW_ROOT=" + ShellQuote(r) + " PATH=" + ShellQuote(r + "/bin") +
                 ":/usr/bin:/bin SKIP_PREFLIGHT=1 CONTAINER_ENGINE=podman TMPDIR=" + ShellQuote(r) +
                 " bash " + ShellQuote(SourceDir() + "/kind-cluster/scripts/" + script));
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
  EXPECT_NE(up.output.find("kind-up: cluster sandwatch is ready."), std::string::npos) << up.output;
  const ShellResult down = Run("kind-down.sh");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  const std::string golden = SourceDir() + "/harness/tests/kube/golden/kind-up-down.commands.txt";
  if (std::getenv("SANDWATCH_UPDATE_GOLDEN") != nullptr) std::ofstream(golden) << Log();
  EXPECT_EQ(Log(), ReadFile(golden)) << "rerun with SANDWATCH_UPDATE_GOLDEN=1 if intended";
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing

namespace sandwatch::harness::kube::testing {
namespace {

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
  EXPECT_NE(file.find("\nkata-app-*    " + kata + "\n"), std::string::npos) << file;
  EXPECT_NE(file.find("\nnormal-app-*  " + normal + "\n"), std::string::npos) << file;
  EXPECT_NE(file.find("\n@falco        " + falco + "\n"), std::string::npos) << file;
  const std::string argv_log = ReadFile((root_ / "log").string());
  for (const std::string& t : {kata, normal, falco}) {
    EXPECT_EQ(argv_log.find(t), std::string::npos) << "a token was in a command line";
  }
  EXPECT_NE(argv_log.find("-n falco create secret generic sandwatch-falcosidekick-credential"),
            std::string::npos)
      << argv_log;

  Tool("kubectl", "");  // the Secrets exist now: a re-run keeps them
  const ShellResult again = Run("credentials.sh");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("keeping them"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
