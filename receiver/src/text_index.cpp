// The text index: an FTS5 index of every event's search text, in a database file of its
// own (TextIndexPath) attached to every connection as "textidx", filled by its own thread.
//
// Why a file of its own: SQLite lets one connection write a file at a time. With the index
// inside the events file, filling it (about 9 us of CPU per event) ran between the writer's
// commits and capped durable ingestion near 40,000 events/s on two cores. In its own file
// it is filled beside the writer, which keeps only the rows (docs/performance.md).
//
// The index is contentless (an FTS5 table's external content must live in its own file):
// it returns rowids only, which is all the queries read; deleting a row gives FTS5 the
// text it was indexed with (Retain). The file holds the index, its mark (rows n <= upto
// are indexed) and the events file's id-hash key: an index of another store, or one ahead
// of the events (a restored backup), is dropped and rebuilt in the background.
//
// Ordering across the two files (each commits atomically, the pair does not):
// - IndexText takes the index file's write lock before it reads any event, so it never
//   indexes a row that a retention transaction (which holds both files' write locks, and
//   commits the events file first) has just deleted.
// - The writer's own transactions start deferred and touch only the events file, so the
//   writer never waits for the indexer. Only retention takes both locks.
// - A crash between retention's two commits can leave index entries for deleted rows:
//   joined queries never show them; a text-only count can include them until the index
//   is rebuilt (delete the file).
#include "text_index.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "deferred_index.h"
#include "id_hash.h"
#include "sandwatch/receiver/store.h"
#include "sqlite_util.h"
#include "text_filter.h"

namespace sandwatch::receiver {
namespace {

// prefix='1 2' keeps separate posting lists for every word's first one and two characters,
// so a filter ending in a short word ("nc -e", "bash -i") reads one list instead of
// merging the lists of every word that starts with that letter.
constexpr const char* kTextIndexSchema = R"sql(
CREATE VIRTUAL TABLE IF NOT EXISTS textidx.events_fts USING fts5(
  search, content='', tokenize='unicode61 remove_diacritics 2',
  detail='none', columnsize=0, prefix='1 2');
CREATE TABLE IF NOT EXISTS textidx.fts_state(id INTEGER PRIMARY KEY CHECK (id = 1),
  upto INTEGER NOT NULL);
INSERT OR IGNORE INTO textidx.fts_state(id, upto) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS textidx.index_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);
)sql";

constexpr const char* kDropTextIndex = R"sql(
DROP TABLE IF EXISTS textidx.events_fts;
DROP TABLE IF EXISTS textidx.fts_state;
DROP TABLE IF EXISTS textidx.index_meta;
)sql";

// Earlier schemas kept the index inside the events file, filled by the writer.
constexpr const char* kDropIndexInEventsFile = R"sql(
DROP TRIGGER IF EXISTS main.events_fts_ai;
DROP TRIGGER IF EXISTS main.events_fts_ad;
DROP TABLE IF EXISTS main.events_fts;
DROP TABLE IF EXISTS main.fts_state;
)sql";

}  // namespace

Status AttachTextIndexFile(sqlite3* db, const std::string& path, int cache_kib) {
  Stmt attach(db, "ATTACH DATABASE ?1 AS textidx");
  attach.BindStatic(1, path);
  if (!attach.ok() || attach.Step() != SQLITE_DONE) return SqlError(db, "attach " + path);
  // The index can be rebuilt from the events, so its commits need not reach the disk
  // before the writer's 202; WAL keeps the file consistent after a crash.
  const std::string pragmas = "PRAGMA textidx.synchronous=NORMAL; PRAGMA textidx.cache_size=-" +
                              std::to_string(cache_kib) + ";";
  return Exec(db, pragmas.c_str());
}

namespace {

// True when the index in the attached file was built by this schema for this store and is
// not ahead of its events.
bool UsableIndex(sqlite3* db, const IdHashKey& key, int64_t last_row_ever) {
  Stmt schema(db, "SELECT sql FROM textidx.sqlite_master WHERE name='events_fts'");
  if (!schema.ok() || schema.Step() != SQLITE_ROW) return false;
  const std::string sql = schema.Text(0);
  for (const char* want : {"content=''", "detail='none'", "prefix='1 2'"}) {
    if (sql.find(want) == std::string::npos) return false;
  }
  Stmt owner(db, "SELECT value FROM textidx.index_meta WHERE name='id_hash_key'");
  if (!owner.ok() || owner.Step() != SQLITE_ROW ||
      sqlite3_column_bytes(owner.get(), 0) != static_cast<int>(key.size()) ||
      std::memcmp(sqlite3_column_blob(owner.get(), 0), key.data(), key.size()) != 0) {
    return false;
  }
  Stmt upto(db, "SELECT upto FROM textidx.fts_state WHERE id = 1");
  return upto.ok() && upto.Step() == SQLITE_ROW && upto.Int(0) <= last_row_ever;
}

int64_t LastRowEver(sqlite3* db) {
  Stmt s(db, "SELECT seq FROM sqlite_sequence WHERE name='events'");
  return s.ok() && s.Step() == SQLITE_ROW ? s.Int(0) : 0;
}

}  // namespace

std::string TextIndexPath(const std::string& db_path) { return db_path + "-text"; }

Status Store::OpenTextIndex() {
  if (auto st = Exec(writer_, kDropIndexInEventsFile); !st.ok()) return st;
  const std::string path = memory_ ? ":memory:" : TextIndexPath(options_.path);
  if (!options_.fts) {
    // Without the index nothing keeps it current: remove it rather than leave it stale.
    if (!memory_) {
      for (const char* suffix : {"", "-wal", "-shm"}) (void)::unlink((path + suffix).c_str());
    }
    return OkStatus();
  }
  if (auto st = AttachTextIndexFile(writer_, path); !st.ok()) return st;
  if (!memory_) {
    Stmt wal(writer_, "PRAGMA textidx.journal_mode=WAL");
    if (!wal.ok() || wal.Step() != SQLITE_ROW || wal.Text(0) != "wal") {
      return MakeError("cannot switch " + path + " to WAL mode (is it a SQLite file?)");
    }
  }
  if (!UsableIndex(writer_, id_key_, LastRowEver(writer_))) {
    if (auto st = Exec(writer_, kDropTextIndex); !st.ok()) return st;
  }
  if (auto st = Exec(writer_, kTextIndexSchema); !st.ok()) return st;
  {
    Stmt owner(writer_,
               "INSERT OR IGNORE INTO textidx.index_meta(name, value) VALUES('id_hash_key', ?1)");
    if (!owner.ok()) return SqlError(writer_, "prepare index owner");
    sqlite3_bind_blob(owner.get(), 1, id_key_.data(), static_cast<int>(id_key_.size()),
                      SQLITE_STATIC);
    if (owner.Step() != SQLITE_DONE) return SqlError(writer_, "store index owner");
  }
  // Merge segments less eagerly: less work per chunk, slightly more segments to read.
  if (auto st = Exec(writer_,
                     "INSERT INTO textidx.events_fts(events_fts, rank) VALUES('automerge', 8);"
                     "INSERT INTO textidx.events_fts(events_fts, rank) VALUES('crisismerge', 32);");
      !st.ok()) {
    return st;
  }
  Stmt upto(writer_, "SELECT upto FROM textidx.fts_state WHERE id = 1");
  if (upto.ok() && upto.Step() == SQLITE_ROW) fts_upto_ = upto.Int(0);
  if (memory_) {
    indexer_ = writer_;
    AddTermList(writer_);
    return OkStatus();
  }
  auto db = OpenConnection(options_.path, false);
  if (!db.ok()) return db.error();
  indexer_ = *db;
  // The indexer merges the index's segments: it gets the index file's larger cache.
  return AttachTextIndexFile(indexer_, path, 16384);
}

Status Store::AttachTextIndex(sqlite3* db) {
  if (!options_.fts || memory_) return OkStatus();
  if (auto st = AttachTextIndexFile(db, TextIndexPath(options_.path)); !st.ok()) return st;
  AddTermList(db);
  return OkStatus();
}

Result<int64_t> Store::IndexText(int64_t max_rows) {
  if (!options_.fts) return int64_t{0};
  std::lock_guard<std::mutex> lock(index_mu_);
  std::unique_lock<std::mutex> memory_lock(write_mu_, std::defer_lock);
  if (memory_) memory_lock.lock();  // one connection: the writer's
  const int64_t from = fts_upto_.load();
  if (from >= last_rowid_.load()) return int64_t{0};
  sqlite3* db = indexer_;
  // The index file's write lock first, then the events are read (see the top of the file).
  if (auto st = Exec(db, "BEGIN; UPDATE textidx.fts_state SET upto = upto WHERE id = 1;");
      !st.ok()) {
    (void)Exec(db, "ROLLBACK");
    return st.error();
  }
  auto r = FillIndexAndCommit(db, "main.events",
                              "INSERT INTO textidx.events_fts(rowid, search) SELECT n, search "
                              "FROM main.events WHERE n > ?1 AND n <= ?2",
                              "UPDATE textidx.fts_state SET upto = ?1 WHERE id = 1", from, max_rows,
                              "text index");
  if (!r.ok()) return r.error();
  fts_upto_ = r->upto;
  return r->rows;
}

}  // namespace sandwatch::receiver
