// Every kind of bad request gets a 4xx JSON error, nothing is stored, and the
// server keeps serving.
#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ReceiverConfig cfg = TestConfig(dir_.File("events.db"));
    recv_ = StartOrDie(cfg);
    ASSERT_TRUE(recv_);
    client_ = ClientFor(*recv_);
  }
  // Posts `body`, expects `status` with a JSON {"error": ...}, and nothing stored.
  void ExpectRejected(const std::string& path, const std::string& body, int status,
                      const std::string& error_part = "") {
    auto r = client_->Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, status) << path << " " << body.substr(0, 80);
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
    EXPECT_NE(j["error"].get<std::string>().find(error_part), std::string::npos) << r->body;
    EXPECT_EQ(CountAll(*client_), 0);
    auto h = client_->Get("/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  }
  TempDir dir_;
  std::unique_ptr<Receiver> recv_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(BadInputTest, MalformedJson) {
  for (const char* path : {"/events", "/heartbeat", "/falco", "/"}) {
    ExpectRejected(path, "{\"id\": ", 400, "malformed JSON");
    ExpectRejected(path, "", 400, "malformed JSON");
    ExpectRejected(path, std::string(5000, '['), 400, "nested");
  }
}

TEST_F(BadInputTest, WrongTypesAndMissingFields) {
  json e = EventToJson(MakeEvent(1));
  json bad = e;
  bad["seq"] = "1";
  ExpectRejected("/events", bad.dump(), 400, "seq: expected an integer");
  bad = e;
  bad["process"]["cmdline"] = {"sh", 5};
  ExpectRejected("/events", bad.dump(), 400, "process.cmdline[1]");
  bad = e;
  bad.erase("id");
  ExpectRejected("/events", bad.dump(), 400, "id");
  bad = e;
  bad["time"] = "yesterday";
  ExpectRejected("/events", bad.dump(), 400, "time");
  bad = e;
  bad["schema"] = "other/v9";
  ExpectRejected("/events", bad.dump(), 400, "schema");
  ExpectRejected("/events", "[1,2]", 400, "[0]");
  // One bad event rejects the whole batch: the good one is not stored either.
  json batch = json::array({EventToJson(MakeEvent(1)), json{{"id", "x"}}});
  ExpectRejected("/events", batch.dump(), 400, "[1]");
  ExpectRejected("/heartbeat", json{{"sensor", {{"id", "s"}}}, {"time", 5}}.dump(), 400, "time");
  ExpectRejected("/heartbeat", json{{"time", "2026-11-28T09:00:00Z"}}.dump(), 400, "sensor");
  ExpectRejected("/falco", json{{"priority", "Error"}}.dump(), 400, "rule");
  ExpectRejected("/", json{{"rule", "r"}, {"priority", "Loudest"}}.dump(), 400, "priority");
}

TEST_F(BadInputTest, BodiesOverOneMebibyte) {
  json e = EventToJson(MakeEvent(1));
  e["output"] = std::string(60000, 'x');
  json batch = json::array();
  for (int i = 0; i < 20; ++i) {
    e["id"] = NewUuid();
    batch.push_back(e);
  }
  std::string body = batch.dump();
  ASSERT_GT(body.size(), 1u << 20);
  for (const char* path : {"/events", "/heartbeat", "/falco"}) {
    ExpectRejected(path, body, 413, "1 MiB");
  }
  auto m = client_->Get("/metrics");
  EXPECT_NE(m->body.find("sandwatch_receiver_rejected_total{reason=\"too_large\"} 3"),
            std::string::npos);
}

TEST(Auth, PostsNeedTheBearerToken) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  cfg.token = "s3cret-token";
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  std::string body = Batch({MakeEvent(1)});
  for (const char* path : {"/events", "/heartbeat", "/falco", "/"}) {
    auto res = c->Post(path, body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_TRUE(json::parse(res->body).contains("error"));
    httplib::Headers wrong = {{"Authorization", "Bearer s3cret-tokeX"}};
    res = c->Post(path, wrong, body, "application/json");
    EXPECT_EQ(res->status, 401) << path;
    httplib::Headers basic = {{"Authorization", "Basic s3cret-token"}};
    res = c->Post(path, basic, body, "application/json");
    EXPECT_EQ(res->status, 401) << path;
  }
  EXPECT_EQ(CountAll(*c), 0);
  c->set_bearer_token_auth("s3cret-token");
  auto res = c->Post("/events", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  EXPECT_EQ(CountAll(*c), 1);
  auto m = c->Get("/metrics");
  EXPECT_NE(m->body.find("sandwatch_receiver_rejected_total{reason=\"unauthorized\"} 12"),
            std::string::npos);
}

TEST(Auth, UiTokenGuardsTheReadApi) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  cfg.ui_token = "look";
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  for (const char* path : {"/api/events", "/api/sensors", "/metrics", "/api/stream"}) {
    auto res = c->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
  }
  EXPECT_EQ(c->Get("/healthz")->status, 200);
  EXPECT_EQ(c->Get("/")->status, 200);  // static assets hold no data
  EXPECT_EQ(c->Get("/api/events?token=look")->status, 200);
  EXPECT_EQ(c->Get("/api/events?token=nope")->status, 401);
  c->set_bearer_token_auth("look");
  EXPECT_EQ(c->Get("/api/sensors")->status, 200);
}

TEST(Start, RefusesAPortInUseAndABadDatabase) {
  TempDir dir;
  auto first = StartOrDie(TestConfig(dir.File("a.db")));
  ASSERT_TRUE(first);
  ReceiverConfig cfg = TestConfig(dir.File("b.db"));
  cfg.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = Receiver::Start(cfg);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("--listen"), std::string::npos);
  std::ofstream(dir.File("junk.db")) << std::string(8192, 'j');
  auto junk = Receiver::Start(TestConfig(dir.File("junk.db")));
  EXPECT_FALSE(junk.ok());
}

}  // namespace
}  // namespace sandwatch::receiver::testing
