#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sandwatch/receiver/ingest.h"

namespace sandwatch::receiver {
namespace {

using nlohmann::json;

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(RECEIVER_TEST_DATA_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr int64_t kNow = 1'800'000'000'000'000'000;

TEST(ParseFalcoBody, FalcoJsonOutputWithKubernetesFields) {
  auto r = ParseFalcoBody(ReadData("falco_terminal_shell.json"), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const Event& e = (*r)[0];
  EXPECT_EQ(e.source, "falco");
  EXPECT_EQ(e.rule, "Terminal shell in container");
  EXPECT_EQ(e.priority, Priority::kNotice);
  EXPECT_EQ(e.pod, "alpine-deployment-77789455d6-m7flp");
  EXPECT_EQ(e.ns, "default");
  ASSERT_TRUE(e.process.has_value());
  EXPECT_EQ(e.process->name, "sh");
  EXPECT_EQ(e.process->cmdline, (std::vector<std::string>{"sh", "-c", "uptime"}));
  ASSERT_TRUE(e.parent.has_value());
  EXPECT_EQ(e.parent->name, "runc");
  EXPECT_EQ(e.fields.at("container.id"), "788861c3cf83");
  EXPECT_EQ(e.fields.at("proc.tty"), "34816");
  EXPECT_EQ(e.time_ns, 1623612958532086161);
  EXPECT_EQ(e.id.rfind("falco-", 0), 0u);
}

TEST(ParseFalcoBody, SameAlertTwiceGetsTheSameId) {
  auto a = ParseFalcoBody(ReadData("falco_write_below_binary.json"), kNow);
  auto b = ParseFalcoBody(ReadData("falco_write_below_binary.json"), kNow + 5);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].id, (*b)[0].id);
  EXPECT_EQ((*a)[0].file_path.value_or(""), "/bin/hack");
  EXPECT_EQ((*a)[0].hostname, "localhost");
  EXPECT_EQ((*a)[0].priority, Priority::kError);
  auto c = ParseFalcoBody(ReadData("falco_terminal_shell.json"), kNow);
  EXPECT_NE((*a)[0].id, (*c)[0].id);
}

TEST(ParseFalcoBody, FalcosidekickWebhookUsesItsUuid) {
  auto r = ParseFalcoBody(ReadData("falcosidekick_webhook.json"), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Event& e = (*r)[0];
  EXPECT_EQ(e.id, "4f3f2a57-3c0a-4f8e-9f0e-6c1b2d3e4f50");
  EXPECT_EQ(e.pod, "kubecon");
  EXPECT_EQ(e.hostname, "falco-xczjd");
  EXPECT_EQ(e.fields.at("falco.source"), "syscall");
  EXPECT_EQ(e.fields.count("fd.name"), 0u);  // null fields are dropped
  EXPECT_FALSE(e.file_path.has_value());
  EXPECT_EQ(e.tags.size(), 3u);
}

TEST(ParseFalcoBody, FalcosidekickUiWrapperAndArrays) {
  json alert = json::parse(ReadData("falcosidekick_webhook.json"));
  json wrapped{{"event", alert}, {"outputs", {"WebUI"}}};
  auto r = ParseFalcoBody(wrapped.dump(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)[0].pod, "kubecon");
  auto arr = ParseFalcoBody(
      json::array({alert, json::parse(ReadData("falco_terminal_shell.json"))}).dump(), kNow);
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(arr->size(), 2u);
}

TEST(ParseFalcoBody, SocketFdBecomesAConnection) {
  json alert{{"rule", "Outbound Connection"},
             {"priority", "Informational"},
             {"time", "2024-01-01T00:00:00Z"},
             {"output_fields",
              {{"fd.name", "10.0.0.2:41234->93.184.216.34:443"},
               {"fd.l4proto", "tcp"},
               {"proc.name", "curl"}}}};
  auto r = ParseFalcoBody(alert.dump(), kNow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE((*r)[0].connection.has_value());
  EXPECT_EQ((*r)[0].connection->remote, "93.184.216.34:443");
  EXPECT_EQ((*r)[0].connection->proto, "tcp");
  EXPECT_EQ((*r)[0].priority, Priority::kInformational);
}

TEST(ParseFalcoBody, TimeFallsBackToEvtTimeThenNow) {
  json alert{{"rule", "r"},
             {"priority", "Debug"},
             {"time", "yesterday"},
             {"output_fields", {{"evt.time", 1507591916746609046}}}};
  auto r = ParseFalcoBody(alert.dump(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].time_ns, 1507591916746609046);
  alert.erase("output_fields");
  r = ParseFalcoBody(alert.dump(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].time_ns, kNow);
}

TEST(ParseFalcoBody, RejectsBadAlerts) {
  json good = json::parse(ReadData("falco_write_below_binary.json"));
  struct Case {
    const char* field;
    json value;
  };
  for (const Case& c : {Case{"rule", nullptr}, Case{"rule", 5}, Case{"priority", "Loud"},
                        Case{"priority", nullptr}, Case{"output_fields", "x"}, Case{"tags", "x"},
                        Case{"time", 7}, Case{"hostname", json::array()}}) {
    json bad = good;
    if (c.value.is_null())
      bad.erase(c.field);
    else
      bad[c.field] = c.value;
    auto r = ParseFalcoBody(bad.dump(), kNow);
    EXPECT_FALSE(r.ok()) << c.field << " = " << c.value.dump();
  }
  EXPECT_FALSE(ParseFalcoBody("{", kNow).ok());
  EXPECT_FALSE(ParseFalcoBody("\"alert\"", kNow).ok());
  EXPECT_FALSE(ParseFalcoBody("[{\"rule\":\"x\"}]", kNow).ok());
}

}  // namespace
}  // namespace sandwatch::receiver
