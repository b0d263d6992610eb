#include "store_schema.h"

#include <sqlite3.h>

#include <cstring>
#include <string>

#include "sandwatch/core/log.h"
#include "sqlite_util.h"

namespace sandwatch::receiver {
namespace {

// Every structure the writer fills per event is inserted in (nearly) append order: the
// time index is keyed (time_ns, id_hash), so it also finds a re-sent event (same id, same
// time; the id text compared on a hit) without an index over random keys, which cost the
// writer a dirtied page per event (10.6 us of 29). The pod index is a table in the index
// file beside the events, filled in sorted chunks by the indexing thread (text_index.cpp);
// an index on (pod, time) had 200 insertion points per commit (7 us per event). The rows
// not in it yet are read through events_pod_tail (n, pod, time), an append-order index,
// instead of from the rows themselves (a WAL page read per three rows).
constexpr const char* kEventsTable = R"sql(
CREATE TABLE IF NOT EXISTS events(
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  id_hash INTEGER NOT NULL,
  id TEXT NOT NULL,
  time_ns INTEGER NOT NULL,
  rule TEXT NOT NULL,
  priority INTEGER NOT NULL,
  source TEXT NOT NULL,
  sensor TEXT NOT NULL,
  pod TEXT NOT NULL,
  ns TEXT NOT NULL,
  hostname TEXT NOT NULL,
  seq INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  json TEXT NOT NULL,
  search TEXT NOT NULL);
)sql";

constexpr const char* kEventsIndexes = R"sql(
CREATE INDEX IF NOT EXISTS events_time ON events(time_ns, id_hash);
CREATE INDEX IF NOT EXISTS events_rule_time ON events(rule, time_ns);
CREATE INDEX IF NOT EXISTS events_pod_tail ON events(n, pod, time_ns);
CREATE INDEX IF NOT EXISTS events_source_time ON events(source, time_ns);
CREATE INDEX IF NOT EXISTS events_sensor_time ON events(sensor, time_ns);
)sql";

// Schema 2's indexes: a random-order id hash index, (time) alone, and (pod, time).
constexpr const char* kDropSchema2Indexes = R"sql(
DROP INDEX IF EXISTS events_id_hash;
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS events_pod_time;
)sql";

constexpr const char* kOtherTables = R"sql(
CREATE TABLE IF NOT EXISTS store_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sensors(
  id TEXT PRIMARY KEY,
  mode TEXT NOT NULL DEFAULT '', capture TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '', hostname TEXT NOT NULL DEFAULT '',
  pod TEXT NOT NULL DEFAULT '', ns TEXT NOT NULL DEFAULT '',
  interval_s REAL NOT NULL DEFAULT 0,
  last_heartbeat_ns INTEGER NOT NULL DEFAULT 0,
  heartbeat_time_ns INTEGER NOT NULL DEFAULT 0,
  last_event_ns INTEGER NOT NULL DEFAULT 0,
  first_seen_ns INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  seq_max INTEGER NOT NULL DEFAULT 0,
  seq_count INTEGER NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  silent INTEGER NOT NULL DEFAULT 0,
  silent_since_ns INTEGER NOT NULL DEFAULT 0,
  counters TEXT NOT NULL DEFAULT '{}');
)sql";

// Indexes of the first schema; their names are reused, so they go before the new ones.
constexpr const char* kDropOldIndexes = R"sql(
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS events_rule_time;
DROP INDEX IF EXISTS events_pod_time;
DROP INDEX IF EXISTS events_source_time;
DROP INDEX IF EXISTS events_sensor_time;
)sql";

struct HashContext {
  IdHashKey key;
  uint64_t mask;
};

void SqlIdHash(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  const auto* h = static_cast<const HashContext*>(sqlite3_user_data(ctx));
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  std::string_view id(text ? text : "", static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  sqlite3_result_int64(ctx, IdHash(h->key, id, h->mask));
}

Result<int> UserVersion(sqlite3* db) {
  Stmt v(db, "PRAGMA user_version");
  if (!v.ok() || v.Step() != SQLITE_ROW) return SqlError(db, "user_version");
  return static_cast<int>(v.Int(0));
}

bool HasEventsTable(sqlite3* db) {
  Stmt s(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='events'");
  return s.ok() && s.Step() == SQLITE_ROW;
}

// Copies the events of the first schema into the current table, keeping row numbers and
// the AUTOINCREMENT high mark (the text index's "upto" mark relies on both).
Status MigrateFromFirstSchema(sqlite3* db, const IdHashKey& key, uint64_t mask) {
  HashContext ctx{key, mask};
  if (sqlite3_create_function(db, "sw_id_hash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, &ctx,
                              SqlIdHash, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, "register sw_id_hash");
  }
  int64_t high_mark = 0;
  {
    Stmt s(db, "SELECT seq FROM sqlite_sequence WHERE name='events'");
    if (s.ok() && s.Step() == SQLITE_ROW) high_mark = s.Int(0);
  }
  std::string sql = std::string("ALTER TABLE events RENAME TO events_first_schema;") +
                    kDropOldIndexes + kEventsTable + R"sql(
    INSERT INTO events(n, id_hash, id, time_ns, rule, priority, source, sensor, pod, ns,
      hostname, seq, received_ns, json, search)
    SELECT n, sw_id_hash(id), id, time_ns, rule, priority, source, sensor, pod, ns, hostname,
      seq, received_ns, json, search FROM events_first_schema ORDER BY n;
    DROP TABLE events_first_schema;)sql";
  Status st = Exec(db, sql.c_str());
  if (st.ok()) {
    Stmt mark(db, "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name='events'");
    mark.Bind(1, high_mark);
    if (!mark.ok() || mark.Step() != SQLITE_DONE) st = SqlError(db, "keep row numbers");
  }
  sqlite3_create_function(db, "sw_id_hash", 1, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr);
  return st;
}

}  // namespace

Result<IdHashKey> LoadIdHashKey(sqlite3* db) {
  if (auto st = Exec(db, kOtherTables); !st.ok()) return st.error();
  Stmt get(db, "SELECT value FROM store_meta WHERE name='id_hash_key'");
  if (!get.ok()) return SqlError(db, "prepare key");
  IdHashKey key{};
  if (get.Step() == SQLITE_ROW) {
    if (sqlite3_column_bytes(get.get(), 0) != static_cast<int>(key.size())) {
      return MakeError("store_meta.id_hash_key is not 16 bytes: the store is damaged");
    }
    std::memcpy(key.data(), sqlite3_column_blob(get.get(), 0), key.size());
    return key;
  }
  auto made = NewIdHashKey();
  if (!made.ok()) return made.error();
  Stmt put(db, "INSERT INTO store_meta(name, value) VALUES('id_hash_key', ?1)");
  if (!put.ok()) return SqlError(db, "prepare key");
  sqlite3_bind_blob(put.get(), 1, made->data(), static_cast<int>(made->size()), SQLITE_STATIC);
  if (put.Step() != SQLITE_DONE) return SqlError(db, "store key");
  return *made;
}

Status CreateOrMigrateSchema(sqlite3* db, const IdHashKey& key, uint64_t mask) {
  auto version = UserVersion(db);
  if (!version.ok()) return version.error();
  if (*version > kSchemaVersion) {
    return MakeError("the store was written by a newer receiver (schema " +
                     std::to_string(*version) + ", this one knows " +
                     std::to_string(kSchemaVersion) + ")");
  }
  const bool migrate = *version < kSchemaVersion && HasEventsTable(db);
  if (migrate) SW_LOG(kInfo, "receiver", "migrating the store to the current schema");
  if (auto st = Exec(db, "BEGIN IMMEDIATE"); !st.ok()) return st;
  Status st = migrate && *version < 2 ? MigrateFromFirstSchema(db, key, mask) : OkStatus();
  if (st.ok() && migrate) st = Exec(db, kDropSchema2Indexes);
  if (st.ok()) st = Exec(db, kEventsTable);
  if (st.ok()) st = Exec(db, kEventsIndexes);
  // Schema 3 kept the pod index in this file; the index file's is rebuilt in the background.
  if (st.ok())
    st = Exec(db,
              "DROP TABLE IF EXISTS main.events_pod; DROP TABLE IF EXISTS main.pod_index_state;");
  if (st.ok()) {
    std::string set = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    st = Exec(db, set.c_str());
  }
  if (st.ok()) st = Exec(db, "COMMIT");
  if (!st.ok()) {
    (void)Exec(db, "ROLLBACK");
    return MakeError("cannot prepare the store's schema: " + st.error().message);
  }
  return OkStatus();
}

}  // namespace sandwatch::receiver
