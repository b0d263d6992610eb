#include "sandwatch/receiver/ingest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sandwatch/core/ids.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

json ValidEvent(uint64_t seq = 1) {
  return json{{"schema", "sandwatch.event/v1"},
              {"id", NewUuid()},
              {"seq", seq},
              {"time", "2026-11-28T09:00:00.123456789Z"},
              {"rule", "shadow_file_access"},
              {"priority", "Warning"},
              {"output", "cat /etc/shadow"},
              {"sensor", {{"id", "s1"}, {"mode", "kata"}, {"capture", "poll"}}},
              {"k8s", {{"pod", "kata-app"}, {"namespace", "kata-demo"}}},
              {"process", {{"pid", 5}, {"name", "cat"}, {"cmdline", {"cat", "/etc/shadow"}}}}};
}

TEST(ParseEventsBody, AcceptsOneEventOrAnArray) {
  auto one = ParseEventsBody(ValidEvent().dump());
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].pod, "kata-app");
  auto many = ParseEventsBody(json::array({ValidEvent(1), ValidEvent(2), ValidEvent(3)}).dump());
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 3u);
  EXPECT_EQ((*many)[2].seq, 3u);
}

TEST(ParseEventsBody, RejectsMalformedJson) {
  for (const char* body : {"", "{", "[1,", "not json", "{\"id\":}"}) {
    auto r = ParseEventsBody(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().message, "malformed JSON") << body;
  }
}

TEST(ParseEventsBody, NamesTheBadFieldAndItsIndex) {
  json bad = ValidEvent();
  bad["seq"] = "seventeen";
  auto r = ParseEventsBody(json::array({ValidEvent(), bad}).dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "[1] seq: expected an integer");
  json no_rule = ValidEvent();
  no_rule.erase("rule");
  r = ParseEventsBody(no_rule.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("rule"), std::string::npos);
  r = ParseEventsBody("42");
  ASSERT_FALSE(r.ok());
  r = ParseEventsBody("[42]");
  ASSERT_FALSE(r.ok());
}

TEST(ParseEventsBody, RefusesDeepNestingBeforeParsing) {
  std::string deep(100000, '[');
  auto r = ParseEventsBody(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested"), std::string::npos);
  // Brackets inside strings do not count.
  json e = ValidEvent();
  e["output"] = std::string(1000, '[');
  EXPECT_TRUE(ParseEventsBody(e.dump()).ok());
}

TEST(ParseEventsBody, RefusesOversizedBatches) {
  json arr = json::array();
  for (size_t i = 0; i <= kMaxBatchEvents; ++i) arr.push_back(1);
  auto r = ParseEventsBody(arr.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("10000"), std::string::npos);
}

TEST(ParseHeartbeatBody, ParsesAndValidates) {
  json hb{{"schema", "sandwatch.heartbeat/v1"},
          {"sensor", {{"id", "s1"}, {"mode", "kata"}}},
          {"time", "2026-11-28T09:00:00Z"},
          {"last_seq", 7},
          {"interval_s", 15},
          {"counters", {{"scans", 3}, {"events_dropped", 0}}}};
  auto r = ParseHeartbeatBody(hb.dump());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sensor.id, "s1");
  EXPECT_EQ(r->last_seq, 7u);
  EXPECT_EQ(r->counters.at("scans"), 3);
  hb["counters"]["scans"] = "three";
  EXPECT_FALSE(ParseHeartbeatBody(hb.dump()).ok());
  hb.erase("sensor");
  EXPECT_FALSE(ParseHeartbeatBody(hb.dump()).ok());
  EXPECT_FALSE(ParseHeartbeatBody("[]").ok());
}

TEST(SearchText, CoversTheFieldsPeopleSearchFor) {
  auto r = ParseEventsBody(ValidEvent().dump());
  ASSERT_TRUE(r.ok());
  std::string s = SearchText((*r)[0]);
  for (const char* part :
       {"shadow_file_access", "cat /etc/shadow", "kata-app", "kata-demo", "s1"}) {
    EXPECT_NE(s.find(part), std::string::npos) << part;
  }
}

}  // namespace
}  // namespace sandwatch::receiver
