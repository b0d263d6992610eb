// The writer's floor layer by layer (Google Benchmark, same run): 200,000 sensor-sized
// events in commits of 400 rows (four senders of 100), WAL with synchronous=FULL, into the
// store's events table (created by the real Store, its indexes dropped, then written
// directly). Two chains of cumulative layers on the same bare table, the earlier schema
// (2) and the current one (3), then the real Store:
//   0     the bare table (row number append, the stored JSON and search text);
//   1..4  schema 2: + the append indexes (time; rule, source, sensor by time), + the
//         (pod, time) index, + the id hash index with its lookup before every insert,
//         + the text index (FTS5) filled every 2,000 rows;
//   5..8  schema 3: + the append indexes with the time index keyed (time, id hash) and the
//         pod index's tail index (n, pod, time), + the
//         duplicate lookup through it, + events_pod filled in sorted chunks of
//         kPodIndexChunk rows, + the text index every 2,000 rows (with the pod chunk in one
//         transaction when both are due, as IndexPending does);
//   9     the real Store (Apply per commit, IndexPending every 2,000 rows, so the text
//         index's own file is filled on this thread too): what the layers leave out
//         (sensor upserts, bookkeeping).
// The layers write as the Store's writer does: WAL copied back by a PASSIVE checkpoint on
// another connection every 500 ms, the writer checkpointing itself past 16,384 pages.
// cpu_us_per_event is this thread's CPU per stored event (not the checkpoint thread's);
// fsync waits are not CPU. base_layer names the layer this one adds to.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>
#include <utility>

#include "id_hash.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kEvents = 200'000;
constexpr int64_t kRowsPerCommit = 400;
constexpr int64_t kChunk = 2'000;

constexpr const char* kAppendIndexes =
    "CREATE INDEX events_rule_time ON events(rule, time_ns);"
    "CREATE INDEX events_source_time ON events(source, time_ns);"
    "CREATE INDEX events_sensor_time ON events(sensor, time_ns);";

constexpr const char* kSchema3TimeAndTail =
    "CREATE INDEX events_time ON events(time_ns, id_hash);"
    "CREATE INDEX events_pod_tail ON events(n, pod, time_ns);";

struct Layer {
  const char* name;
  int base;                 // the layer this one adds to (-1: none)
  std::string indexes;      // created on the bare table
  const char* lookup;       // the duplicate lookup before each insert, or null
  bool pod_chunks = false;  // events_pod filled in sorted chunks
  bool fts_chunks = false;  // the text index filled in chunks
};

const std::array<Layer, 9> kLayers{{
    {"bare table", -1, "", nullptr},
    {"schema 2: + append indexes (time; rule, source, sensor by time)", 0,
     std::string("CREATE INDEX events_time ON events(time_ns);") + kAppendIndexes, nullptr},
    {"schema 2: + (pod, time) index", 1,
     std::string("CREATE INDEX events_time ON events(time_ns);") + kAppendIndexes +
         "CREATE INDEX events_pod_time ON events(pod, time_ns);",
     nullptr},
    {"schema 2: + id hash index and lookup", 2,
     std::string("CREATE INDEX events_time ON events(time_ns);") + kAppendIndexes +
         "CREATE INDEX events_pod_time ON events(pod, time_ns);"
         "CREATE INDEX events_id_hash ON events(id_hash);",
     "SELECT 1 FROM events WHERE id_hash = ?2 AND id = ?3 AND ?1 = ?1"},
    {"schema 2: + text index (FTS5)", 3,
     std::string("CREATE INDEX events_time ON events(time_ns);") + kAppendIndexes +
         "CREATE INDEX events_pod_time ON events(pod, time_ns);"
         "CREATE INDEX events_id_hash ON events(id_hash);",
     "SELECT 1 FROM events WHERE id_hash = ?2 AND id = ?3 AND ?1 = ?1", false, true},
    {"schema 3: + append indexes, time keyed (time, id hash), pod tail (n, pod, time)", 0,
     std::string(kSchema3TimeAndTail) + kAppendIndexes, nullptr},
    {"schema 3: + duplicate lookup by (time, id hash)", 5,
     std::string(kSchema3TimeAndTail) + kAppendIndexes,
     "SELECT 1 FROM events WHERE time_ns = ?1 AND id_hash = ?2 AND id = ?3"},
    {"schema 3: + events_pod in sorted chunks of 5,000 rows", 6,
     std::string(kSchema3TimeAndTail) + kAppendIndexes,
     "SELECT 1 FROM events WHERE time_ns = ?1 AND id_hash = ?2 AND id = ?3", true},
    {"schema 3: + text index (FTS5) every 2,000 rows", 7,
     std::string(kSchema3TimeAndTail) + kAppendIndexes,
     "SELECT 1 FROM events WHERE time_ns = ?1 AND id_hash = ?2 AND id = ?3", true, true},
}};
constexpr int kStoreLayer = static_cast<int>(kLayers.size());

struct LayerDir {
  LayerDir() {
    std::string tmpl = "/tmp/sw-store-layers-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~LayerDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::vector<PreparedEvent> SensorSizedEvents() {
  std::mt19937_64 rng(7);
  std::vector<PreparedEvent> out;
  out.reserve(kEvents);
  for (int64_t i = 0; i < kEvents; ++i) {
    Event e;
    e.id = NewUuid();
    e.seq = static_cast<uint64_t>(i / 4 + 1);
    e.time_ns = 1'900'000'000'000'000'000 + i * 86'400'000'000 / 100;
    e.rule = i % 3 ? "unexpected_shell" : "shadow_file_access";
    e.pod = "pod-" + std::to_string(rng() % 200);
    e.output = "bash -i spawned by nginx (pid " + std::to_string(rng() % 99999) + ") in " + e.pod +
               ": interactive shell in a container";
    e.tags = {"mitre_execution", "container", "shell"};
    e.sensor = {"sensor-" + std::to_string(i % 4), "sidecar", "poll", "0.1.0"};
    e.ns = "kata-demo";
    e.hostname = "host-" + std::to_string(rng() % 5000);
    e.process = ProcessRef{
        static_cast<int>(rng() % 99999), 1, 0, "bash", "/usr/bin/bash", {"bash", "-i"}, 0, "/"};
    e.parent = AncestorRef{1, "nginx", {"nginx", "-g", "daemon off;"}};
    e.file_path = "/etc/shadow";
    out.push_back(Prepare(std::move(e)));
  }
  return out;
}

void Exec(sqlite3* db, const std::string& sql, benchmark::State& state) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    state.SkipWithError((sql + ": " + (err ? err : "?")).c_str());
  }
  sqlite3_free(err);
}

struct RawWriter {
  sqlite3* db = nullptr;
  sqlite3_stmt* find = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* pod_index = nullptr;
  sqlite3_stmt* fts_index = nullptr;
  ~RawWriter() {
    sqlite3_finalize(find);
    sqlite3_finalize(insert);
    sqlite3_finalize(pod_index);
    sqlite3_finalize(fts_index);
    sqlite3_close(db);
  }
};

// PASSIVE checkpoints from a second connection, as Store::CheckpointLoop does.
class BackgroundCheckpoint {
 public:
  explicit BackgroundCheckpoint(const std::string& path)
      : thread_([this, path] {
          sqlite3* db = nullptr;
          sqlite3_open(path.c_str(), &db);
          while (!stop_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
          }
          sqlite3_close(db);
        }) {}
  ~BackgroundCheckpoint() {
    stop_ = true;
    thread_.join();
  }
  BackgroundCheckpoint(const BackgroundCheckpoint&) = delete;
  BackgroundCheckpoint& operator=(const BackgroundCheckpoint&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// One commit of rows [from, to) through the raw connection.
void RawCommit(RawWriter& w, const std::vector<PreparedEvent>& rows, size_t from, size_t to,
               const IdHashKey& key, benchmark::State& state) {
  Exec(w.db, "BEGIN IMMEDIATE", state);
  for (size_t i = from; i < to; ++i) {
    const Event& e = rows[i].event;
    const int64_t hash = IdHash(key, e.id, ~uint64_t{0});
    if (w.find != nullptr) {
      sqlite3_reset(w.find);
      sqlite3_bind_int64(w.find, 1, e.time_ns);
      sqlite3_bind_int64(w.find, 2, hash);
      BindText(w.find, 3, e.id);
      if (sqlite3_step(w.find) != SQLITE_DONE) state.SkipWithError("unexpected duplicate");
    }
    sqlite3_stmt* s = w.insert;
    sqlite3_reset(s);
    BindText(s, 1, e.id);
    sqlite3_bind_int64(s, 2, e.time_ns);
    BindText(s, 3, e.rule);
    sqlite3_bind_int64(s, 4, static_cast<int64_t>(e.priority));
    BindText(s, 5, e.source);
    BindText(s, 6, e.sensor.id);
    BindText(s, 7, e.pod);
    BindText(s, 8, e.ns);
    BindText(s, 9, e.hostname);
    sqlite3_bind_int64(s, 10, static_cast<int64_t>(e.seq));
    sqlite3_bind_int64(s, 11, 1);
    BindText(s, 12, rows[i].json);
    BindText(s, 13, rows[i].search);
    sqlite3_bind_int64(s, 14, hash);
    if (sqlite3_step(s) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(w.db));
  }
  Exec(w.db, "COMMIT", state);
}

void StepRange(sqlite3* db, sqlite3_stmt* s, int64_t from, int64_t to, benchmark::State& state) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, to);
  if (sqlite3_step(s) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(db));
}

void RunRaw(benchmark::State& state, const std::string& db_path, const Layer& layer,
            const std::vector<PreparedEvent>& rows) {
  RawWriter w;
  sqlite3_open(db_path.c_str(), &w.db);
  Exec(w.db,
       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; "
       "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16384;",
       state);
  BackgroundCheckpoint checkpoint(db_path);
  for (const char* index :
       {"events_time", "events_rule_time", "events_source_time", "events_sensor_time",
        "events_pod_time", "events_id_hash", "events_pod_tail"}) {
    Exec(w.db, std::string("DROP INDEX IF EXISTS ") + index, state);
  }
  Exec(w.db, layer.indexes, state);
  // The text and pod index layers measure them inside the events file, filled on the
  // writer's connection, as schemas 2 and 3 kept them (the Store now keeps both in a file
  // of their own, filled by another thread).
  if (layer.pod_chunks) {
    Exec(w.db,
         "CREATE TABLE IF NOT EXISTS events_pod(pod TEXT NOT NULL, time_ns INTEGER NOT NULL, "
         "n INTEGER NOT NULL, PRIMARY KEY(pod, time_ns, n)) WITHOUT ROWID",
         state);
  }
  if (layer.fts_chunks) {
    Exec(w.db,
         "CREATE VIRTUAL TABLE events_fts USING fts5(search, content='events', "
         "content_rowid='n', tokenize='unicode61 remove_diacritics 2', detail='none', "
         "columnsize=0, prefix='1 2')",
         state);
  }
  if (layer.lookup != nullptr) sqlite3_prepare_v2(w.db, layer.lookup, -1, &w.find, nullptr);
  sqlite3_prepare_v2(w.db,
                     "INSERT INTO events(id, time_ns, rule, priority, source, sensor, pod, ns, "
                     "hostname, seq, received_ns, json, search, id_hash) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                     -1, &w.insert, nullptr);
  sqlite3_prepare_v2(w.db,
                     "INSERT INTO events_pod(pod, time_ns, n) SELECT pod, time_ns, n FROM events "
                     "WHERE n > ?1 AND n <= ?2 ORDER BY pod, time_ns, n",
                     -1, &w.pod_index, nullptr);
  sqlite3_prepare_v2(w.db,
                     "INSERT INTO events_fts(rowid, search) SELECT n, search FROM events "
                     "WHERE n > ?1 AND n <= ?2",
                     -1, &w.fts_index, nullptr);
  const IdHashKey key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  state.ResumeTiming();
  int64_t fts_done = 0, pod_done = 0;
  for (size_t from = 0; from < rows.size(); from += kRowsPerCommit) {
    size_t to = std::min(rows.size(), from + static_cast<size_t>(kRowsPerCommit));
    RawCommit(w, rows, from, to, key, state);
    // As IndexPending under load: text every kChunk rows, pods every kPodIndexChunk, the
    // two in one transaction when both are due.
    const auto end = static_cast<int64_t>(to);
    const bool fts_due = layer.fts_chunks && end - fts_done >= kChunk;
    const bool pod_due = layer.pod_chunks && end - pod_done >= kPodIndexChunk;
    if (!fts_due && !pod_due) continue;
    Exec(w.db, "BEGIN IMMEDIATE", state);
    if (pod_due) StepRange(w.db, w.pod_index, std::exchange(pod_done, end), end, state);
    if (fts_due) StepRange(w.db, w.fts_index, std::exchange(fts_done, end), end, state);
    Exec(w.db, "COMMIT", state);
  }
}

void RunStore(benchmark::State& state, std::unique_ptr<Store> store,
              std::vector<PreparedEvent> rows) {
  std::vector<WriteOp> ops(rows.size() / kRowsPerCommit);
  for (size_t k = 0; k < rows.size(); ++k) {
    ops[k / kRowsPerCommit].events.push_back(std::move(rows[k]));
  }
  state.ResumeTiming();
  int64_t since_index = 0;
  for (WriteOp& op : ops) {
    std::vector<WriteOp*> one{&op};
    if (!store->Apply(one).ok()) state.SkipWithError("commit failed");
    if ((since_index += kRowsPerCommit) >= kChunk) {
      if (!store->IndexPending(kChunk, false).ok()) state.SkipWithError("index failed");
      since_index = 0;
    }
  }
}

void BM_WriterLayers(benchmark::State& state) {
  const int layer = static_cast<int>(state.range(0));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark loop
    state.PauseTiming();
    LayerDir dir;
    const std::string db = dir.path + "/events.db";
    auto store = Store::Open(StoreOptions{db, true, true});
    if (!store.ok()) {
      state.SkipWithError(store.error().message.c_str());
      break;
    }
    std::vector<PreparedEvent> rows = SensorSizedEvents();
    if (layer == kStoreLayer) {
      RunStore(state, std::move(*store), std::move(rows));
    } else {
      store->reset();  // the schema stays; the layers write through their own connection
      RunRaw(state, db, kLayers[static_cast<size_t>(layer)], rows);
    }
  }
  state.SetLabel(layer == kStoreLayer ? "the real Store (Apply + IndexPending)"
                                      : kLayers[static_cast<size_t>(layer)].name);
  state.counters["base_layer"] =
      layer == kStoreLayer ? -1 : kLayers[static_cast<size_t>(layer)].base;
  state.counters["events"] = static_cast<double>(kEvents);
  state.counters["cpu_us_per_event"] = benchmark::Counter(
      static_cast<double>(kEvents) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_WriterLayers)
    ->ArgName("layer")
    ->DenseRange(0, kStoreLayer)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sandwatch::receiver

BENCHMARK_MAIN();
