// RenderCellManifest: the scenario's sensor settings go into the blog's env names,
// nothing else changes, and bad input is a clear error.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "../../src/kube/kube_internal.h"
#include "sandwatch/harness/format.h"
#include "test_util.h"

namespace sandwatch::harness::kube::testing {
namespace {

std::string Golden(const std::string& overlay) {
  return ReadFile(SourceDir() + "/harness/tests/kube/golden/" + overlay + ".yaml");
}

std::string EnvValue(const YAML::Node& pod, const std::string& name) {
  for (const auto& c : pod["spec"]["containers"]) {
    if (c["name"].as<std::string>() != "sensor") continue;
    for (const auto& e : c["env"]) {
      if (e["name"].as<std::string>() == name) return e["value"].as<std::string>("<valueFrom>");
    }
  }
  return "<absent>";
}

TEST(CellManifest, ReplacesValuesNotNames) {
  SensorSettings sensor;
  sensor.poll_interval_s = 0.05;
  sensor.heartbeat_interval_s = 1;
  sensor.expected_processes = {"sleep", "sh"};
  sensor.capture = "inotify";
  auto out =
      RenderCellManifest(Golden("normal-app"), "normal-app", sensor, "r1", "runc-blog-default-r0");
  ASSERT_TRUE(out.ok()) << out.error().message;
  const YAML::Node pod = YAML::Load(*out);
  EXPECT_EQ(EnvValue(pod, "POLL_INTERVAL"), "0.05");
  EXPECT_EQ(EnvValue(pod, "HEARTBEAT_INTERVAL"), "1");
  EXPECT_EQ(EnvValue(pod, "EXPECTED_PROCESSES"), "sleep,sh");
  EXPECT_EQ(EnvValue(pod, "CAPTURE"), "inotify");
  EXPECT_EQ(EnvValue(pod, "MODE"), "sidecar");
  EXPECT_EQ(EnvValue(pod, "RECEIVER_URL"),
            "http://kata-receiver.kata-demo.svc.cluster.local/events");
  EXPECT_EQ(EnvValue(pod, "POD_NAME"), "<valueFrom>");
  EXPECT_EQ(pod["metadata"]["labels"]["sandwatch.dev/cell"].as<std::string>(),
            "runc-blog-default-r0");
  EXPECT_EQ(pod["metadata"]["labels"]["app"].as<std::string>(), "normal-app");
  EXPECT_FALSE(pod["spec"]["runtimeClassName"]);
}

TEST(CellManifest, EmptyExpectedProcessesKeepsTheBlogsSleep) {
  SensorSettings sensor;
  sensor.capture = "";
  auto out = RenderCellManifest(Golden("kata-app"), "kata-app", sensor, "", "");
  ASSERT_TRUE(out.ok());
  const YAML::Node pod = YAML::Load(*out);
  EXPECT_EQ(EnvValue(pod, "EXPECTED_PROCESSES"), "sleep");
  EXPECT_EQ(EnvValue(pod, "CAPTURE"), "<absent>");
  EXPECT_EQ(pod["spec"]["runtimeClassName"].as<std::string>(), "kata-qemu");
}

TEST(CellManifest, BadInputIsAClearError) {
  const auto render = [](const std::string& yaml) {
    return RenderCellManifest(yaml, "kata-app", SensorSettings{}, "", "");
  };
  auto wrong = render(Golden("normal-app"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("named 'normal-app', expected 'kata-app'"),
            std::string::npos);
  auto many = render(Golden("cluster"));
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message.find("expected exactly one Pod"), std::string::npos);
  auto junk = render("a: [b\n");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("does not parse"), std::string::npos);
  auto nosensor = render(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: kata-app}\nspec: {containers: [{name: app}]}\n");
  ASSERT_FALSE(nosensor.ok());
  EXPECT_NE(nosensor.error().message.find("no 'sensor' container"), std::string::npos);
}

TEST(CellManifest, SecondsValuesAreShortestRoundTrip) {
  EXPECT_EQ(FormatSeconds(2), "2");
  EXPECT_EQ(FormatSeconds(0.05), "0.05");
  EXPECT_EQ(FormatSeconds(0.1), "0.1");
  EXPECT_EQ(FormatSeconds(15), "15");
  EXPECT_EQ(FormatSeconds(1.5), "1.5");
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
