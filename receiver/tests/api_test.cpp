// The whole API over real HTTP on loopback, with a real SQLite file.
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "sandwatch/receiver/store.h"
#include "store_test_util.h"
#include "test_util.h"

namespace sandwatch::receiver::testing {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(RECEIVER_TEST_DATA_DIR) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    recv_ = StartOrDie(TestConfig(dir_.File("events.db")));
    ASSERT_TRUE(recv_);
    client_ = ClientFor(*recv_);
  }
  httplib::Result Post(const std::string& path, const std::string& body) {
    return client_->Post(path.c_str(), body, "application/json");
  }
  TempDir dir_;
  std::unique_ptr<Receiver> recv_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiTest, HealthzAndUi) {
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok");
  auto ui = client_->Get("/");
  ASSERT_TRUE(ui);
  EXPECT_EQ(ui->status, 200);
  EXPECT_NE(ui->get_header_value("Content-Type").find("text/html"), std::string::npos);
  std::string csp = ui->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(ui->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(ui->body.find("<script src=\"app.js\""), std::string::npos);
  EXPECT_NE(ui->body.find("<script src=\"timeline.js\""), std::string::npos);
  for (const char* path : {"/app.js", "/timeline.js"}) {
    auto js = client_->Get(path);
    ASSERT_TRUE(js) << path;
    EXPECT_EQ(js->status, 200) << path;
    EXPECT_NE(js->get_header_value("Content-Type").find("javascript"), std::string::npos) << path;
  }
  auto missing = client_->Get("/nope.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ApiTest, BatchIsStoredOnceAndQueriedNewestFirst) {
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 100; ++i) {
    Event e = MakeEvent(i);
    e.time_ns += static_cast<int64_t>(i) * 1000;
    events.push_back(e);
  }
  auto r = Post("/events", Batch(events));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(json::parse(r->body), (json{{"accepted", 100}, {"duplicates", 0}}));
  r = Post("/events", Batch(events));  // a retry is idempotent
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body), (json{{"accepted", 0}, {"duplicates", 100}}));
  json page = GetJson(*client_, "/api/events?limit=10");
  EXPECT_EQ(page["statistics"]["all"], 100);
  EXPECT_EQ(page["statistics"]["returned"], 10);
  EXPECT_EQ(page["results"][0]["id"], events[99].id);
  EXPECT_EQ(page["results"][0]["seq"], 100);
  json page2 = GetJson(*client_, "/api/events?limit=10&page=2");
  EXPECT_EQ(page2["results"][0]["seq"], 90);
  json asc = GetJson(*client_, "/api/events?limit=1&order=asc");
  EXPECT_EQ(asc["results"][0]["seq"], 1);
  // The canonical JSON round-trips through core's strict parser.
  EXPECT_TRUE(EventFromJson(page["results"][0]).ok());
}

TEST_F(ApiTest, SingleEventObject) {
  Event e = MakeEvent(1);
  auto r = Post("/events", EventToJsonLine(e));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  json got = GetJson(*client_, "/api/events?id=" + e.id);
  ASSERT_EQ(got["statistics"]["all"], 1);
  EXPECT_EQ(got["results"][0]["process"]["cmdline"][1], "/etc/shadow");
}

TEST_F(ApiTest, FiltersByEveryParameter) {
  std::vector<Event> ev;
  Event a = MakeEvent(1, "shadow_file_access", "sensor-a", "pod-a");
  Event b = MakeEvent(2, "nc_execution", "sensor-a", "pod-a");
  b.priority = Priority::kCritical;
  b.output = "nc -e /bin/sh 127.0.0.1 4444";
  b.process->cmdline = {"nc", "-e", "/bin/sh"};
  Event c = MakeEvent(1, "nc_execution", "sensor-b", "pod-b");
  c.ns = "other-ns";
  c.hostname = "node-2";
  c.time_ns -= 3LL * 3600 * 1'000'000'000;  // three hours ago
  ev = {a, b, c};
  ASSERT_EQ(Post("/events", Batch(ev))->status, 202);
  ASSERT_EQ(Post("/falco", ReadData("falco_terminal_shell.json"))->status, 202);
  EXPECT_EQ(CountAll(*client_), 4);
  EXPECT_EQ(CountAll(*client_, "&rule=nc_execution"), 2);
  EXPECT_EQ(CountAll(*client_, "&rule=nc_execution,shadow_file_access"), 3);
  EXPECT_EQ(CountAll(*client_, "&priority=Critical"), 1);
  EXPECT_EQ(CountAll(*client_, "&min_priority=Warning"), 3);
  EXPECT_EQ(CountAll(*client_, "&pod=pod-a"), 2);  // read from the rows, then from the index
  ASSERT_TRUE(
      WaitFor([&] { return MetricValue(*client_, "sandwatch_receiver_pod_index_backlog") == 0; }));
  EXPECT_EQ(CountAll(*client_, "&pod=pod-a"), 2);
  EXPECT_EQ(CountAll(*client_, "&namespace=other-ns"), 1);
  EXPECT_EQ(CountAll(*client_, "&sensor=sensor-b"), 1);
  EXPECT_EQ(CountAll(*client_, "&hostname=node-2"), 1);
  EXPECT_EQ(CountAll(*client_, "&tags=mitre_credential_access"), 3);
  EXPECT_EQ(CountAll(*client_, "&tags=mitre_credential_access,nope"), 0);
  EXPECT_EQ(CountAll(*client_, "&source=falco"), 1);
  EXPECT_EQ(CountAll(*client_, "&source=sandwatch"), 3);
  EXPECT_EQ(CountAll(*client_, "&since=2h&source=sandwatch"), 2);
  EXPECT_EQ(CountAll(*client_, "&until=1h&source=sandwatch"), 1);
  EXPECT_EQ(CountAll(*client_, "&filter=4444"), 1);            // FTS5 words
  EXPECT_EQ(CountAll(*client_, "&filter=NC%20-E%20/BIN"), 1);  // case-insensitive phrase
  EXPECT_EQ(CountAll(*client_, "&filter=nc"), 2);              // word prefix: nc_execution
  EXPECT_EQ(CountAll(*client_, "&filter=/etc/sha"), 3);        // path prefix
  EXPECT_EQ(CountAll(*client_, "&filter=uptime"), 1);          // Falco cmdline
  EXPECT_EQ(CountAll(*client_, "&filter=%25_"), 0);            // no words: LIKE, wildcards literal
  // falcosidekick-ui's path works too.
  json j = GetJson(*client_, "/api/v1/events/search?rule=nc_execution&pod=pod-a");
  EXPECT_EQ(j["statistics"]["all"], 1);
  EXPECT_EQ(j["statistics"]["all_capped"], false);
  int status = 0;
  json err = GetJson(*client_, "/api/events?since=soon", &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(err["error"].get<std::string>().find("since"), std::string::npos);
}

TEST_F(ApiTest, TextFilterGivesTheSameAnswerBeforeAndAfterIndexing) {
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 300; ++i) {
    Event e = MakeEvent(i);
    if (i % 3 == 0) e.process->cmdline = {"ncat", "--exec", "/bin/sh", "127.0.0.1", "4444"};
    if (i == 7 || i == 151 || i == 298) e.process->cmdline = {"needle-zq"};  // few: sorted
    events.push_back(e);
  }
  // Newest first: 298, 151, 7 (the same whether read from the index or the unindexed rows).
  const std::vector<std::string> needles = {events[297].id, events[150].id, events[6].id};
  auto ids_of = [&](const std::string& q) {
    std::vector<std::string> ids;
    const json page = GetJson(*client_, "/api/events?" + q);
    for (const auto& r : page["results"]) ids.push_back(r["id"]);
    return ids;
  };
  ASSERT_EQ(Post("/events", Batch(events))->status, 202);
  int64_t before = CountAll(*client_, "&filter=ncat%20--exec");
  // A short last word is a prefix: "e" matches "exec", "4" matches "4444".
  int64_t short_prefix_before = CountAll(*client_, "&filter=ncat%20-e");
  int64_t one_letter_before = CountAll(*client_, "&filter=4");
  int64_t no_match_before = CountAll(*client_, "&filter=ncat%20-q");
  json page_before = GetJson(*client_, "/api/events?filter=ncat&limit=5");
  EXPECT_EQ(ids_of("filter=needle-zq"), needles);
  // The writer indexes in the background; wait until nothing is pending.
  ASSERT_TRUE(WaitFor([&] {
    auto m = client_->Get("/metrics");
    return m && m->body.find("sandwatch_receiver_fts_backlog 0\n") != std::string::npos;
  }));
  EXPECT_EQ(before, 100);
  EXPECT_EQ(CountAll(*client_, "&filter=ncat%20--exec"), 100);
  EXPECT_EQ(CountAll(*client_, "&filter=NCAT&rule=shadow_file_access"), 100);
  EXPECT_EQ(short_prefix_before, 100);
  EXPECT_EQ(CountAll(*client_, "&filter=ncat%20-e"), 100);
  EXPECT_EQ(CountAll(*client_, "&filter=4"), one_letter_before);
  EXPECT_GE(one_letter_before, 100);
  EXPECT_EQ(no_match_before, 0);
  EXPECT_EQ(CountAll(*client_, "&filter=ncat%20-q"), 0);
  json page_after = GetJson(*client_, "/api/events?filter=ncat&limit=5");
  EXPECT_EQ(page_before["results"], page_after["results"]);
  EXPECT_EQ(ids_of("filter=needle-zq"), needles);
  EXPECT_EQ(ids_of("filter=needle-zq&limit=1&page=2"), std::vector<std::string>{needles[1]});
}

TEST_F(ApiTest, FalcoAndFalcosidekickPayloadsAreStoredAsFalco) {
  auto r = Post("/falco", ReadData("falco_terminal_shell.json"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  r = Post("/", ReadData("falcosidekick_webhook.json"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(json::parse(r->body)["accepted"], 1);
  r = Post("/", ReadData("falcosidekick_webhook.json"));  // Falcosidekick retry
  EXPECT_EQ(json::parse(r->body)["duplicates"], 1);
  r = Post("/falco", ReadData("falco_write_below_binary.json"));
  r = Post("/falco", ReadData("falco_write_below_binary.json"));  // Falco has no id: hashed
  EXPECT_EQ(json::parse(r->body)["duplicates"], 1);
  json k = GetJson(*client_, "/api/events?source=falco&pod=kubecon");
  ASSERT_EQ(k["statistics"]["all"], 1);
  EXPECT_EQ(k["results"][0]["id"], "4f3f2a57-3c0a-4f8e-9f0e-6c1b2d3e4f50");
  EXPECT_EQ(k["results"][0]["k8s"]["namespace"], "default");
  EXPECT_EQ(k["results"][0]["process"]["name"], "sh");
  EXPECT_EQ(k["results"][0]["parent"]["name"], "runc");
  json all = GetJson(*client_, "/api/events?source=falco&namespace=default");
  EXPECT_EQ(all["statistics"]["all"], 2);
  json file = GetJson(*client_, "/api/events?rule=Write%20below%20binary%20dir");
  EXPECT_EQ(file["results"][0]["file"]["path"], "/bin/hack");
}

TEST_F(ApiTest, MetricsCountIngestDuplicatesAndRejections) {
  ASSERT_EQ(Post("/events", Batch({MakeEvent(1), MakeEvent(2)}))->status, 202);
  ASSERT_EQ(Post("/events", "{nope")->status, 400);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("sandwatch_receiver_events_ingested_total{source=\"sandwatch\",rule="
                         "\"shadow_file_access\"} 2"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("sandwatch_receiver_rejected_total{reason=\"malformed_json\"} 1"),
            std::string::npos);
  EXPECT_NE(m->body.find("sandwatch_receiver_events_stored 2"), std::string::npos);
  EXPECT_NE(m->body.find("sandwatch_receiver_db_size_bytes "), std::string::npos);
  EXPECT_NE(m->body.find("sandwatch_receiver_ingest_latency_seconds_count 1"), std::string::npos);
}

TEST_F(ApiTest, MetricsEscapeAttackerControlledLabels) {
  Event e = MakeEvent(1, "evil\"} 1\nsandwatch_receiver_sensors{status=\"alive\"} 99\\");
  ASSERT_EQ(Post("/events", Batch({e}))->status, 202);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(
      m->body.find(R"(rule="evil\"} 1\nsandwatch_receiver_sensors{status=\"alive\"} 99\\"} 1)"),
      std::string::npos)
      << m->body;
  EXPECT_EQ(m->body.find("\nsandwatch_receiver_sensors{status=\"alive\"} 99"), std::string::npos);
}

TEST(ApiRestart, NothingIsLostAcrossARestart) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  cfg.sync_full = true;
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 500; ++i) events.push_back(MakeEvent(i));
  {
    auto r = StartOrDie(cfg);
    ASSERT_TRUE(r);
    auto c = ClientFor(*r);
    for (size_t i = 0; i < events.size(); i += 100) {
      std::vector<Event> part(events.begin() + static_cast<long>(i),
                              events.begin() + static_cast<long>(i + 100));
      auto res = c->Post("/events", Batch(part), "application/json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 202);
    }
    r->Stop();
  }
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  EXPECT_EQ(CountAll(*c), 500);
  auto res = c->Post("/events", Batch(events), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["duplicates"], 500);
  json s = GetJson(*c, "/api/sensors");
  ASSERT_EQ(s["sensors"].size(), 1u);
  EXPECT_EQ(s["sensors"][0]["events"], 500);
  EXPECT_EQ(s["sensors"][0]["seq_gaps"], 0);
}

TEST(ApiMemory, InMemoryDatabaseWorks) {
  auto r = StartOrDie(TestConfig(":memory:"));
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  ASSERT_EQ(c->Post("/events", Batch({MakeEvent(1)}), "application/json")->status, 202);
  EXPECT_EQ(CountAll(*c), 1);
  EXPECT_EQ(CountAll(*c, "&filter=shadow"), 1);
}

TEST(ApiRetention, MaxEventsKeepsTheNewest) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  cfg.retention_max_events = 10;
  cfg.retention_check_s = 0.05;
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 30; ++i) {
    Event e = MakeEvent(i);
    e.time_ns += static_cast<int64_t>(i) * 1'000'000;
    events.push_back(e);
  }
  ASSERT_EQ(c->Post("/events", Batch(events), "application/json")->status, 202);
  EXPECT_TRUE(WaitFor([&] { return CountAll(*c) == 10; }));
  json oldest = GetJson(*c, "/api/events?order=asc&limit=1");
  EXPECT_EQ(oldest["results"][0]["seq"], 21);
}

TEST(ApiRetention, DeletedEventsLeaveTheTextIndex) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 30; ++i) {
    Event e = MakeEvent(i);
    e.time_ns += static_cast<int64_t>(i) * 1'000'000;
    events.push_back(e);
  }
  {
    auto r = StartOrDie(cfg);
    ASSERT_TRUE(r);
    auto c = ClientFor(*r);
    ASSERT_EQ(c->Post("/events", Batch(events), "application/json")->status, 202);
    ASSERT_TRUE(WaitFor([&] {
      auto m = c->Get("/metrics");
      return m && m->body.find("sandwatch_receiver_fts_backlog 0\n") != std::string::npos;
    }));
  }
  cfg.retention_max_events = 10;
  cfg.retention_check_s = 0.05;
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  ASSERT_TRUE(WaitFor([&] { return CountAll(*c) == 10; }));
  // A text-only filter is counted in the FTS index: deleted rows must have left it.
  EXPECT_EQ(CountAll(*c, "&filter=shadow"), 10);
  EXPECT_EQ(GetJson(*c, "/api/events?filter=shadow&order=asc&limit=1")["results"][0]["seq"], 21);
}

TEST(ApiRetention, AgeDropsOldEvents) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  cfg.retention_age_ns = 24LL * 3600 * 1'000'000'000;
  cfg.retention_check_s = 0.05;
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  Event old_event = MakeEvent(1);
  old_event.time_ns -= 2LL * 24 * 3600 * 1'000'000'000;
  ASSERT_EQ(c->Post("/events", Batch({old_event, MakeEvent(2)}), "application/json")->status, 202);
  EXPECT_TRUE(WaitFor([&] { return CountAll(*c) == 1; }));
  EXPECT_EQ(CountAll(*c, "&id=" + old_event.id), 0);
}

// A text index from an older version (no prefix lists) is dropped and rebuilt in the
// background on start-up, and answers the same afterwards.
TEST(ApiTextIndex, AnIndexWithoutPrefixListsIsRebuilt) {
  TempDir dir;
  ReceiverConfig cfg = TestConfig(dir.File("events.db"));
  auto indexed = [](httplib::Client& c) {
    return WaitFor([&] {
      auto m = c.Get("/metrics");
      return m && m->body.find("sandwatch_receiver_fts_backlog 0\n") != std::string::npos;
    });
  };
  std::vector<Event> events;
  for (uint64_t i = 1; i <= 30; ++i) {
    Event e = MakeEvent(i);
    if (i % 3 == 0) e.process->cmdline = {"ncat", "--exec", "/bin/sh"};
    events.push_back(e);
  }
  {
    auto r = StartOrDie(cfg);
    ASSERT_TRUE(r);
    auto c = ClientFor(*r);
    ASSERT_EQ(c->Post("/events", Batch(events), "application/json")->status, 202);
    ASSERT_TRUE(indexed(*c));
  }
  // The index file of an older build: the same words, no prefix lists.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(cfg.db.c_str(), &db), SQLITE_OK);
  const std::string damage =
      "ATTACH '" + TextIndexPath(cfg.db) +
      "' AS textidx; DROP TABLE textidx.events_fts; CREATE VIRTUAL TABLE "
      "textidx.events_fts USING fts5(search, content='', tokenize='unicode61 "
      "remove_diacritics 2', detail='none', columnsize=0); INSERT INTO "
      "textidx.events_fts(rowid, search) SELECT n, search FROM events;";
  ASSERT_EQ(sqlite3_exec(db, damage.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto r = StartOrDie(cfg);
  ASSERT_TRUE(r);
  auto c = ClientFor(*r);
  ASSERT_TRUE(indexed(*c));
  EXPECT_EQ(CountAll(*c, "&filter=ncat%20-e"), 10);
  EXPECT_EQ(CountAll(*c, "&filter=ncat%20--exec%20/b"), 10);
  EXPECT_EQ(QueryInt(TextIndexPath(cfg.db),
                     "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                     "'events_fts' AND sql LIKE '%prefix=''1 2''%'"),
            1);
}

}  // namespace
}  // namespace sandwatch::receiver::testing
