#include "sandwatch/core/cli.h"

#include <gtest/gtest.h>

#include <vector>

#include "sandwatch/core/ids.h"

namespace sandwatch {
namespace {

std::optional<int> Parse(CLI::App& app, std::vector<const char*> argv) {
  argv.insert(argv.begin(), "tool");
  return ParseCommandLine(app, static_cast<int>(argv.size()), argv.data(), "sandwatch-tool",
                          " (see --help)");
}

TEST(Cli, VersionPrintsBinaryAndVersionAndExitsZero) {
  CLI::App app{"a tool"};
  AddVersionFlag(app, "sandwatch-tool");
  ::testing::internal::CaptureStdout();
  auto rc = Parse(app, {"--version"});
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0);
  EXPECT_EQ(out, "sandwatch-tool " + std::string(Version()) + "\n");
  EXPECT_EQ(VersionText("x"), "x " + std::string(Version()));
}

TEST(Cli, HelpExitsZeroAndBadFlagsExitTwoWithTheBinaryName) {
  CLI::App app{"a tool that teaches"};
  int n = 0;
  app.add_option("--count", n, "how many");
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Parse(app, {"--help"}).value_or(-1), 0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("a tool that teaches"),
            std::string::npos);

  CLI::App app2;
  app2.add_option("--count", n, "how many");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Parse(app2, {"--count", "many"}).value_or(-1), 2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind("sandwatch-tool: ", 0), 0u) << err;
  EXPECT_NE(err.find("(see --help)\n"), std::string::npos) << err;
}

TEST(Cli, CallbacksRunAndTheirExitCodesPassThrough) {
  CLI::App app;
  app.require_subcommand(1, 1);
  int ran = 0;
  app.add_subcommand("ok", "succeeds")->callback([&] { ++ran; });
  app.add_subcommand("fail", "gives up")->callback([] { throw CLI::RuntimeError(3); });
  EXPECT_FALSE(Parse(app, {"ok"}).has_value());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(Parse(app, {"fail"}).value_or(-1), 3);
}

}  // namespace
}  // namespace sandwatch
