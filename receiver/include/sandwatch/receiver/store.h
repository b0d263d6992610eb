// The SQLite event store. One writer (the receiver's writer thread) and many
// concurrent readers (HTTP threads), each reader on its own connection in WAL mode.
// With ":memory:" there is a single connection and readers share the writer's lock.
//
// Failure: every call returns a Status/Result; a failed batch is rolled back, so
// nothing from it is visible. Thread-safety: Apply*, Retain and CheckSilence must be
// called from one thread at a time; Query*, Sensors and SizeBytes from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"
#include "sandwatch/receiver/query.h"

struct sqlite3;

namespace sandwatch::receiver {

struct StoreOptions {
  std::string path;  // file or ":memory:"
  bool fts = true;   // maintain the FTS5 word index (in TextIndexPath) and use it for "filter"
  bool sync_full = true;
  // Bits of the id hash kept (duplicate ids are found by it). Tests narrow it to force
  // hash collisions; a store must always be opened with the same mask.
  uint64_t id_hash_mask = ~uint64_t{0};
  // Added to the background checkpoint thread's nice value (the receiver's --bulk-nice).
  int background_nice = 0;
};

// An event ready to store: the validated struct plus its canonical JSON.
struct PreparedEvent {
  Event event;
  std::string json;    // EventToJsonLine(event)
  std::string search;  // SearchText(event)
};

PreparedEvent Prepare(Event e);

// One unit of work for the writer. The store fills the outcome fields.
struct WriteOp {
  std::vector<PreparedEvent> events;
  std::optional<Heartbeat> heartbeat;
  int64_t received_ns = 0;  // receiver wall clock, for liveness
  // Outcome.
  int accepted = 0;
  int duplicates = 0;
  std::vector<int64_t> rowids;  // of accepted events, parallel to `stored`
  std::vector<const PreparedEvent*> stored;
};

struct QueryResult {
  std::vector<std::pair<int64_t, std::string>> rows;  // rowid, canonical JSON
  int64_t all = 0;                                    // matches before paging
  // With a text filter the matches are counted up to kMaxTextMatchesCounted: past it,
  // `all` is that bound and all_capped is set.
  bool all_capped = false;
};

inline constexpr int64_t kMaxTextMatchesCounted = 10000;

// The text index's database file beside the events file ("<db>-text"). It can be deleted
// while the receiver is stopped; it is then rebuilt in the background.
std::string TextIndexPath(const std::string& db_path);

// Under load the pod index is filled once this many rows wait: each pod's insertion point
// then takes ~25 rows (200 pods) instead of 2; a pod filter scans at most about this
// many rows not indexed yet.
inline constexpr int64_t kPodIndexChunk = 5000;

struct SensorRow {
  std::string id, mode, capture, version, hostname, pod, ns;
  double interval_s = 0;
  int64_t last_heartbeat_ns = 0;  // receiver clock; 0 = never
  int64_t heartbeat_time_ns = 0;  // the sensor's own clock
  int64_t last_event_ns = 0;      // receiver clock
  int64_t first_seen_ns = 0;
  uint64_t last_seq = 0;   // from the latest heartbeat
  uint64_t seq_max = 0;    // highest event seq stored
  uint64_t seq_count = 0;  // events with seq > 0 stored
  int64_t events = 0;
  bool silent = false;
  int64_t silent_since_ns = 0;
  std::string counters_json = "{}";
};

class Store {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // Writes every op in one transaction (group commit). On error nothing is kept.
  Status Apply(const std::vector<WriteOp*>& ops);

  // Deletes events older than `min_time_ns` (if set) and beyond `max_events` (if > 0),
  // oldest first, in chunks. Returns how many were deleted.
  Result<int64_t> Retain(std::optional<int64_t> min_time_ns, int64_t max_events);

  // Sensors not heard from for more than 2x their heartbeat interval and not yet
  // marked silent are marked silent, and one sensor_silent event per sensor is stored,
  // in one transaction. `out` receives the stored events (for the stream and metrics).
  Status MarkSilent(int64_t now_ns, double default_interval_s, WriteOp* out);

  // Adds up to `max_rows` events not yet indexed to the pod index (`now`), or once
  // kPodIndexChunk rows wait up to twice that, in one transaction of the index file's own
  // connection, beside the writer. Returns how many rows it added.
  Result<int64_t> IndexPods(int64_t max_rows, bool now = true);
  // Adds up to `max_rows` events not yet indexed to the text index, in one transaction of
  // the index file's own connection, so it runs beside the writer instead of between its
  // commits. One indexing step (pods or text) at a time. Returns how many rows it added.
  Result<int64_t> IndexText(int64_t max_rows);
  // Both of the above (tests and benchmarks); returns the larger count.
  Result<int64_t> IndexPending(int64_t max_rows, bool pods_now = true);
  // Events stored but not yet in the FTS index (their text filter is evaluated by a scan).
  int64_t FtsBacklog() const { return options_.fts ? last_rowid_.load() - fts_upto_.load() : 0; }
  // Events stored but not yet in the pod index (their pod is read from the row).
  int64_t PodBacklog() const { return last_rowid_.load() - pod_upto_.load(); }
  // Events not yet in every deferred index (pod and text).
  int64_t IndexBacklog() const {
    return last_rowid_.load() -
           std::min(pod_upto_.load(), options_.fts ? fts_upto_.load() : pod_upto_.load());
  }

  Result<QueryResult> Query(const EventQuery& q);
  // Events with rowid > after, oldest first (SSE resume with Last-Event-ID).
  Result<QueryResult> After(int64_t after_rowid, int64_t limit);
  Result<std::vector<SensorRow>> Sensors();
  // Event counts per (bucket start, rule) for events matching `q` (paging ignored).
  struct TimelineRow {
    int64_t bucket_ns;
    std::string rule;
    int64_t count;
  };
  Result<std::vector<TimelineRow>> Timeline(const EventQuery& q, int64_t bucket_ns);
  // Distinct values of rule, source, pod, sensor (at most `limit` each), for UI filters.
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> Facets(int limit);
  Result<int64_t> CountEvents();
  int64_t SizeBytes() const;  // events file, index file and their WALs

 private:
  struct WriterStmts;
  explicit Store(StoreOptions options);
  Status Init();
  // Inserts op's events inside an open transaction; fills the outcome fields.
  Status InsertLocked(WriteOp* op);
  // The text index lives in its own file (TextIndexPath), attached to every connection
  // as "textidx": filling it takes that file's write lock, never the events file's.
  Status OpenTextIndex();
  Result<struct IndexedRange> FillFromIndexer(const char* mark_table, int64_t from,
                                              const char* insert_sql, int64_t max_rows,
                                              const char* what);
  Status AttachTextIndex(sqlite3* db);  // on a reader's or the checkpointer's connection
  Result<sqlite3*> AcquireReader();
  void ReleaseReader(sqlite3* db);

  StoreOptions options_;
  sqlite3* writer_ = nullptr;
  sqlite3* indexer_ = nullptr;  // fills the text index (the writer's connection in memory mode)
  std::mutex index_mu_;         // one IndexText or IndexPods at a time
  std::unique_ptr<WriterStmts> stmts_;
  std::array<uint8_t, 16> id_key_{};  // keys the id hash (store_meta.id_hash_key)
  std::atomic<int64_t> fts_upto_{0};  // events with n <= this are in the FTS index
  std::atomic<int64_t> pod_upto_{0};  // events with n <= this are in events_pod
  std::atomic<int64_t> last_rowid_{0};
  bool memory_ = false;
  std::mutex write_mu_;  // held during writes; readers take it too in memory mode
  std::mutex readers_mu_;
  std::vector<sqlite3*> idle_readers_;
  std::vector<sqlite3*> all_readers_;
  // WAL checkpoints run on their own thread and connection, off the writer's path.
  void CheckpointLoop();
  std::thread checkpointer_;
  std::mutex cp_mu_;
  std::condition_variable cp_cv_;
  bool cp_stop_ = false;
};

}  // namespace sandwatch::receiver
