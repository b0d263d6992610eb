// The writer's floor layer by layer (Google Benchmark, same run): 200,000 sensor-sized
// events in commits of 400 rows (four senders of 100), WAL with synchronous=FULL, into
// the store's own schema (created by the real Store, then opened directly):
//   layer 0  the bare table (row number append, the stored JSON and search text);
//   1..5     + events_time, events_rule_time, events_source_time, events_sensor_time,
//            events_pod_time, one at a time, cumulative;
//   6        + events_id_hash, with the duplicate lookup before every insert;
//   7        + the text index (FTS5), filled every 2,000 rows as the busy writer does;
//   8        the real Store (Apply per commit, IndexPending every 2,000 rows): what the
//            layers leave out (sensor upserts, bookkeeping).
// The layers write as the Store's writer does: WAL copied back by a PASSIVE checkpoint on
// another connection every 500 ms, the writer checkpointing itself past 16,384 pages.
// cpu_us_per_event is this thread's CPU per stored event (not the checkpoint thread's);
// fsync waits are not CPU.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "id_hash.h"
#include "sandwatch/core/ids.h"
#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver {
namespace {

constexpr int64_t kEvents = 200'000;
constexpr int64_t kRowsPerCommit = 400;
constexpr int64_t kFtsChunk = 2'000;
const std::array kLayerIndexes{"events_time",        "events_rule_time", "events_source_time",
                               "events_sensor_time", "events_pod_time",  "events_id_hash"};

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
  sqlite3_stmt* index = nullptr;
  ~RawWriter() {
    sqlite3_finalize(find);
    sqlite3_finalize(insert);
    sqlite3_finalize(index);
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
               bool lookup, const IdHashKey& key, benchmark::State& state) {
  Exec(w.db, "BEGIN IMMEDIATE", state);
  for (size_t i = from; i < to; ++i) {
    const Event& e = rows[i].event;
    const int64_t hash = IdHash(key, e.id, ~uint64_t{0});
    if (lookup) {
      sqlite3_reset(w.find);
      sqlite3_bind_int64(w.find, 1, hash);
      BindText(w.find, 2, e.id);
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

void RawFtsChunk(RawWriter& w, int64_t from, int64_t to, benchmark::State& state) {
  Exec(w.db, "BEGIN IMMEDIATE", state);
  sqlite3_reset(w.index);
  sqlite3_bind_int64(w.index, 1, from);
  sqlite3_bind_int64(w.index, 2, to);
  if (sqlite3_step(w.index) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(w.db));
  Exec(w.db, "COMMIT", state);
}

void RunRaw(benchmark::State& state, const std::string& db_path, int layer,
            const std::vector<PreparedEvent>& rows) {
  RawWriter w;
  sqlite3_open(db_path.c_str(), &w.db);
  Exec(w.db,
       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; "
       "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16384;",
       state);
  BackgroundCheckpoint checkpoint(db_path);
  for (size_t i = static_cast<size_t>(std::min(layer, 6)); i < kLayerIndexes.size(); ++i) {
    Exec(w.db, std::string("DROP INDEX ") + kLayerIndexes[i], state);
  }
  sqlite3_prepare_v2(w.db, "SELECT 1 FROM events WHERE id_hash = ?1 AND id = ?2", -1, &w.find,
                     nullptr);
  sqlite3_prepare_v2(w.db,
                     "INSERT INTO events(id, time_ns, rule, priority, source, sensor, pod, ns, "
                     "hostname, seq, received_ns, json, search, id_hash) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                     -1, &w.insert, nullptr);
  sqlite3_prepare_v2(w.db,
                     "INSERT INTO events_fts(rowid, search) SELECT n, search FROM events "
                     "WHERE n > ?1 AND n <= ?2",
                     -1, &w.index, nullptr);
  const IdHashKey key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  state.ResumeTiming();
  int64_t indexed = 0;
  for (size_t from = 0; from < rows.size(); from += kRowsPerCommit) {
    size_t to = std::min(rows.size(), from + static_cast<size_t>(kRowsPerCommit));
    RawCommit(w, rows, from, to, layer >= 6, key, state);
    if (layer >= 7 && static_cast<int64_t>(to) - indexed >= kFtsChunk) {
      RawFtsChunk(w, indexed, static_cast<int64_t>(to), state);
      indexed = static_cast<int64_t>(to);
    }
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
    if ((since_index += kRowsPerCommit) >= kFtsChunk) {
      if (!store->IndexPending(kFtsChunk).ok()) state.SkipWithError("index failed");
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
    if (layer == 8) {
      RunStore(state, std::move(*store), std::move(rows));
    } else {
      store->reset();  // the schema stays; the layers write through their own connection
      RunRaw(state, db, layer, rows);
    }
  }
  state.counters["events"] = static_cast<double>(kEvents);
  state.counters["cpu_us_per_event"] = benchmark::Counter(
      static_cast<double>(kEvents) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_WriterLayers)
    ->ArgName("layer")
    ->DenseRange(0, 8)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sandwatch::receiver

BENCHMARK_MAIN();
