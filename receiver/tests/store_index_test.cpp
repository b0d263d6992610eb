// The store's append-order structures: a duplicate is the same id with the same time (found
// through the (time, id hash) index), the pod filter over the deferred pod index and the rows
// not indexed yet, retention through both, and the migration of a schema 2 store.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "id_hash.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"
#include "store_test_util.h"
#include "test_util.h"

namespace sandwatch::receiver {
namespace {

using testing::TempDir;

constexpr int64_t kBase = 1'900'000'000'000'000'000;

Event MakeEvent(const std::string& id, int64_t time_s, int pod) {
  Event e;
  e.id = id;
  e.time_ns = kBase + time_s * 1'000'000'000;
  e.rule = time_s % 2 ? "unexpected_shell" : "shadow_file_access";
  e.output = "event at " + std::to_string(time_s) + " saw /etc/shadow";
  e.sensor = {"sensor-a", "sidecar", "poll", "0.1.0"};
  e.pod = "pod-" + std::to_string(pod);
  e.ns = "kata-demo";
  e.hostname = "host-1";
  return e;
}

using Outcome = testing::WriteOutcome;

Outcome Write(Store& store, const std::vector<Event>& events) {
  return testing::WriteEvents(store, events);
}

std::unique_ptr<Store> OpenOrDie(const std::string& path, uint64_t mask = ~uint64_t{0}) {
  return testing::OpenStoreOrDie(path, mask);
}

int64_t Count(Store& store, const EventQuery& q) {
  auto r = store.Query(q);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->all : -1;
}

TEST(StoreDuplicates, AResentEventIsADuplicateAcrossARestart) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  std::vector<Event> sent;
  sent.reserve(20);
  for (int i = 0; i < 20; ++i) sent.push_back(MakeEvent(NewUuid(), i, i % 4));
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    Outcome first = Write(*store, sent);
    EXPECT_EQ(first.accepted, 20);
  }
  // A sensor's spool re-sends the stored records as they were: same id, same time.
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  std::vector<Event> resent(sent.begin() + 5, sent.end());
  resent.push_back(MakeEvent(NewUuid(), 100, 0));
  Outcome again = Write(*store, resent);
  EXPECT_EQ(again.accepted, 1);
  EXPECT_EQ(again.duplicates, 15);
  EXPECT_EQ(*store->CountEvents(), 21);
}

TEST(StoreDuplicates, TheSameIdAtAnotherTimeIsAnotherEvent) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("events.db"));
  ASSERT_NE(store, nullptr);
  const std::string id = NewUuid();
  EXPECT_EQ(Write(*store, {MakeEvent(id, 1, 0), MakeEvent(id, 1, 0)}).duplicates, 1);
  Outcome later = Write(*store, {MakeEvent(id, 2, 0)});
  EXPECT_EQ(later.accepted, 1);
  EXPECT_EQ(later.duplicates, 0);
  EventQuery by_id;
  by_id.id = id;
  EXPECT_EQ(Count(*store, by_id), 2);
  by_id.since_ns = kBase + 2'000'000'000;  // ?id= with a window narrows the scan
  EXPECT_EQ(Count(*store, by_id), 1);
}

TEST(StoreDuplicates, IdsPiledOnOneTimeAndHashAreComparedByText) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  // A mask of 0 gives every id the same hash, and every event has the same time: only the
  // id text tells them apart.
  std::vector<Event> events;
  events.reserve(50);
  for (int i = 0; i < 50; ++i) events.push_back(MakeEvent(NewUuid(), 7, i % 3));
  {
    auto store = OpenOrDie(db, 0);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Write(*store, events).accepted, 50);
  }
  auto store = OpenOrDie(db, 0);
  ASSERT_NE(store, nullptr);
  Outcome mixed = Write(*store, {events[3], MakeEvent(NewUuid(), 7, 0), events[49]});
  EXPECT_EQ(mixed.accepted, 1);
  EXPECT_EQ(mixed.duplicates, 2);
  EXPECT_EQ(*store->CountEvents(), 51);
}

// Row numbers of a query's page, newest first.
std::vector<int64_t> Page(Store& store, const EventQuery& q) {
  auto r = store.Query(q);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  std::vector<int64_t> out;
  if (r.ok()) {
    for (const auto& row : r->rows) out.push_back(row.first);
  }
  return out;
}

TEST(StorePods, TheFilterSeesIndexedRowsAndTheTailAlike) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("events.db"));
  ASSERT_NE(store, nullptr);
  // 600 events over 5 pods; times interleave so that indexed and tail rows mix in order.
  std::vector<Event> events;
  events.reserve(600);
  for (int i = 0; i < 600; ++i) {
    events.push_back(MakeEvent(NewUuid(), (i * 37) % 600, i % 5));
  }
  ASSERT_EQ(Write(*store, events).accepted, 600);
  ASSERT_EQ(*store->IndexPending(250), 250);  // rows 1..250 indexed, 251..600 the tail
  EXPECT_EQ(store->IndexBacklog(), 350);

  // The pods-only query (index merged with the tail) against the general path (a rule
  // list naming both rules adds a condition without removing a row).
  auto both = [&](const EventQuery& q) {
    EventQuery general = q;
    general.rules = {"unexpected_shell", "shadow_file_access"};
    EXPECT_EQ(Page(*store, q), Page(*store, general));
    EXPECT_EQ(Count(*store, q), Count(*store, general));
    return Count(*store, q);
  };
  EventQuery pod;
  pod.pods = {"pod-2"};
  pod.limit = 50;
  EXPECT_EQ(both(pod), 120);
  for (int64_t page = 1; page <= 3; ++page) {
    pod.page = page;
    std::vector<int64_t> rows = Page(*store, pod);
    EXPECT_EQ(rows.size(), 50U - (page == 3 ? 30U : 0U));
    both(pod);
  }
  pod.page = 1;
  pod.ascending = true;
  both(pod);
  pod.ascending = false;
  pod.pods = {"pod-1", "pod-4"};
  EXPECT_EQ(both(pod), 240);
  pod.since_ns = kBase + 100'000'000'000;
  pod.until_ns = kBase + 200'000'000'000;
  EXPECT_EQ(both(pod), 40);
  pod.pods = {"no-such-pod"};
  EXPECT_EQ(both(pod), 0);

  // The timeline of a pod counts the indexed rows and the tail.
  EventQuery timeline;
  timeline.pods = {"pod-2"};
  auto buckets = store->Timeline(timeline, 60'000'000'000);
  ASSERT_TRUE(buckets.ok());
  int64_t in_buckets = 0;
  for (const auto& row : *buckets) in_buckets += row.count;
  EXPECT_EQ(in_buckets, 120);

  // With the rule condition the membership test is used; the rule halves pod-2.
  EventQuery rule_pod;
  rule_pod.pods = {"pod-2"};
  rule_pod.rules = {"unexpected_shell"};
  EXPECT_EQ(Count(*store, rule_pod), 60);

  ASSERT_EQ(*store->IndexPending(10000), 350);
  EXPECT_EQ(store->IndexBacklog(), 0);
  pod = EventQuery{};
  pod.pods = {"pod-2"};
  EXPECT_EQ(both(pod), 120);
  auto facets = store->Facets(10);
  ASSERT_TRUE(facets.ok());
  for (const auto& [col, values] : *facets) {
    if (col == "pod") {
      EXPECT_EQ(values.size(), 5U);
    }
  }
}

TEST(StorePods, UnderLoadThePodIndexWaitsForAFullChunk) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("events.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  events.reserve(kPodIndexChunk);
  for (int64_t i = 0; i < kPodIndexChunk; ++i) {
    events.push_back(MakeEvent(NewUuid(), i, static_cast<int>(i % 7)));
  }
  const Event last = events.back();
  events.pop_back();
  ASSERT_EQ(Write(*store, events).accepted, kPodIndexChunk - 1);
  ASSERT_EQ(*store->IndexPending(kPodIndexChunk, /*pods_now=*/false), kPodIndexChunk - 1);
  EXPECT_EQ(store->FtsBacklog(), 0);
  EXPECT_EQ(store->IndexBacklog(), kPodIndexChunk - 1);  // the pods wait for a full chunk
  EventQuery pod;
  pod.pods = {"pod-6"};
  const int64_t in_pod_6 = (kPodIndexChunk - 1) / 7;
  EXPECT_EQ(Count(*store, pod), in_pod_6);
  ASSERT_EQ(Write(*store, {last}).accepted, 1);
  ASSERT_EQ(*store->IndexPending(100, /*pods_now=*/false), kPodIndexChunk);
  EXPECT_EQ(store->IndexBacklog(), 0);
  EXPECT_EQ(Count(*store, pod), in_pod_6 + (last.pod == "pod-6" ? 1 : 0));
}

TEST(StorePods, RetentionTakesRowsOutOfThePodIndex) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("events.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  events.reserve(300);
  for (int i = 0; i < 300; ++i) events.push_back(MakeEvent(NewUuid(), i, i % 3));
  ASSERT_EQ(Write(*store, events).accepted, 300);
  ASSERT_EQ(*store->IndexPending(200), 200);
  // The 150 oldest go: 100 indexed in events_pod (50 per pod), none of the tail.
  ASSERT_EQ(*store->Retain(kBase + 150'000'000'000, 0), 150);
  EventQuery pod;
  pod.pods = {"pod-0"};
  EXPECT_EQ(Count(*store, pod), 50);
  ASSERT_EQ(*store->IndexPending(1000), 100);
  EXPECT_EQ(Count(*store, pod), 50);
}

// Schema 2 as the previous receiver wrote it: an index on the id hash, (time) alone and
// (pod, time), with its key in store_meta and the text index with its mark.
constexpr const char* kSchema2 = R"sql(
CREATE TABLE events(n INTEGER PRIMARY KEY AUTOINCREMENT, id_hash INTEGER NOT NULL,
  id TEXT NOT NULL, time_ns INTEGER NOT NULL, rule TEXT NOT NULL, priority INTEGER NOT NULL,
  source TEXT NOT NULL, sensor TEXT NOT NULL, pod TEXT NOT NULL, ns TEXT NOT NULL,
  hostname TEXT NOT NULL, seq INTEGER NOT NULL, received_ns INTEGER NOT NULL,
  json TEXT NOT NULL, search TEXT NOT NULL);
CREATE INDEX events_id_hash ON events(id_hash);
CREATE INDEX events_time ON events(time_ns);
CREATE INDEX events_rule_time ON events(rule, time_ns);
CREATE INDEX events_pod_time ON events(pod, time_ns);
CREATE INDEX events_source_time ON events(source, time_ns);
CREATE INDEX events_sensor_time ON events(sensor, time_ns);
CREATE TABLE store_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE VIRTUAL TABLE events_fts USING fts5(
  search, content='events', content_rowid='n', tokenize='unicode61 remove_diacritics 2',
  detail='none', columnsize=0, prefix='1 2');
CREATE TABLE fts_state(id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL);
INSERT INTO fts_state(id, upto) VALUES (1, 0);
PRAGMA user_version=2;
)sql";

void WriteSchema2Store(const std::string& path, const std::vector<Event>& events) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kSchema2, nullptr, nullptr, nullptr), SQLITE_OK);
  const IdHashKey key{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "INSERT INTO store_meta VALUES('id_hash_key', ?1)", -1, &s, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "INSERT INTO events(id_hash, id, time_ns, rule, priority, source, "
                               "sensor, pod, ns, hostname, seq, received_ns, json, search) "
                               "VALUES(?1, ?2, ?3, ?4, 4, 'sandwatch', 'sensor-a', ?5, "
                               "'kata-demo', 'host-1', 0, 0, ?6, ?7)",
                               -1, &s, nullptr),
            SQLITE_OK);
  for (const Event& e : events) {
    PreparedEvent p = Prepare(e);
    sqlite3_bind_int64(s, 1, IdHash(key, e.id, ~uint64_t{0}));
    sqlite3_bind_text(s, 2, e.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, e.time_ns);
    sqlite3_bind_text(s, 4, e.rule.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, e.pod.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, p.json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, p.search.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  const char* index = R"sql(
    INSERT INTO events_fts(rowid, search) SELECT n, search FROM events;
    UPDATE fts_state SET upto = (SELECT MAX(n) FROM events);)sql";
  ASSERT_EQ(sqlite3_exec(db, index, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(StoreSchema, MigratesASchema2StoreInPlace) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  std::vector<Event> events;
  events.reserve(40);
  for (int i = 0; i < 40; ++i) events.push_back(MakeEvent(NewUuid(), i, i % 4));
  WriteSchema2Store(db, events);
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->CountEvents(), 40);
    // Both indexes moved to the index file: rebuilt there, in the background; until then
    // pod and text filters read the rows.
    EXPECT_EQ(store->PodBacklog(), 40);
    EXPECT_EQ(store->FtsBacklog(), 40);
    EventQuery pod;
    pod.pods = {"pod-3"};
    EXPECT_EQ(Count(*store, pod), 10);
    EventQuery by_id;
    by_id.id = events[17].id;
    EXPECT_EQ(Count(*store, by_id), 1);
    // The migrated events are still duplicates (the key kept); a new one is stored.
    Outcome o = Write(*store, {events[0], events[39], MakeEvent(NewUuid(), 50, 3)});
    EXPECT_EQ(o.accepted, 1);
    EXPECT_EQ(o.duplicates, 2);
    EXPECT_EQ(Count(*store, pod), 11);  // the new one from the tail
    ASSERT_EQ(*store->IndexPods(1000), 41);
    EXPECT_EQ(Count(*store, pod), 11);
    EventQuery text;
    text.filter = "shadow";
    EXPECT_EQ(Count(*store, text), 41);
    ASSERT_EQ(*store->IndexText(1000), 41);
    EXPECT_EQ(Count(*store, text), 41);
  }
  const auto one_int = [&](const char* sql) { return testing::QueryInt(db, sql); };
  EXPECT_EQ(one_int("PRAGMA user_version"), 4);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                    "('events_id_hash', 'events_pod_time')"),
            0);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_time' AND "
                    "sql LIKE '%time_ns, id_hash%'"),
            1);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_pod'"), 0);
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db), "SELECT upto FROM pod_index_state"), 41);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_pod_tail'"), 1);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('events_fts', 'fts_state')"),
            0);
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db), "SELECT upto FROM fts_state"), 41);
}

// Schema 3 kept the pod index in the events file: it goes, and the index file's pod index
// is built from the rows.
TEST(StoreSchema, MovesASchema3PodIndexToTheIndexFile) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  std::vector<Event> events;
  events.reserve(12);
  for (int i = 0; i < 12; ++i) events.push_back(MakeEvent(NewUuid(), i, i % 3));
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    Write(*store, events);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "CREATE TABLE events_pod(pod TEXT NOT NULL, time_ns INTEGER NOT NULL, "
                         "n INTEGER NOT NULL, PRIMARY KEY(pod, time_ns, n)) WITHOUT ROWID;"
                         "CREATE TABLE pod_index_state(id INTEGER PRIMARY KEY, upto INTEGER);"
                         "INSERT INTO pod_index_state VALUES (1, 12); PRAGMA user_version=3;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(TextIndexPath(db) + suffix);
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->PodBacklog(), 12);
  EventQuery pod;
  pod.pods = {"pod-2"};
  EXPECT_EQ(Count(*store, pod), 4);
  ASSERT_EQ(*store->IndexPods(1000), 12);
  EXPECT_EQ(Count(*store, pod), 4);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'pod_%'"), 0);
  EXPECT_EQ(testing::QueryInt(db, "PRAGMA user_version"), 4);
}

}  // namespace
}  // namespace sandwatch::receiver
