// The index file: an FTS5 index of every event's search text and the pod index, in a
// database file of its own (TextIndexPath) attached to every connection as "textidx",
// filled by the indexing thread. Unqualified names (events_fts, events_pod) resolve to it.
//
// Why a file of its own: SQLite lets one connection write a file at a time. With these
// indexes inside the events file, filling them (about 9 us of CPU per event for the words,
// 2 to 3 for the pods) ran between the writer's commits and capped durable ingestion. In
// their own file they are filled beside the writer, which keeps only the rows
// (docs/performance.md).
//
// The word index is contentless (an FTS5 table's external content must live in its own
// file): it returns rowids only, which is all the queries read; deleting a row gives FTS5
// the text it was indexed with (Retain). The file holds each index's mark (rows n <= upto
// are indexed) and the events file's id-hash key: a file of another store, or an index
// ahead of the events (a restored backup), is dropped and rebuilt in the background.
// Without the word index (--no-fts) the file keeps the pod index only.
//
// Ordering across the two files (each commits atomically, the pair does not):
// - IndexText and IndexPods take the index file's write lock before they read any event,
//   so they never index a row that a retention transaction (which holds both files' write
//   locks, and commits the events file first) has just deleted.
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
)sql";

// Rows n <= pod_index_state.upto are in events_pod; the rest are tested by their pod column.
constexpr const char* kIndexFileSchema = R"sql(
CREATE TABLE IF NOT EXISTS textidx.index_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS textidx.events_pod(pod TEXT NOT NULL, time_ns INTEGER NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY(pod, time_ns, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS textidx.pod_index_state(id INTEGER PRIMARY KEY CHECK (id = 1),
  upto INTEGER NOT NULL);
INSERT OR IGNORE INTO textidx.pod_index_state(id, upto) VALUES (1, 0);
)sql";

constexpr const char* kDropTextIndex = R"sql(
DROP TABLE IF EXISTS textidx.events_fts;
DROP TABLE IF EXISTS textidx.fts_state;
)sql";

// With kDropTextIndex, everything in the file.
constexpr const char* kDropPodIndexAndOwner = R"sql(
DROP TABLE IF EXISTS textidx.events_pod; DROP TABLE IF EXISTS textidx.pod_index_state;
DROP TABLE IF EXISTS textidx.index_meta;
)sql";

// Earlier schemas kept the word index inside the events file, filled by the writer.
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

int64_t Mark(sqlite3* db, const char* table) {
  Stmt upto(db, std::string("SELECT upto FROM textidx.") + table + " WHERE id = 1");
  return upto.ok() && upto.Step() == SQLITE_ROW ? upto.Int(0) : 0;
}

// True when the attached file belongs to this store and its pod index (when it has one)
// is not ahead of the events.
bool UsableFile(sqlite3* db, const IdHashKey& key, int64_t last_row_ever) {
  Stmt owner(db, "SELECT value FROM textidx.index_meta WHERE name='id_hash_key'");
  if (!owner.ok() || owner.Step() != SQLITE_ROW ||
      sqlite3_column_bytes(owner.get(), 0) != static_cast<int>(key.size()) ||
      std::memcmp(sqlite3_column_blob(owner.get(), 0), key.data(), key.size()) != 0) {
    return false;
  }
  return Mark(db, "pod_index_state") <= last_row_ever;
}

// True when the word index in the attached file was built by this schema and is not
// ahead of the events.
bool UsableTextIndex(sqlite3* db, int64_t last_row_ever) {
  Stmt schema(db, "SELECT sql FROM textidx.sqlite_master WHERE name='events_fts'");
  if (!schema.ok() || schema.Step() != SQLITE_ROW) return false;
  const std::string sql = schema.Text(0);
  for (const char* want : {"content=''", "detail='none'", "prefix='1 2'"}) {
    if (sql.find(want) == std::string::npos) return false;
  }
  return Mark(db, "fts_state") <= last_row_ever;
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
  if (auto st = AttachTextIndexFile(writer_, path); !st.ok()) return st;
  if (!memory_) {
    Stmt wal(writer_, "PRAGMA textidx.journal_mode=WAL");
    if (!wal.ok() || wal.Step() != SQLITE_ROW || wal.Text(0) != "wal") {
      return MakeError("cannot switch " + path + " to WAL mode (is it a SQLite file?)");
    }
  }
  const int64_t last_row_ever = LastRowEver(writer_);
  const bool usable_file = UsableFile(writer_, id_key_, last_row_ever);
  if (!usable_file) {
    if (auto st = Exec(writer_, kDropPodIndexAndOwner); !st.ok()) return st;
  }
  if (!usable_file || !options_.fts || !UsableTextIndex(writer_, last_row_ever)) {
    // Without the word index nothing keeps it current: drop it rather than leave it stale.
    if (auto st = Exec(writer_, kDropTextIndex); !st.ok()) return st;
  }
  if (auto st = Exec(writer_, kIndexFileSchema); !st.ok()) return st;
  {
    Stmt owner(writer_,
               "INSERT OR IGNORE INTO textidx.index_meta(name, value) VALUES('id_hash_key', ?1)");
    if (!owner.ok()) return SqlError(writer_, "prepare index owner");
    sqlite3_bind_blob(owner.get(), 1, id_key_.data(), static_cast<int>(id_key_.size()),
                      SQLITE_STATIC);
    if (owner.Step() != SQLITE_DONE) return SqlError(writer_, "store index owner");
  }
  pod_upto_ = Mark(writer_, "pod_index_state");
  if (options_.fts) {
    if (auto st = Exec(writer_, kTextIndexSchema); !st.ok()) return st;
    // Merge segments less eagerly: less work per chunk, slightly more segments to read.
    if (auto st =
            Exec(writer_,
                 "INSERT INTO textidx.events_fts(events_fts, rank) VALUES('automerge', 8);"
                 "INSERT INTO textidx.events_fts(events_fts, rank) VALUES('crisismerge', 32);");
        !st.ok()) {
      return st;
    }
    fts_upto_ = Mark(writer_, "fts_state");
  }
  if (memory_) {
    indexer_ = writer_;
    if (options_.fts) AddTermList(writer_);
    return OkStatus();
  }
  auto db = OpenConnection(options_.path, false);
  if (!db.ok()) return db.error();
  indexer_ = *db;
  // The indexer merges the word index's segments: it gets the index file's larger cache.
  return AttachTextIndexFile(indexer_, path, 16384);
}

Status Store::AttachTextIndex(sqlite3* db) {
  if (memory_) return OkStatus();
  if (auto st = AttachTextIndexFile(db, TextIndexPath(options_.path)); !st.ok()) return st;
  if (options_.fts) AddTermList(db);
  return OkStatus();
}

// One step of a deferred index on the indexer's connection: `mark_table`'s write lock
// first (the top of the file says why), then the rows after `from` go in.
Result<IndexedRange> Store::FillFromIndexer(const char* mark_table, int64_t from,
                                            const char* insert_sql, int64_t max_rows,
                                            const char* what) {
  std::unique_lock<std::mutex> memory_lock(write_mu_, std::defer_lock);
  if (memory_) memory_lock.lock();  // one connection: the writer's
  sqlite3* db = indexer_;
  const std::string lock_first =
      std::string("BEGIN; UPDATE textidx.") + mark_table + " SET upto = upto WHERE id = 1;";
  if (auto st = Exec(db, lock_first.c_str()); !st.ok()) {
    (void)Exec(db, "ROLLBACK");
    return st.error();
  }
  const std::string mark_sql =
      std::string("UPDATE textidx.") + mark_table + " SET upto = ?1 WHERE id = 1";
  return FillIndexAndCommit(db, "main.events", insert_sql, mark_sql.c_str(), from, max_rows, what);
}

Result<int64_t> Store::IndexText(int64_t max_rows) {
  if (!options_.fts) return int64_t{0};
  std::lock_guard<std::mutex> lock(index_mu_);
  const int64_t from = fts_upto_.load();
  if (from >= last_rowid_.load()) return int64_t{0};
  auto r = FillFromIndexer("fts_state", from,
                           "INSERT INTO textidx.events_fts(rowid, search) SELECT n, search "
                           "FROM main.events WHERE n > ?1 AND n <= ?2",
                           max_rows, "text index");
  if (!r.ok()) return r.error();
  fts_upto_ = r->upto;
  return r->rows;
}

// The pod index gets each chunk sorted by (pod, time): one insertion point per pod per
// chunk instead of per commit, most of them appending to the pod's last page. Under load it
// waits for kPodIndexChunk rows (a pod filter scans at most about that many not indexed
// yet).
Result<int64_t> Store::IndexPods(int64_t max_rows, bool now) {
  std::lock_guard<std::mutex> lock(index_mu_);
  const int64_t from = pod_upto_.load();
  if (last_rowid_.load() - from < (now ? 1 : kPodIndexChunk)) return int64_t{0};
  auto r = FillFromIndexer("pod_index_state", from,
                           "INSERT INTO textidx.events_pod(pod, time_ns, n) SELECT pod, "
                           "time_ns, n FROM main.events WHERE n > ?1 AND n <= ?2 "
                           "ORDER BY pod, time_ns, n",
                           now ? max_rows : 2 * kPodIndexChunk, "pod index");
  if (!r.ok()) return r.error();
  pod_upto_ = r->upto;
  return r->rows;
}

}  // namespace sandwatch::receiver
