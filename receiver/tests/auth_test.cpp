// Per-sensor credentials over real HTTP: a wrong token, a right token for the wrong sensor,
// a batch with one foreign event, prefix credentials and the Falco credential. Every refusal
// stores nothing and is counted in /metrics and in /api/sensors.
#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

const std::string kTokA = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0";
const std::string kTokB = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";
const std::string kTokPod = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
const std::string kTokFalco = "f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3";

class SensorCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("sensor-tokens"))
        << "# test credentials\nsensor-a " << kTokA << "\nsensor-b " << kTokB << "\nkata-app-* "
        << kTokPod << "\n@falco " << kTokFalco << "\n";
    ReceiverConfig c = TestConfig(dir_.File("events.db"));
    c.sensor_tokens = dir_.File("sensor-tokens");
    receiver_ = StartOrDie(c);
    ASSERT_TRUE(receiver_);
    client_ = ClientFor(*receiver_);
  }

  // POST with `token` ("" = none); the status, or -1.
  int Post(const std::string& path, const std::string& body, const std::string& token,
           std::string* answer = nullptr) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto res = client_->Post(path.c_str(), h, body, "application/json");
    if (!res) return -1;
    if (answer) *answer = res->body;
    return res->status;
  }

  std::string Metrics() {
    auto res = client_->Get("/metrics");
    return res ? res->body : "";
  }

  TempDir dir_;
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<httplib::Client> client_;
};

std::string HeartbeatFor(const std::string& sensor_id) {
  Heartbeat hb;
  hb.sensor = {sensor_id, "sidecar", "poll", "0.1.0"};
  hb.time_ns = SystemClock().WallNs();
  hb.interval_s = 600;
  hb.pod = "kata-app";
  hb.ns = "kata-demo";
  return HeartbeatToJson(hb).dump();
}

TEST_F(SensorCredentials, AMissingOrWrongTokenIs401AndStoresNothing) {
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1)}), ""), 401);
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1)}), kTokA + "x"), 401);
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor("sensor-a"), "s3cret-but-not-listed"), 401);
  EXPECT_EQ(CountAll(*client_), 0);
  EXPECT_NE(Metrics().find("sandwatch_receiver_rejected_total{reason=\"unauthorized\"} 3"),
            std::string::npos);
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1, "shadow_file_access", "sensor-a")}), kTokA), 202);
  EXPECT_EQ(CountAll(*client_), 1);
}

TEST_F(SensorCredentials, ARightTokenForTheWrongSensorIs403AndShowsInTheSensorsPanel) {
  ASSERT_EQ(Post("/heartbeat", HeartbeatFor("sensor-a"), kTokA), 202);
  std::string answer;
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor("sensor-a"), kTokB, &answer), 403);
  EXPECT_NE(answer.find("sensor.id \\\"sensor-a\\\" is not covered"), std::string::npos) << answer;
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1, "shadow_file_access", "sensor-a")}), kTokB), 403);
  // An id nobody has seen: refused, and listed apart (escaped: it is attacker-written).
  const std::string odd = "<img src=x onerror=alert(1)>\"";
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor(odd), kTokB), 403);
  EXPECT_EQ(CountAll(*client_), 0);

  std::string m = Metrics();
  EXPECT_NE(m.find("sandwatch_receiver_rejected_total{reason=\"forbidden\"} 3"), std::string::npos)
      << m;
  EXPECT_NE(m.find("sandwatch_receiver_refused_total{sensor=\"sensor-a\"} 2"), std::string::npos);
  EXPECT_NE(
      m.find("sandwatch_receiver_refused_total{sensor=\"<img src=x onerror=alert(1)>\\\"\"} 1"),
      std::string::npos)
      << m;

  json sensors = GetJson(*client_, "/api/sensors");
  ASSERT_EQ(sensors["sensors"].size(), 1u) << "a refused heartbeat creates no sensor";
  json a = sensors["sensors"][0];
  EXPECT_EQ(a["id"], "sensor-a");
  EXPECT_EQ(a["refused"], 2);
  EXPECT_FALSE(a["last_refused"].is_null());
  bool warned = false;
  for (const auto& w : a["warnings"])
    warned |= w.get<std::string>().find("refused") != std::string::npos;
  EXPECT_TRUE(warned) << a.dump();
  ASSERT_EQ(sensors["refused_unknown"].size(), 1u);
  EXPECT_EQ(sensors["refused_unknown"][0]["id"], odd);
  EXPECT_EQ(sensors["refused_unknown"][0]["refused"], 1);
}

TEST_F(SensorCredentials, OneForeignEventRefusesTheWholeBatch) {
  std::string answer;
  auto batch = Batch({MakeEvent(1, "shadow_file_access", "sensor-b"),
                      MakeEvent(2, "shadow_file_access", "sensor-b"),
                      MakeEvent(1, "unexpected_shell", "sensor-a")});
  EXPECT_EQ(Post("/events", batch, kTokB, &answer), 403);
  EXPECT_NE(answer.find("[2] sensor.id"), std::string::npos) << answer;
  EXPECT_EQ(CountAll(*client_), 0) << "nothing of a refused batch is stored";
}

TEST_F(SensorCredentials, APrefixCredentialCoversAPodsGeneratedIds) {
  for (const char* id : {"kata-app-7f3a01bc", "kata-app-0c11d2e9"}) {
    EXPECT_EQ(Post("/events", Batch({MakeEvent(1, "unexpected_shell", id)}), kTokPod), 202) << id;
    EXPECT_EQ(Post("/heartbeat", HeartbeatFor(id), kTokPod), 202) << id;
  }
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1, "unexpected_shell", "kata-ap")}), kTokPod), 403);
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor("runc-app-1"), kTokPod), 403);
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor("kata-app-1"), kTokA), 403);
  EXPECT_EQ(CountAll(*client_), 2);
  EXPECT_EQ(GetJson(*client_, "/api/sensors")["sensors"].size(), 2u);
}

TEST_F(SensorCredentials, FalcoHasItsOwnCredentialInAHeaderOrTheFalcoPath) {
  std::ifstream in(std::string(RECEIVER_TEST_DATA_DIR) + "/falco_terminal_shell.json");
  std::string alert((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(alert.empty());
  // Falcosidekick's webhook sends the header (customHeaders).
  EXPECT_EQ(Post("/", alert, kTokFalco), 202);
  // Falco's http_output cannot: the token rides in the path, for /falco only.
  auto res = client_->Post(("/falco/" + kTokFalco).c_str(), alert, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  res = client_->Post(("/falco/" + kTokFalco + "0").c_str(), alert, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = client_->Post(("/events/" + kTokA).c_str(), Batch({MakeEvent(1)}), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << "a token in the path is for /falco only";
  // Each credential stays on its side.
  EXPECT_EQ(Post("/falco", alert, kTokA), 403);
  EXPECT_EQ(Post("/events", Batch({MakeEvent(1, "shadow_file_access", "sensor-a")}), kTokFalco),
            403);
  EXPECT_EQ(Post("/heartbeat", HeartbeatFor("@falco"), kTokFalco), 403);
  EXPECT_EQ(CountAll(*client_, "&source=falco"), 1) << "the same alert twice is one event";
  EXPECT_EQ(CountAll(*client_), 1);
}

}  // namespace
}  // namespace sandwatch::receiver::testing
