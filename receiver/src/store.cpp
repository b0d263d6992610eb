#include "sandwatch/receiver/store.h"

#include <pthread.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/receiver/ingest.h"
#include "sensors_view.h"
#include "sqlite_util.h"
#include "store_schema.h"

namespace sandwatch::receiver {
namespace {

struct SensorDelta {
  const Event* sample = nullptr;
  int64_t events = 0;
  int64_t seq_count = 0;
  uint64_t seq_max = 0;
};

}  // namespace

struct Store::WriterStmts {
  Stmt find_id;
  Stmt insert_event;
  Stmt upsert_sensor_events;
  Stmt upsert_heartbeat;
  Stmt mark_silent;
};

PreparedEvent Prepare(Event e) {
  PreparedEvent p;
  p.json = EventToJsonLine(e);
  p.search = SearchText(e);
  p.event = std::move(e);
  return p;
}

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(cp_mu_);
    cp_stop_ = true;
  }
  cp_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  for (sqlite3* r : all_readers_) sqlite3_close(r);
  stmts_.reset();
  if (indexer_ != writer_) sqlite3_close(indexer_);
  sqlite3_close(writer_);
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  // Memory statistics put a global mutex around every SQLite allocation; we don't use
  // them. Only effective before SQLite initialises, so done once, first.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  std::unique_ptr<Store> store(new Store(options));
  if (auto st = store->Init(); !st.ok()) return st.error();
  return store;
}

Status Store::Init() {
  memory_ = options_.path == ":memory:";
  auto db = OpenConnection(options_.path, memory_);
  if (!db.ok()) return db.error();
  writer_ = *db;
  RegisterFunctions(writer_);
  if (!memory_) {
    Stmt wal(writer_, "PRAGMA journal_mode=WAL");
    if (!wal.ok() || wal.Step() != SQLITE_ROW || wal.Text(0) != "wal") {
      return MakeError("cannot switch " + options_.path + " to WAL mode (is it a SQLite file?)");
    }
  }
  // CheckpointLoop copies the WAL back in the background (PASSIVE, never blocking). Only
  // the writer can reset the WAL under continuous writes, so it still checkpoints itself
  // once the WAL passes 16384 pages (64 MiB) - by then most frames are already copied.
  std::string pragmas = std::string("PRAGMA synchronous=") +
                        (options_.sync_full ? "FULL" : "NORMAL") +
                        "; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;" +
                        (memory_ ? "" : " PRAGMA wal_autocheckpoint=16384;");
  if (auto st = Exec(writer_, pragmas.c_str()); !st.ok()) return st;
  auto key = LoadIdHashKey(writer_);
  if (!key.ok()) return key.error();
  id_key_ = *key;
  if (auto st = CreateOrMigrateSchema(writer_, id_key_, options_.id_hash_mask); !st.ok()) {
    return st;
  }
  {
    Stmt last(writer_, "SELECT COALESCE(MAX(n), 0) FROM events");
    if (last.ok() && last.Step() == SQLITE_ROW) last_rowid_ = last.Int(0);
  }
  if (auto st = OpenTextIndex(); !st.ok()) return st;
  stmts_ = std::make_unique<WriterStmts>();
  stmts_->find_id =
      Stmt(writer_, "SELECT 1 FROM events WHERE time_ns = ?1 AND id_hash = ?2 AND id = ?3");
  stmts_->insert_event = Stmt(writer_, R"sql(
    INSERT INTO events(id, time_ns, rule, priority, source, sensor, pod, ns,
      hostname, seq, received_ns, json, search, id_hash)
    VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql");
  stmts_->upsert_sensor_events = Stmt(writer_, R"sql(
    INSERT INTO sensors(id, mode, capture, version, hostname, pod, ns, first_seen_ns,
      last_event_ns, events, seq_max, seq_count)
    VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)
    ON CONFLICT(id) DO UPDATE SET
      mode = CASE WHEN excluded.mode <> '' THEN excluded.mode ELSE mode END,
      capture = CASE WHEN excluded.capture <> '' THEN excluded.capture ELSE capture END,
      version = CASE WHEN excluded.version <> '' THEN excluded.version ELSE version END,
      last_event_ns = excluded.last_event_ns,
      events = events + excluded.events,
      seq_max = max(seq_max, excluded.seq_max),
      seq_count = seq_count + excluded.seq_count)sql");
  stmts_->upsert_heartbeat = Stmt(writer_, R"sql(
    INSERT INTO sensors(id, mode, capture, version, hostname, pod, ns, interval_s,
      last_heartbeat_ns, heartbeat_time_ns, first_seen_ns, last_seq, counters)
    VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?11, ?12)
    ON CONFLICT(id) DO UPDATE SET
      mode = excluded.mode, capture = excluded.capture, version = excluded.version,
      hostname = excluded.hostname, pod = excluded.pod, ns = excluded.ns,
      interval_s = excluded.interval_s, last_heartbeat_ns = excluded.last_heartbeat_ns,
      heartbeat_time_ns = excluded.heartbeat_time_ns, last_seq = excluded.last_seq,
      counters = excluded.counters, silent = 0, silent_since_ns = 0)sql");
  stmts_->mark_silent =
      Stmt(writer_, "UPDATE sensors SET silent = 1, silent_since_ns = ?2 WHERE id = ?1");
  if (!stmts_->find_id.ok() || !stmts_->insert_event.ok() || !stmts_->upsert_sensor_events.ok() ||
      !stmts_->upsert_heartbeat.ok() || !stmts_->mark_silent.ok()) {
    return SqlError(writer_, "prepare");
  }
  if (!memory_) {
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    pthread_setname_np(checkpointer_.native_handle(), "sw-checkpoint");
  }
  return OkStatus();
}

Status Store::InsertLocked(WriteOp* op) {
  std::map<std::string, SensorDelta> deltas;
  auto& find = stmts_->find_id;
  auto& ins = stmts_->insert_event;
  for (const PreparedEvent& p : op->events) {
    const Event& e = p.event;
    // A re-sent event (same id, same time) is not stored twice: found through the
    // (time, id hash) index, the id text compared on a hit.
    const int64_t id_hash = IdHash(id_key_, e.id, options_.id_hash_mask);
    find.Reset();
    find.Bind(1, e.time_ns);
    find.Bind(2, id_hash);
    find.BindStatic(3, e.id);
    int found = find.Step();
    if (found == SQLITE_ROW) {
      ++op->duplicates;
      continue;
    }
    if (found != SQLITE_DONE) return SqlError(writer_, "find event id");
    ins.Reset();
    ins.BindStatic(1, e.id);
    ins.Bind(2, e.time_ns);
    ins.BindStatic(3, e.rule);
    ins.Bind(4, static_cast<int64_t>(e.priority));
    ins.BindStatic(5, e.source);
    ins.BindStatic(6, e.sensor.id);
    ins.BindStatic(7, e.pod);
    ins.BindStatic(8, e.ns);
    ins.BindStatic(9, e.hostname);
    ins.Bind(10, static_cast<int64_t>(e.seq));
    ins.Bind(11, op->received_ns);
    ins.BindStatic(12, p.json);
    ins.BindStatic(13, p.search);
    ins.Bind(14, id_hash);
    if (ins.Step() != SQLITE_DONE) return SqlError(writer_, "insert event");
    ++op->accepted;
    op->rowids.push_back(sqlite3_last_insert_rowid(writer_));
    last_rowid_ = op->rowids.back();
    op->stored.push_back(&p);
    if (e.sensor.id.empty() || e.rule == signals::kSensorSilent) continue;
    SensorDelta& d = deltas[e.sensor.id];
    d.sample = &e;
    d.events++;
    if (e.seq > 0) {
      d.seq_count++;
      d.seq_max = std::max(d.seq_max, e.seq);
    }
  }
  auto& up = stmts_->upsert_sensor_events;
  for (const auto& [id, d] : deltas) {
    const Event& e = *d.sample;
    up.Reset();
    up.BindStatic(1, id);
    up.BindStatic(2, e.sensor.mode);
    up.BindStatic(3, e.sensor.capture);
    up.BindStatic(4, e.sensor.version);
    up.BindStatic(5, e.hostname);
    up.BindStatic(6, e.pod);
    up.BindStatic(7, e.ns);
    up.Bind(8, op->received_ns);
    up.Bind(9, d.events);
    up.Bind(10, static_cast<int64_t>(d.seq_max));
    up.Bind(11, d.seq_count);
    if (up.Step() != SQLITE_DONE) return SqlError(writer_, "update sensor");
  }
  if (op->heartbeat) {
    const Heartbeat& h = *op->heartbeat;
    std::string counters = nlohmann::json(h.counters).dump();
    auto& hb = stmts_->upsert_heartbeat;
    hb.Reset();
    hb.BindStatic(1, h.sensor.id);
    hb.BindStatic(2, h.sensor.mode);
    hb.BindStatic(3, h.sensor.capture);
    hb.BindStatic(4, h.sensor.version);
    hb.BindStatic(5, h.hostname);
    hb.BindStatic(6, h.pod);
    hb.BindStatic(7, h.ns);
    hb.Bind(8, h.interval_s);
    hb.Bind(9, op->received_ns);
    hb.Bind(10, h.time_ns);
    hb.Bind(11, static_cast<int64_t>(h.last_seq));
    hb.BindStatic(12, counters);
    if (hb.Step() != SQLITE_DONE) return SqlError(writer_, "store heartbeat");
  }
  return OkStatus();
}

Status Store::Apply(const std::vector<WriteOp*>& ops) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // Deferred: IMMEDIATE would take the text index file's write lock too (text_index.cpp).
  // Only this connection writes the events file, so the upgrade to writing never waits.
  if (auto st = Exec(writer_, "BEGIN"); !st.ok()) return st;
  for (WriteOp* op : ops) {
    if (auto st = InsertLocked(op); !st.ok()) {
      (void)Exec(writer_, "ROLLBACK");
      for (WriteOp* o : ops) {
        o->accepted = o->duplicates = 0;
        o->rowids.clear();
        o->stored.clear();
      }
      return st;
    }
  }
  if (auto st = Exec(writer_, "COMMIT"); !st.ok()) {
    (void)Exec(writer_, "ROLLBACK");
    return st;
  }
  return OkStatus();
}

int64_t Store::SizeBytes() const {
  if (memory_) return 0;
  int64_t total = 0;
  struct stat st {};
  const std::string text = TextIndexPath(options_.path);
  for (const std::string& p : {options_.path, options_.path + "-wal", text, text + "-wal"}) {
    if (::stat(p.c_str(), &st) == 0) total += static_cast<int64_t>(st.st_size);
  }
  return total;
}

}  // namespace sandwatch::receiver
