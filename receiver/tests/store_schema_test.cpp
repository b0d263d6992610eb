// The store's duplicate-id rule on the hashed id key (forced hash collisions included),
// across restarts, the migration of a store written with the first schema, and the
// bounded count of a text filter's matches.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
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

// The event's time follows from its id: a re-sent event carries its original time, which
// is what makes it a duplicate (the same id at another time is another event).
Event MakeEvent(const std::string& id, int64_t i) {
  Event e;
  e.id = id;
  e.seq = static_cast<uint64_t>(i + 1);
  e.time_ns = 1'900'000'000'000'000'000 +
              static_cast<int64_t>(std::hash<std::string>{}(id) % 1'000'000) * 1'000'000'000;
  e.rule = i % 2 ? "unexpected_shell" : "shadow_file_access";
  e.output = "event number " + std::to_string(i) + " saw /etc/shadow";
  e.sensor = {"sensor-a", "sidecar", "poll", "0.1.0"};
  e.pod = "pod-" + std::to_string(i % 3);
  e.ns = "kata-demo";
  e.hostname = "host-1";
  return e;
}

using Outcome = testing::WriteOutcome;

Outcome Write(Store& store, const std::vector<std::string>& ids, int64_t first) {
  std::vector<Event> events;
  for (size_t k = 0; k < ids.size(); ++k) {
    events.push_back(MakeEvent(ids[k], first + static_cast<int64_t>(k)));
  }
  return testing::WriteEvents(store, events);
}

std::unique_ptr<Store> OpenOrDie(const std::string& path, uint64_t mask = ~uint64_t{0}) {
  return testing::OpenStoreOrDie(path, mask);
}

int64_t CountById(Store& store, const std::string& id) {
  EventQuery q;
  q.id = id;
  auto r = store.Query(q);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->all : -1;
}

TEST(IdHash, IsSipHash24) {
  // The reference implementation's first test vector: key 00..0f, empty input.
  IdHashKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(SipHash24(key, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_NE(SipHash24(key, "a"), SipHash24(key, "b"));
  IdHashKey other = key;
  other[0] = 1;
  EXPECT_NE(SipHash24(key, "same id"), SipHash24(other, "same id"));
}

TEST(StoreIds, DuplicatesWithinABatchAcrossBatchesAndRestarts) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  const std::string a = NewUuid(), b = NewUuid(), c = NewUuid();
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    Outcome first = Write(*store, {a, b, a, c, b}, 0);
    EXPECT_EQ(first.accepted, 3);
    EXPECT_EQ(first.duplicates, 2);
    Outcome again = Write(*store, {c, NewUuid()}, 10);
    EXPECT_EQ(again.accepted, 1);
    EXPECT_EQ(again.duplicates, 1);
  }
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  Outcome after_restart = Write(*store, {a, b, c}, 20);
  EXPECT_EQ(after_restart.accepted, 0);
  EXPECT_EQ(after_restart.duplicates, 3);
  EXPECT_EQ(CountById(*store, a), 1);
  EXPECT_EQ(*store->CountEvents(), 4);
}

TEST(StoreIds, EveryHashCollidingIsStillComparedByText) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  // A mask of 0 gives every id the same hash: only the text comparison tells them apart.
  std::vector<std::string> ids(50);
  for (auto& id : ids) id = NewUuid();
  {
    auto store = OpenOrDie(db, 0);
    ASSERT_NE(store, nullptr);
    Outcome first = Write(*store, ids, 0);
    EXPECT_EQ(first.accepted, 50);
    EXPECT_EQ(first.duplicates, 0);
    Outcome mixed = Write(*store, {ids[7], NewUuid(), ids[42]}, 100);
    EXPECT_EQ(mixed.accepted, 1);
    EXPECT_EQ(mixed.duplicates, 2);
  }
  auto store = OpenOrDie(db, 0);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Write(*store, {ids[0]}, 200).duplicates, 1);
  EXPECT_EQ(CountById(*store, ids[13]), 1);
  EXPECT_EQ(CountById(*store, "no-such-id"), 0);
  EXPECT_EQ(*store->CountEvents(), 51);
}

TEST(StoreQuery, TextMatchesAreCountedUpToTheBound) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("events.db"));
  ASSERT_NE(store, nullptr);
  // 10,001 events say "shadow" in their output; the first 50 also say "rare".
  for (int64_t first = 0; first <= kMaxTextMatchesCounted; first += 1000) {
    std::vector<std::string> ids;
    for (int64_t i = first; i < std::min(first + 1000, kMaxTextMatchesCounted + 1); ++i) {
      ids.push_back(NewUuid());
    }
    ASSERT_EQ(Write(*store, ids, first).accepted, static_cast<int>(ids.size()));
  }
  auto indexed = store->IndexPending(5000);  // half in the text index, half not yet
  ASSERT_TRUE(indexed.ok());
  auto count = [&](const std::string& filter, const std::string& rule) {
    EventQuery q;
    q.filter = filter;
    if (!rule.empty()) q.rules = {rule};
    auto r = store->Query(q);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->rows.size(), std::min<size_t>(100, static_cast<size_t>(r->all)));
    return std::make_pair(r->all, r->all_capped);
  };
  EXPECT_EQ(count("shadow", ""), std::make_pair(kMaxTextMatchesCounted, true));
  EXPECT_EQ(count("number 1234", ""), std::make_pair(int64_t{1}, false));
  // With another condition the bounded count goes through the table: half are this rule.
  EXPECT_EQ(count("shadow", "unexpected_shell"), std::make_pair(int64_t{5000}, false));
  // Without a text filter the count is exact.
  EXPECT_EQ(count("", ""), std::make_pair(kMaxTextMatchesCounted + 1, false));
  EXPECT_EQ(*store->CountEvents(), kMaxTextMatchesCounted + 1);
}

// The first schema as it was written: UNIQUE id text, an index per pod, source and sensor,
// and the text index with its "upto" mark.
constexpr const char* kFirstSchema = R"sql(
CREATE TABLE events(n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  time_ns INTEGER NOT NULL, rule TEXT NOT NULL, priority INTEGER NOT NULL, source TEXT NOT NULL,
  sensor TEXT NOT NULL, pod TEXT NOT NULL, ns TEXT NOT NULL, hostname TEXT NOT NULL,
  seq INTEGER NOT NULL, received_ns INTEGER NOT NULL, json TEXT NOT NULL, search TEXT NOT NULL);
CREATE INDEX events_time ON events(time_ns);
CREATE INDEX events_rule_time ON events(rule, time_ns);
CREATE INDEX events_pod_time ON events(pod, time_ns);
CREATE INDEX events_source_time ON events(source, time_ns);
CREATE INDEX events_sensor_time ON events(sensor, time_ns);
CREATE TABLE sensors(id TEXT PRIMARY KEY,
  mode TEXT NOT NULL DEFAULT '', capture TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '', hostname TEXT NOT NULL DEFAULT '',
  pod TEXT NOT NULL DEFAULT '', ns TEXT NOT NULL DEFAULT '',
  interval_s REAL NOT NULL DEFAULT 0, last_heartbeat_ns INTEGER NOT NULL DEFAULT 0,
  heartbeat_time_ns INTEGER NOT NULL DEFAULT 0, last_event_ns INTEGER NOT NULL DEFAULT 0,
  first_seen_ns INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0,
  seq_max INTEGER NOT NULL DEFAULT 0, seq_count INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0, silent INTEGER NOT NULL DEFAULT 0,
  silent_since_ns INTEGER NOT NULL DEFAULT 0, counters TEXT NOT NULL DEFAULT '{}');
CREATE VIRTUAL TABLE events_fts USING fts5(
  search, content='events', content_rowid='n', tokenize='unicode61 remove_diacritics 2',
  detail='none', columnsize=0, prefix='1 2');
CREATE TABLE fts_state(id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL);
INSERT INTO fts_state(id, upto) VALUES (1, 0);
)sql";

void WriteFirstSchemaStore(const std::string& path, const std::vector<std::string>& ids) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kFirstSchema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "INSERT INTO events(id, time_ns, rule, priority, source, sensor, "
                               "pod, ns, hostname, seq, received_ns, json, search) "
                               "VALUES(?1, ?2, ?3, 4, 'sandwatch', 'sensor-a', ?4, 'kata-demo', "
                               "'host-1', ?5, 0, ?6, ?7)",
                               -1, &ins, nullptr),
            SQLITE_OK);
  for (size_t i = 0; i < ids.size(); ++i) {
    PreparedEvent p = Prepare(MakeEvent(ids[i], static_cast<int64_t>(i)));
    sqlite3_bind_text(ins, 1, p.event.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 2, p.event.time_ns);
    sqlite3_bind_text(ins, 3, p.event.rule.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 4, p.event.pod.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 5, static_cast<int64_t>(p.event.seq));
    sqlite3_bind_text(ins, 6, p.json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 7, p.search.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  // The newest row was removed (retention or a deletion): its row number must not be reused.
  const char* rest = R"sql(
    INSERT INTO events_fts(rowid, search) SELECT n, search FROM events;
    UPDATE fts_state SET upto = (SELECT MAX(n) FROM events);
    INSERT INTO events_fts(events_fts, rowid, search)
      SELECT 'delete', n, search FROM events WHERE n = (SELECT MAX(n) FROM events);
    DELETE FROM events WHERE n = (SELECT MAX(n) FROM events);)sql";
  ASSERT_EQ(sqlite3_exec(db, rest, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(StoreSchema, MigratesAFirstSchemaStoreInPlace) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  std::vector<std::string> ids(30);
  for (auto& id : ids) id = NewUuid();
  WriteFirstSchemaStore(db, ids);
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->CountEvents(), 29);
    EXPECT_EQ(CountById(*store, ids[3]), 1);
    // Old ids are still duplicates; a new event gets a row number past every old one.
    Outcome o = Write(*store, {ids[0], ids[28], NewUuid()}, 100);
    EXPECT_EQ(o.accepted, 1);
    EXPECT_EQ(o.duplicates, 2);
    EventQuery text;
    text.filter = "shadow";
    auto found = store->Query(text);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->all, 30);  // the 29 migrated events through the text index, + the new one
    EventQuery pod;
    pod.pods = {"pod-1"};
    auto by_pod = store->Query(pod);
    ASSERT_TRUE(by_pod.ok());
    EXPECT_EQ(by_pod->all, 10);  // migrated; the new event is in pod-0
    ASSERT_EQ(*store->IndexPods(1000), 30);
    EXPECT_EQ(store->Query(pod)->all, 10);
  }
  const auto one_int = [&](const char* sql) { return testing::QueryInt(db, sql); };
  EXPECT_EQ(one_int("PRAGMA user_version"), 4);
  EXPECT_EQ(one_int("SELECT MAX(n) FROM events"), 31);  // 30 was used and deleted
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name='events_id_hash'"), 0);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name='events_pod'"), 0);
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db), "SELECT COUNT(*) FROM events_pod"), 30);
  EXPECT_EQ(
      one_int("SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%id TEXT NOT NULL UNIQUE%'"), 0);
  EXPECT_EQ(one_int("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'events_first%'"), 0);
}

}  // namespace
}  // namespace sandwatch::receiver
