// The text index in its own file: rebuilt when it is missing, belongs to another store or
// is ahead of the events (a restored backup), and consistent with the events when the
// index is filled on one thread while another thread writes and deletes (retention).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"
#include "store_test_util.h"
#include "test_util.h"

namespace sandwatch::receiver {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int64_t kBase = 1'900'000'000'000'000'000;

std::vector<Event> MakeEvents(int from, int count, const std::string& word) {
  std::vector<Event> out;
  for (int i = from; i < from + count; ++i) {
    Event e;
    e.id = NewUuid();
    e.time_ns = kBase + int64_t{i} * 1'000'000;
    e.rule = "unexpected_shell";
    e.output = "event " + std::to_string(i) + " ran " + word;
    e.sensor = {"sensor-a", "sidecar", "poll", "0.1.0"};
    e.pod = "pod-" + std::to_string(i % 3);
    e.ns = "kata-demo";
    e.hostname = "host-1";
    out.push_back(std::move(e));
  }
  return out;
}

int64_t Count(Store& store, const std::string& filter) {
  EventQuery q;
  q.filter = filter;
  auto r = store.Query(q);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->all : -1;
}

// Writes `events` to the store at `db` and fills its text index; returns the rows indexed.
int64_t WriteAndIndex(const std::string& db, const std::vector<Event>& events) {
  auto store = testing::OpenStoreOrDie(db);
  if (store == nullptr) return -1;
  testing::WriteEvents(*store, events);
  auto indexed = store->IndexText(100000);
  return indexed.ok() ? *indexed : -1;
}

// Opens the store at `db`, whose text index must be rebuilt whole: `rows` wait, then go in.
std::unique_ptr<Store> OpenRebuilt(const std::string& db, int64_t rows) {
  auto store = testing::OpenStoreOrDie(db);
  if (store == nullptr) return nullptr;
  EXPECT_EQ(store->FtsBacklog(), rows);
  auto indexed = store->IndexText(100000);
  EXPECT_TRUE(indexed.ok() && *indexed == rows);
  return store;
}

void RemoveTextIndex(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(TextIndexPath(db) + suffix);
}

TEST(TextIndex, LivesInItsOwnFileAndIsRebuiltWhenDeleted) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  ASSERT_EQ(WriteAndIndex(db, MakeEvents(0, 30, "whoami")), 30);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_fts'"),
            0);
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db), "SELECT upto FROM fts_state"), 30);
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db),
                              "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'whoami'"),
            30);
  RemoveTextIndex(db);
  auto store = testing::OpenStoreOrDie(db);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->FtsBacklog(), 30);
  EXPECT_EQ(Count(*store, "whoami"), 30);  // the rows not indexed yet are scanned
  ASSERT_EQ(*store->IndexText(1000), 30);
  EXPECT_EQ(Count(*store, "whoami"), 30);
  EXPECT_EQ(Count(*store, "event 7"), 1);
}

// Without the word index nothing would keep it current: --no-fts drops it from the index
// file (which keeps the pod index), and the next start with the index rebuilds it.
TEST(TextIndex, NoFtsDropsTheWordIndexAndTheNextStartRebuildsIt) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  const auto word_index = [&] {
    return testing::QueryInt(TextIndexPath(db),
                             "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_fts'");
  };
  for (bool fts : {true, false}) {
    auto store = Store::Open(StoreOptions{db, fts, false});
    ASSERT_TRUE(store.ok()) << store.error().message;
    testing::WriteEvents(**store, MakeEvents(fts ? 0 : 10, 10, "whoami"));
    ASSERT_TRUE((*store)->IndexPending(1000).ok());
    EXPECT_EQ(word_index(), fts ? 1 : 0);
    EXPECT_EQ(Count(**store, "whoami"), fts ? 10 : 20);
    EXPECT_EQ((*store)->PodBacklog(), 0);
  }
  EXPECT_EQ(testing::QueryInt(TextIndexPath(db), "SELECT upto FROM pod_index_state"), 20);
  auto store = OpenRebuilt(db, 20);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store, "whoami"), 20);
}

// A failed step names its cause (the receiver logs it and retries later) and keeps the
// mark, so the rows are indexed once the cause is gone: here, the next start rebuilds.
TEST(TextIndex, AFailedStepNamesItsCauseAndKeepsTheMark) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  {
    auto store = testing::OpenStoreOrDie(db);
    ASSERT_NE(store, nullptr);
    testing::WriteEvents(*store, MakeEvents(0, 10, "whoami"));
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(TextIndexPath(db).c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "DROP TABLE events_fts", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    auto failed = store->IndexText(1000);
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().message.find("no such table"), std::string::npos)
        << failed.error().message;
    EXPECT_EQ(store->FtsBacklog(), 10);
  }
  auto store = OpenRebuilt(db, 10);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store, "whoami"), 10);
}

TEST(TextIndex, AnIndexOfAnotherStoreIsRebuilt) {
  TempDir dir;
  const std::string a = dir.File("a.db");
  const std::string b = dir.File("b.db");
  ASSERT_EQ(WriteAndIndex(a, MakeEvents(0, 20, "whoami")), 20);
  ASSERT_EQ(WriteAndIndex(b, MakeEvents(0, 20, "uname")), 20);
  RemoveTextIndex(b);
  fs::copy_file(TextIndexPath(a), TextIndexPath(b));
  auto store = OpenRebuilt(b, 20);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Count(*store, "whoami"), 0);
  EXPECT_EQ(Count(*store, "uname"), 20);
}

TEST(TextIndex, AnIndexAheadOfARestoredBackupIsRebuilt) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  const std::string backup = dir.File("backup.db");
  ASSERT_EQ(WriteAndIndex(db, MakeEvents(0, 10, "whoami")), 10);
  fs::copy_file(db, backup);  // closing the store checkpointed its WAL into the file
  ASSERT_EQ(WriteAndIndex(db, MakeEvents(10, 10, "uname")), 10);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db + suffix);
  fs::copy_file(backup, db, fs::copy_options::overwrite_existing);
  auto store = OpenRebuilt(db, 10);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CountEvents(), 10);
  EXPECT_EQ(Count(*store, "uname"), 0);
  EXPECT_EQ(Count(*store, "whoami"), 10);
}

// The writer's thread stores and deletes (retention keeps 300 events) while another thread
// fills the index, as the receiver runs them. Afterwards the index holds exactly the stored
// events: no entry of a deleted row, none missing.
TEST(TextIndex, StaysExactWhileRetentionDeletesBesideTheIndexer) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  {
    auto store = testing::OpenStoreOrDie(db);
    ASSERT_NE(store, nullptr);
    std::atomic<bool> done{false};
    std::thread indexer([&] {
      while (!done) ASSERT_TRUE(store->IndexText(97).ok());
    });
    for (int batch = 0; batch < 40; ++batch) {
      testing::WriteEvents(*store, MakeEvents(batch * 50, 50, "whoami"));
      if (batch % 3 == 2) {
        ASSERT_TRUE(store->Retain(std::nullopt, 300).ok());
      }
    }
    ASSERT_TRUE(store->Retain(std::nullopt, 300).ok());
    done = true;
    indexer.join();
    ASSERT_TRUE(store->IndexText(100000).ok());
    EXPECT_EQ(*store->CountEvents(), 300);
    EXPECT_EQ(Count(*store, "whoami"), 300);
  }
  const std::string text = TextIndexPath(db);
  EXPECT_EQ(
      testing::QueryInt(text, "SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'whoami'"),
      300);
  EXPECT_EQ(
      testing::QueryInt(text, "SELECT MIN(rowid) FROM events_fts WHERE events_fts MATCH 'whoami'"),
      testing::QueryInt(db, "SELECT MIN(n) FROM events"));
}

TEST(TextIndex, InMemoryStoresIndexOnTheWritersConnection) {
  StoreOptions o{":memory:", true, false};
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.error().message;
  testing::WriteEvents(**store, MakeEvents(0, 25, "whoami"));
  EXPECT_EQ(Count(**store, "whoami"), 25);
  ASSERT_EQ(*(*store)->IndexText(1000), 25);
  EXPECT_EQ((*store)->FtsBacklog(), 0);
  EXPECT_EQ(Count(**store, "whoami"), 25);
  EXPECT_EQ(Count(**store, "event 3"), 1);
}

// The writer checkpoints only past 16,384 WAL pages (64 MiB); below that, the files grow
// only when the background checkpoint copies the WALs into them.
TEST(StoreCheckpoint, TheBackgroundCheckpointCopiesEachWalIntoItsFile) {
  for (bool fts : {true, false}) {
    SCOPED_TRACE(fts ? "with the text index" : "--no-fts");
    TempDir dir;
    const std::string db = dir.File("events.db");
    auto store = Store::Open(StoreOptions{db, fts, false});
    ASSERT_TRUE(store.ok()) << store.error().message;
    const auto events_size = fs::file_size(db);
    const auto text_size = fts ? fs::file_size(TextIndexPath(db)) : 0;
    for (int i = 0; i < 10; ++i) testing::WriteEvents(**store, MakeEvents(i * 100, 100, "whoami"));
    ASSERT_TRUE((*store)->IndexText(100000).ok());
    EXPECT_TRUE(testing::WaitFor([&] {
      return fs::file_size(db) > events_size &&
             (!fts || fs::file_size(TextIndexPath(db)) > text_size);
    }));
  }
}

}  // namespace
}  // namespace sandwatch::receiver
