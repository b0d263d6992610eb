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
    std::string tmpl = "/tmp/sw-preflight-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    // A bare-metal Intel laptop with everything in place.
    Write("sys/module/kvm_intel/parameters/nested", "Y\n");
    fs::create_directories(root_ / "sys/module/vhost_net");
    fs::create_directories(root_ / "sys/module/vhost_vsock");
    Write("dev/kvm", "");
    Write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme vmx sse2\n");
    Write("proc/meminfo", "MemTotal:       16318480 kB\nMemFree:         9000000 kB\n");
    Write("sys/kernel/btf/vmlinux", "");
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
  ShellResult Run(const std::string& env = "") {
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
                 " CONTAINER_ENGINE=podman " + env + " " + Bash() + " " + ShellQuote(script));
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

// Falco's modern eBPF driver needs BTF; without it host Falco would see nothing.
TEST_F(PreflightFixture, MissingBtfFailsNamingFalcosDriver) {
  fs::remove(root_ / "sys/kernel/btf/vmlinux");
  const ShellResult r = Run();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("btf/vmlinux missing: Falco's modern eBPF driver cannot load"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("FIX: boot a kernel built with CONFIG_DEBUG_INFO_BTF=y"),
            std::string::npos)
      << r.output;
}

// The node's /dev/shm must hold a Kata VM's RAM, and the host must have that RAM.
TEST_F(PreflightFixture, ShmSmallerThanKataMemoryOrTooLittleRamFails) {
  EXPECT_NE(Run().output.find("ok    node /dev/shm will be 4608 MiB"), std::string::npos);
  const ShellResult small = Run("NODE_SHM_MIB=64");
  EXPECT_EQ(small.exit_code, 1) << small.output;
  EXPECT_NE(small.output.find("NODE_SHM_MIB=64 is less than Kata's default_memory (2048 MiB)"),
            std::string::npos)
      << small.output;
  Write("proc/meminfo", "MemTotal:        2000000 kB\n");
  const ShellResult ram = Run();
  EXPECT_EQ(ram.exit_code, 1) << ram.output;
  EXPECT_NE(ram.output.find("1953 MiB of RAM: one Kata VM"), std::string::npos) << ram.output;
  ExpectNoShellErrors(ram.output);
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
