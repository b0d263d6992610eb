// ReceiverClient over an injected HttpClient: paging, ordering, duplicates, bad
// entries and the /api/sensors shapes. The real client (cpp-httplib against a real
// receiver on loopback) is exercised by the kube run test.
#include "sandwatch/harness/receiver_client.h"

#include <gtest/gtest.h>

#include <string>

#include "fake_kube.h"

namespace sandwatch::harness::kube::testing {
namespace {

nlohmann::json EventJson(const std::string& id, int64_t time_ns) {
  Event e;
  e.id = id;
  e.rule = "Read sensitive file untrusted";
  e.time_ns = time_ns;
  return EventToJson(e);
}

constexpr const char* kBase = "http://127.0.0.1:8080";

TEST(ReceiverClient, FetchAllPagesSortsDropsDuplicatesAndKeepsBadEntries) {
  FakeHttp http;
  nlohmann::json page1 = nlohmann::json::array();
  for (int i = 0; i < 999; ++i) page1.push_back(EventJson("e" + std::to_string(i), 5000 - i));
  page1.push_back({{"not", "an event"}});  // a full page: 1000 results
  nlohmann::json page2 = nlohmann::json::array({EventJson("e0", 5000), EventJson("late", 1)});
  http.routes[std::string(kBase) + "/api/events?limit=1000&page=1&source=falco"] = {
      200, nlohmann::json{{"results", page1}}.dump()};
  http.routes[std::string(kBase) + "/api/events?limit=1000&page=2&source=falco"] = {
      200, nlohmann::json{{"results", page2}}.dump()};

  auto got = ReceiverClient(kBase, http).FetchAll("source=falco");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(http.calls.size(), 2u) << "a short page ends the paging";
  ASSERT_EQ(got->events.size(), 1000u) << "999 + late; the repeated e0 is dropped";
  EXPECT_EQ(got->events.front().id, "late");
  EXPECT_EQ(got->events.back().id, "e0");
  for (size_t i = 1; i < got->events.size(); ++i) {
    EXPECT_LE(got->events[i - 1].time_ns, got->events[i].time_ns);
  }
  ASSERT_EQ(got->raw.size(), 1001u);
  EXPECT_EQ(got->raw.back(), (nlohmann::json{{"not", "an event"}})) << "kept, at the end";
}

TEST(ReceiverClient, ErrorsNameTheRequest) {
  FakeHttp http;
  ReceiverClient client(kBase, http);
  EXPECT_FALSE(client.Healthy());
  auto down = client.FetchAll();
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().message.find("/api/events?limit=1000&page=1"), std::string::npos);

  http.routes[std::string(kBase) + "/healthz"] = {200, "ok"};
  EXPECT_TRUE(client.Healthy());
  http.routes[std::string(kBase) + "/api/events?limit=1000&page=1"] = {401, R"({"error":"x"})"};
  auto denied = client.FetchAll();
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("HTTP 401"), std::string::npos) << denied.error().message;
  http.routes[std::string(kBase) + "/api/events?limit=1000&page=1"] = {200, "{\"results\":"};
  auto cut = client.FetchAll();
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("no results array"), std::string::npos);
}

TEST(ReceiverClient, SensorsInEveryShapeTheReceiverAnswers) {
  FakeHttp http;
  ReceiverClient client(kBase, http);
  http.routes[std::string(kBase) + "/api/sensors"] = {
      200, R"({"sensors":[{"id":"a","capture":"netlink","mode":"kata","k8s":{"pod":"kata-app"}},)"
           R"({"id":"b","pod":"normal-app","k8s":{"pod":"ignored"}},{"capture":"no id"},)"
           R"({"id":7}]})"};
  auto sensors = client.Sensors();
  ASSERT_TRUE(sensors.ok()) << sensors.error().message;
  ASSERT_EQ(sensors->size(), 2u);
  EXPECT_EQ((*sensors)[0].id, "a");
  EXPECT_EQ((*sensors)[0].pod, "kata-app");
  EXPECT_EQ((*sensors)[0].capture, "netlink");
  EXPECT_EQ((*sensors)[0].mode, "kata");
  EXPECT_EQ((*sensors)[1].pod, "normal-app");
  EXPECT_EQ((*sensors)[1].mode, "") << "a sensor that names no mode";
  EXPECT_EQ(ParseSensorList(R"([{"id":"x"}])").size(), 1u);
  EXPECT_EQ(ParseSensorList(R"({"results":[{"id":"x"},{"id":"y"}]})").size(), 2u);
  EXPECT_TRUE(ParseSensorList("not json").empty());
  http.routes[std::string(kBase) + "/api/sensors"] = {503, ""};
  EXPECT_FALSE(client.Sensors().ok());
}

}  // namespace
}  // namespace sandwatch::harness::kube::testing
