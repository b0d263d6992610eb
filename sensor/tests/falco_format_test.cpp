#include "sandwatch/sensor/falco_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sandwatch/sensor/output.h"

namespace sandwatch::sensor {
namespace {

TEST(FalcoFormat, HasWhatFalcosidekickNeeds) {
  Event e;
  e.id = "0b6c4a7e-1111-4222-8333-444455556666";
  e.seq = 3;
  e.time_ns = 1'795'856'400'123'456'789;
  e.rule = "shadow_file_access";
  e.priority = Priority::kWarning;
  e.output = "Sensitive file /etc/shadow accessed (proc=cat)";
  e.tags = {"mitre_credential_access", "T1003.008"};
  e.pod = "kata-app";
  e.ns = "kata-demo";
  e.hostname = "node-1";
  e.process = ProcessRef{123, 1, 0, "cat", "/usr/bin/cat", {"cat", "/etc/shadow"}, 0, "/"};
  e.parent = AncestorRef{1, "bash", {"bash"}};
  e.file_path = "/etc/shadow";
  auto j = nlohmann::json::parse(FormatEvent(e, OutputFormat::kFalco));
  EXPECT_EQ(j["rule"], "shadow_file_access");
  EXPECT_EQ(j["priority"], "Warning");
  EXPECT_EQ(j["source"], "syscall");
  EXPECT_EQ(j["hostname"], "node-1");
  EXPECT_EQ(j["time"], "2026-11-28T09:00:00.123456789Z");
  EXPECT_NE(j["output"].get<std::string>().find("Warning Sensitive file"), std::string::npos);
  const auto& f = j["output_fields"];
  ASSERT_TRUE(f.is_object());
  EXPECT_EQ(f["proc.name"], "cat");
  EXPECT_EQ(f["proc.cmdline"], "cat /etc/shadow");
  EXPECT_EQ(f["proc.pname"], "bash");
  EXPECT_EQ(f["fd.name"], "/etc/shadow");
  EXPECT_EQ(f["k8s.pod.name"], "kata-app");
  EXPECT_EQ(f["k8s.ns.name"], "kata-demo");
  EXPECT_EQ(f["evt.time"], e.time_ns);
  auto tags = j["tags"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(tags.begin(), tags.end(), "T1003.008"), tags.end());
  EXPECT_NE(std::find(tags.begin(), tags.end(), "sandwatch"), tags.end());
  // The sandwatch format is the core schema.
  auto s = nlohmann::json::parse(FormatEvent(e, OutputFormat::kSandwatch));
  EXPECT_EQ(s["schema"], "sandwatch.event/v1");
  EXPECT_TRUE(EventFromJson(s).ok());
}

}  // namespace
}  // namespace sandwatch::sensor
