#include "sandwatch/core/event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sandwatch/core/ids.h"

namespace sandwatch {
namespace {

using nlohmann::json;

Event SampleEvent() {
  Event e;
  e.id = NewUuid();
  e.seq = 17;
  e.time_ns = 1'795'856'400'123'456'789;
  e.rule = "shadow_file_access";
  e.priority = Priority::kWarning;
  e.output = "cat read /etc/shadow";
  e.tags = {"mitre_credential_access", "T1003.008"};
  e.sensor = {"s-1", "kata", "poll", "0.1.0"};
  e.pod = "kata-app";
  e.ns = "kata-demo";
  e.hostname = "h";
  e.process = ProcessRef{123, 1, 99, "cat", "/usr/bin/cat", {"cat", "/etc/shadow"}, 0, "/"};
  e.parent = AncestorRef{1, "bash", {"bash"}};
  e.ancestors = {{1, "bash", {}}};
  e.file_path = "/etc/shadow";
  e.connection = ConnectionRef{"tcp", "127.0.0.1:5000", "127.0.0.1:4444"};
  e.detection = DetectionInfo{"poll", 3.2};
  e.fields = {{"suppressed", "4"}};
  return e;
}

TEST(Event, RoundTripsThroughJson) {
  Event e = SampleEvent();
  auto back = EventFromJson(json::parse(EventToJsonLine(e)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->id, e.id);
  EXPECT_EQ(back->seq, 17u);
  EXPECT_EQ(back->time_ns, e.time_ns);
  EXPECT_EQ(back->rule, e.rule);
  EXPECT_EQ(back->priority, Priority::kWarning);
  EXPECT_EQ(back->process->cmdline, e.process->cmdline);
  EXPECT_EQ(back->process->uid, 0);
  EXPECT_EQ(back->parent->name, "bash");
  EXPECT_EQ(*back->file_path, "/etc/shadow");
  EXPECT_EQ(back->connection->remote, "127.0.0.1:4444");
  EXPECT_DOUBLE_EQ(*back->detection->lag_ms, 3.2);
  EXPECT_EQ(back->pod, "kata-app");
  EXPECT_EQ(back->fields.at("suppressed"), "4");
}

TEST(Event, MatchesTheContractShape) {
  json j = EventToJson(SampleEvent());
  EXPECT_EQ(j["schema"], "sandwatch.event/v1");
  EXPECT_EQ(j["k8s"]["namespace"], "kata-demo");
  EXPECT_EQ(j["sensor"]["capture"], "poll");
  EXPECT_EQ(j["file"]["path"], "/etc/shadow");
  EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
}

TEST(Event, RejectsWrongTypesNamingTheField) {
  json j = EventToJson(SampleEvent());
  j["process"]["cmdline"] = json::array({"cat", 5});
  auto r = EventFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "process.cmdline[1]: expected a string");

  json k = EventToJson(SampleEvent());
  k["seq"] = "seventeen";
  EXPECT_EQ(EventFromJson(k).error().message, "seq: expected an integer");

  json m = EventToJson(SampleEvent());
  m.erase("rule");
  EXPECT_EQ(EventFromJson(m).error().message, "rule: required field is missing");

  EXPECT_FALSE(EventFromJson(json::array()).ok());
}

TEST(Event, RejectsBadPriorityAndOversizedStrings) {
  json j = EventToJson(SampleEvent());
  j["priority"] = "Panic";
  EXPECT_FALSE(EventFromJson(j).ok());
  json k = EventToJson(SampleEvent());
  k["output"] = std::string(kMaxStringBytes + 1, 'x');
  EXPECT_FALSE(EventFromJson(k).ok());
}

TEST(Event, RefusesIntegersAboveInt64MaxInsteadOfWrappingThem) {
  json j = EventToJson(SampleEvent());
  j["process"]["uid"] = 18446744073709551615ULL;
  EXPECT_EQ(EventFromJson(j).error().message, "process.uid: integer out of range");
  j = EventToJson(SampleEvent());
  j["seq"] = 9223372036854775808ULL;
  EXPECT_EQ(EventFromJson(j).error().message, "seq: integer out of range");
  j["seq"] = 9223372036854775807ULL;
  ASSERT_TRUE(EventFromJson(j).ok());
  EXPECT_EQ(EventFromJson(j)->seq, 9223372036854775807ULL);
}

TEST(Event, KeepsAttackerTextVerbatim) {
  Event e = SampleEvent();
  e.process->cmdline = {"sh", "-c", "<script>alert(1)</script>\n\"quoted\""};
  auto back = EventFromJson(json::parse(EventToJsonLine(e)));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->process->cmdline[2], "<script>alert(1)</script>\n\"quoted\"");
}

TEST(Priority, AcceptsFalcoNamesAndAliases) {
  EXPECT_EQ(ParsePriority("warning"), Priority::kWarning);
  EXPECT_EQ(ParsePriority("Info"), Priority::kInformational);
  EXPECT_EQ(ParsePriority("CRITICAL"), Priority::kCritical);
  EXPECT_FALSE(ParsePriority("loud").has_value());
}

TEST(Heartbeat, RoundTripsCounters) {
  Heartbeat h;
  h.sensor = {"s-1", "kata", "poll", "0.1.0"};
  h.time_ns = 1'795'856'400'000'000'000;
  h.last_seq = 9;
  h.interval_s = 15;
  h.counters = {{"scans", 40}, {"cmdline_unreadable", 2}};
  auto back = HeartbeatFromJson(HeartbeatToJson(h));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->last_seq, 9u);
  EXPECT_EQ(back->counters.at("cmdline_unreadable"), 2);
  json bad = HeartbeatToJson(h);
  bad["counters"]["scans"] = "many";
  EXPECT_EQ(HeartbeatFromJson(bad).error().message, "counters.scans: expected an integer");
}

TEST(Heartbeat, RoundTripsTheCaptureSourcesThatStartedAndFailed) {
  Heartbeat h;
  h.sensor = {"s-1", "sidecar", "inotify", "0.1.0"};
  h.capture_active = {"inotify"};
  h.capture_failed = {{"fanotify", "fanotify_init: Operation not permitted"}};
  json j = HeartbeatToJson(h);
  EXPECT_EQ(j["capture"]["active"], json::array({"inotify"}));
  auto back = HeartbeatFromJson(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->capture_active, std::vector<std::string>{"inotify"});
  EXPECT_EQ(back->capture_failed.at("fanotify"), "fanotify_init: Operation not permitted");
  j["capture"]["failed"]["fanotify"] = 3;
  EXPECT_EQ(HeartbeatFromJson(j).error().message, "capture.failed.fanotify: expected a string");
  j.erase("capture");  // older sensors send none
  EXPECT_TRUE(HeartbeatFromJson(j).ok());
}

TEST(Uuid, IsVersion4) {
  std::string id = NewUuid();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_NE(id, NewUuid());
}

}  // namespace
}  // namespace sandwatch
