// Integration: the bulk lane (sensor writes and the writer at a lower CPU weight), the
// per-request CPU figures, and the text filter's prefix narrowed to the indexed words;
// a real receiver over loopback HTTP with a real SQLite file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sandwatch/core/procfs/thread_sched.h"
#include "sqlite_util.h"
#include "test_util.h"
#include "text_filter.h"

namespace sandwatch::receiver::testing {
namespace {

TEST(BulkLane, SensorWritesRunAtTheLowerWeightAndSearchesDoNot) {
  TempDir dir;
  ReceiverConfig config = TestConfig(dir.File("events.db"));
  config.bulk_nice = 4;
  config.server_timing = true;
  config.http_threads = 4;
  auto own = procfs::ThreadNice(0);
  ASSERT_TRUE(own.ok());
  auto r = StartOrDie(config);
  ASSERT_TRUE(r);
  auto client = ClientFor(*r);
  auto post = client->Post("/events", Batch({MakeEvent(1), MakeEvent(2)}), "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 202);
  auto get = client->Get("/api/events?limit=10");
  ASSERT_TRUE(get);
  ASSERT_EQ(get->status, 200);
  const std::string timing = get->get_header_value("Server-Timing");
  EXPECT_NE(timing.find("queue;dur="), std::string::npos) << timing;
  EXPECT_NE(timing.find("cpu;dur="), std::string::npos) << timing;
  EXPECT_NE(timing.find("cpu-wait;dur="), std::string::npos) << timing;

  const int expected = std::min(*own + 4, 19);
  auto bulk = procfs::ThreadsNamed("sw-http-bulk");
  EXPECT_EQ(bulk.size(), 2U);  // half of --http-threads
  for (int tid : bulk) EXPECT_EQ(*procfs::ThreadNice(tid), expected);
  auto interactive = procfs::ThreadsNamed("sw-http-worker");
  EXPECT_EQ(interactive.size(), 2U);
  for (int tid : interactive) EXPECT_EQ(*procfs::ThreadNice(tid), *own);
  auto writers = procfs::ThreadsNamed("sw-writer");
  ASSERT_FALSE(writers.empty());
  EXPECT_TRUE(std::any_of(writers.begin(), writers.end(),
                          [&](int tid) { return *procfs::ThreadNice(tid) == expected; }));

  EXPECT_GE(MetricValue(*client, "sandwatch_receiver_http_worker_requests_total{lane=\"bulk\"}"),
            1);
  EXPECT_GE(
      MetricValue(*client, "sandwatch_receiver_http_worker_requests_total{lane=\"interactive\"}"),
      1);
  EXPECT_GE(
      MetricValue(*client,
                  "sandwatch_receiver_http_worker_cpu_wait_seconds_count{lane=\"interactive\"}"),
      1);
  EXPECT_EQ(MetricValue(*client, "sandwatch_receiver_http_limit{name=\"bulk_nice\"}"), 4);
}

TEST(BulkLane, OffRunsEveryRequestInOnePoolWithoutTimingHeaders) {
  TempDir dir;
  ReceiverConfig config = TestConfig(dir.File("events.db"));
  config.bulk_nice = 0;
  config.http_threads = 3;
  auto r = StartOrDie(config);
  ASSERT_TRUE(r);
  auto client = ClientFor(*r);
  auto post = client->Post("/events", Batch({MakeEvent(1)}), "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 202);
  auto get = client->Get("/api/events");
  ASSERT_TRUE(get);
  EXPECT_FALSE(get->has_header("Server-Timing"));  // off unless asked for
  EXPECT_TRUE(procfs::ThreadsNamed("sw-http-bulk").empty());
  EXPECT_EQ(procfs::ThreadsNamed("sw-http-worker").size(), 3U);
  EXPECT_EQ(MetricValue(*client, "sandwatch_receiver_http_worker_requests_total{lane=\"bulk\"}"),
            0);
}

TEST(BulkLane, NiceOutsideItsRangeIsRefused) {
  ReceiverConfig config = TestConfig(":memory:");
  config.bulk_nice = 20;
  auto st = ValidateConfig(config);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--bulk-nice"), std::string::npos);
  config.bulk_nice = -1;
  EXPECT_FALSE(ValidateConfig(config).ok());
}

// A last word of 3 or more characters is looked up among the indexed words: alone, as a
// few alternatives, or kept as a prefix past 8; every form matches what a prefix matches,
// before and after the text index has caught up.
TEST(TextPrefix, NarrowedToIndexedWordsMatchesAsAPrefix) {
  TempDir dir;
  auto r = StartOrDie(TestConfig(dir.File("events.db")));
  ASSERT_TRUE(r);
  auto client = ClientFor(*r);
  std::vector<Event> events;
  auto add = [&](const std::string& output) {
    Event e = MakeEvent(events.size() + 1);
    e.output = output;
    events.push_back(e);
  };
  add("zqshadow only");
  add("zqshadowy and more");
  add("ZQSHADOWING loud");
  for (int i = 0; i < 12; ++i) add("token zqcred" + std::to_string(i));
  auto post = client->Post("/events", Batch(events), "application/json");
  ASSERT_TRUE(post);
  ASSERT_EQ(post->status, 202);
  auto check = [&] {
    EXPECT_EQ(CountAll(*client, "&filter=zqshadow"), 3);     // two longer words: alternatives
    EXPECT_EQ(CountAll(*client, "&filter=zqshadowy"), 1);    // no longer word: the word alone
    EXPECT_EQ(CountAll(*client, "&filter=ZqShAd"), 3);       // case-insensitive
    EXPECT_EQ(CountAll(*client, "&filter=zqshadow%20"), 1);  // a whole word, not a prefix
    EXPECT_EQ(CountAll(*client, "&filter=zqcred"), 12);      // 12 words: the prefix form
    EXPECT_EQ(CountAll(*client, "&filter=zqcred1"), 3);      // zqcred1, 10, 11
    EXPECT_EQ(CountAll(*client, "&filter=token%20zqcred1"), 3);
    EXPECT_EQ(CountAll(*client, "&filter=zqnothing"), 0);
    json page = GetJson(*client, "/api/events?filter=zqshad&limit=2&order=asc");
    ASSERT_EQ(page["results"].size(), 2U);
    EXPECT_EQ(page["results"][0]["output"], "zqshadow only");
  };
  check();  // some rows may not be indexed yet: those are tested one by one
  ASSERT_TRUE(WaitFor([&] { return MetricValue(*client, "sandwatch_receiver_fts_backlog") == 0; }));
  check();
}

// The FTS query itself, on a real SQLite text index with the receiver's tokenizer.
TEST(TextPrefix, QueryNamesTheIndexedWords) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_TRUE(Exec(db,
                   "ATTACH ':memory:' AS textidx;"
                   "CREATE VIRTUAL TABLE textidx.events_fts USING fts5(search, tokenize='unicode61 "
                   "remove_diacritics 2', detail='none', prefix='1 2');"
                   "INSERT INTO events_fts(search) VALUES ('shadow shadowy host-4321 ab'), "
                   "('cred0 cred1 cred2 cred3 cred4 cred5 cred6 cred7 cred8 cred9');")
                  .ok());
  AddTermList(db);
  EXPECT_EQ(TextFilterFtsQuery("Shadowy", db), "\"shadowy\"");
  EXPECT_EQ(TextFilterFtsQuery("shadow", db), "(\"shadow\" OR \"shadowy\")");
  EXPECT_EQ(TextFilterFtsQuery("host-4321", db), "\"host\" AND \"4321\"");
  EXPECT_EQ(TextFilterFtsQuery("cred", db), "\"cred\"*");      // 10 longer words: a prefix
  EXPECT_EQ(TextFilterFtsQuery("ab", db), "\"ab\"*");          // short: the prefix index
  EXPECT_EQ(TextFilterFtsQuery("shadow ", db), "\"shadow\"");  // a whole word
  EXPECT_EQ(TextFilterFtsQuery("café", db), "\"café\"*");      // not ASCII: as typed
  EXPECT_EQ(TextFilterFtsQuery("shadow", nullptr), "\"shadow\"*");
  sqlite3_close(db);
}

}  // namespace
}  // namespace sandwatch::receiver::testing
