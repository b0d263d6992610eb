// The sidecar without privileges against 1 ms processes from dropped binaries:
// a private PID namespace with a pod's default capability set, the sensor in
// MODE=sidecar CAPTURE=auto, a directory made under /tmp after start with one
// static and one dynamic binary, each run 300 times (8 in flight) by
// short_spawn with no shell. pspy runs beside it when it is available.
// Asserts on counts only: >= 270 of 300 of each, and never fewer than pspy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "sidecar_compare.h"

namespace {

using sandwatch::sensor::testing::CountSidecarRun;
using sandwatch::sensor::testing::FindPspy;
using sandwatch::sensor::testing::RunSidecarComparison;
using sandwatch::sensor::testing::SidecarRun;
using sandwatch::sensor::testing::SidecarSetup;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

TEST(UnprivilegedSidecar, CatchesOneMsStaticAndDynamicDroppedBinaries) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make the private PID namespace";
  for (const char* tool : {"/usr/bin/unshare", "/usr/sbin/capsh", "/usr/bin/gcc"}) {
    if (!Executable(tool)) GTEST_SKIP() << tool << " missing (scripts/install-deps)";
  }
  const std::string src = Env("SANDWATCH_SOURCE_DIR", "");
  const std::string bin = Env("SANDWATCH_BIN_DIR", ".");
  if (src.empty()) GTEST_SKIP() << "SANDWATCH_SOURCE_DIR not set (run through ctest)";
  const std::string sensor = bin + "/sandwatch-sensor";
  const std::string spawn = bin + "/short_spawn";
  if (!Executable(sensor) || !Executable(spawn)) GTEST_SKIP() << "build sandwatch-sensor first";

  std::string tmpl = "/tmp/sw-unpriv-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  SidecarSetup setup;
  setup.source_dir = src;
  setup.bin_dir = bin;
  setup.workdir = tmpl;
  setup.pspy = FindPspy(src);
  const std::string error = RunSidecarComparison(setup);
  if (error.find("gcc -static") != std::string::npos) GTEST_SKIP() << error;
  ASSERT_TRUE(error.empty()) << error;
  const std::string& pspy = setup.pspy;
  const std::string out = setup.workdir + "/run";
  SidecarRun run = CountSidecarRun(out);
  ASSERT_TRUE(run.error.empty()) << run.error;

  EXPECT_EQ(run.capture, "inotify+poll") << "MODE=sidecar CAPTURE=auto without privileges";
  EXPECT_EQ(run.static_bin.runs, 300);
  EXPECT_EQ(run.dynamic_bin.runs, 300);
  EXPECT_GE(run.static_bin.sensor, 270) << "static runs reported";
  EXPECT_GE(run.dynamic_bin.sensor, 270) << "dynamic runs reported";
  if (pspy.empty()) {
    std::cout << "pspy not found next to the clone (../shared/peers/pspy): compared with nothing\n";
  } else {
    ASSERT_TRUE(run.pspy_ran);
    EXPECT_GE(run.static_bin.sensor, run.static_bin.pspy) << "static: never fewer than pspy";
    EXPECT_GE(run.dynamic_bin.sensor, run.dynamic_bin.pspy) << "dynamic: never fewer than pspy";
  }
  std::cout << "static: sensor " << run.static_bin.sensor << "/" << run.static_bin.runs << ", pspy "
            << run.static_bin.pspy << "; dynamic: sensor " << run.dynamic_bin.sensor << "/"
            << run.dynamic_bin.runs << ", pspy " << run.dynamic_bin.pspy << "\n";
  if (!HasFailure()) std::system(("rm -rf " + setup.workdir).c_str());
}

}  // namespace
