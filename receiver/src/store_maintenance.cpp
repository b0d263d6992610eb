// Store maintenance: retention, sensor silence and background WAL checkpoints.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/thread_sched.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/receiver/store.h"
#include "sensors_view.h"
#include "sqlite_util.h"

namespace sandwatch::receiver {

void Store::CheckpointLoop() {
  if (options_.background_nice > 0) {
    if (auto st = procfs::RaiseThreadNice(0, options_.background_nice); !st.ok()) {
      SW_LOG(kWarn, "store", "checkpoint keeps the normal priority", {"error", st.error().message});
    }
  }
  auto db = OpenConnection(options_.path, false);
  if (!db.ok()) return;
  (void)AttachTextIndex(*db);  // checkpoints (nullptr below) cover both files
  // A connection checkpoints only files it has read: on one that has not, a checkpoint
  // returns at once and leaves the work to the writer's own checkpoint at 16,384 pages.
  (void)Exec(*db, "SELECT 1 FROM sqlite_master; SELECT 1 FROM textidx.sqlite_master;");
  std::unique_lock<std::mutex> lock(cp_mu_);
  while (!cp_stop_) {
    cp_cv_.wait_for(lock, std::chrono::milliseconds(500));
    lock.unlock();
    // PASSIVE never blocks the writer or readers.
    sqlite3_wal_checkpoint_v2(*db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
  lock.unlock();
  sqlite3_wal_checkpoint_v2(*db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(*db);
}

Result<int64_t> Store::IndexPending(int64_t max_rows, bool pods_now) {
  auto pods = IndexPods(max_rows, pods_now);
  if (!pods.ok()) return pods;
  auto text = IndexText(max_rows);
  if (!text.ok()) return text;
  return std::max(*pods, *text);
}

Result<int64_t> Store::Retain(std::optional<int64_t> min_time_ns, int64_t max_events) {
  constexpr int64_t kChunk = 5000;
  int64_t deleted = 0;
  if (auto st = Exec(writer_, "CREATE TEMP TABLE IF NOT EXISTS doomed(n INTEGER PRIMARY KEY)");
      !st.ok()) {
    return st.error();
  }
  // Each chunk: pick the oldest rows, take the indexed ones out of the text index (it
  // needs their text), then delete them; one transaction per chunk, holding the write locks
  // of both files (the text index's mark is read under its lock; text_index.cpp).
  auto run_chunks = [&](const char* pick_sql, int64_t arg, int64_t budget) -> Status {
    Stmt pick(writer_, pick_sql);
    Stmt unindex(
        writer_,
        options_.fts
            ? "INSERT INTO events_fts(events_fts, rowid, search) SELECT 'delete', e.n, e.search "
              "FROM events e JOIN doomed d ON e.n = d.n "
              "WHERE e.n <= (SELECT upto FROM textidx.fts_state WHERE id = 1)"
            : "SELECT 1");
    // CROSS JOIN keeps the doomed rows as the outer loop (the planner otherwise scans events).
    Stmt unindex_pod(
        writer_,
        "DELETE FROM textidx.events_pod WHERE (pod, time_ns, n) IN (SELECT e.pod, e.time_ns, "
        "e.n FROM doomed d CROSS JOIN events e ON e.n = d.n)");
    Stmt del(writer_, "DELETE FROM events WHERE n IN (SELECT n FROM doomed)");
    if (!pick.ok() || !unindex.ok() || !unindex_pod.ok() || !del.ok()) {
      return SqlError(writer_, "prepare retention");
    }
    while (budget > 0) {
      int64_t n = std::min(budget, kChunk);
      std::lock_guard<std::mutex> lock(write_mu_);
      if (auto st = Exec(writer_, "BEGIN IMMEDIATE; DELETE FROM doomed;"); !st.ok()) return st;
      pick.Reset();
      pick.Bind(1, arg);
      pick.Bind(2, n);
      unindex.Reset();
      unindex_pod.Reset();
      del.Reset();
      int rc = pick.Step();
      if (rc == SQLITE_DONE) rc = unindex.Step();
      while (rc == SQLITE_ROW) rc = unindex.Step();
      if (rc == SQLITE_DONE) rc = unindex_pod.Step();
      if (rc == SQLITE_DONE) rc = del.Step();
      int64_t changed = sqlite3_changes(writer_);
      if (rc != SQLITE_DONE || !Exec(writer_, "COMMIT").ok()) {
        Error e = SqlError(writer_, "retention delete");
        (void)Exec(writer_, "ROLLBACK");
        return e;
      }
      deleted += changed;
      budget -= changed;
      if (changed < n) break;
    }
    return OkStatus();
  };
  if (min_time_ns) {
    auto st = run_chunks(
        "INSERT INTO doomed SELECT n FROM events WHERE time_ns < ?1 ORDER BY time_ns LIMIT ?2",
        *min_time_ns, INT64_MAX);
    if (!st.ok()) return st.error();
  }
  if (max_events > 0) {
    int64_t count = 0;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      Stmt c(writer_, "SELECT COUNT(*) FROM events");
      if (!c.ok() || c.Step() != SQLITE_ROW) return SqlError(writer_, "count");
      count = c.Int(0);
    }
    if (count > max_events) {
      auto st = run_chunks(
          "INSERT INTO doomed SELECT n FROM events WHERE ?1 = ?1 ORDER BY time_ns LIMIT ?2", 0,
          count - max_events);
      if (!st.ok()) return st.error();
    }
  }
  return deleted;
}

Status Store::MarkSilent(int64_t now_ns, double default_interval_s, WriteOp* out) {
  auto sensors = Sensors();
  if (!sensors.ok()) return sensors.error();
  std::vector<std::pair<std::string, Event>> newly;
  for (const SensorRow& s : *sensors) {
    if (s.silent || !IsSilent(s, now_ns, default_interval_s)) continue;
    double interval = s.interval_s > 0 ? s.interval_s : default_interval_s;
    int64_t quiet_ns = now_ns - (s.last_heartbeat_ns ? s.last_heartbeat_ns : s.last_event_ns);
    Event e;
    e.id = "sensor-silent-" + s.id + "-" + std::to_string(now_ns);
    e.time_ns = now_ns;
    e.rule = std::string(signals::kSensorSilent);
    e.priority = Priority::kCritical;
    std::array<char, 160> buf{};
    std::snprintf(buf.data(), buf.size(),
                  " has sent no heartbeat for %.1f s (interval %.1f s); "
                  "events after seq %llu may be lost",
                  static_cast<double>(quiet_ns) / 1e9, interval,
                  static_cast<unsigned long long>(std::max(s.last_seq, s.seq_max)));
    e.output = "sensor " + s.id + buf.data();
    e.tags = {"sandwatch", "sensor_health"};
    e.sensor = {s.id, s.mode, s.capture, s.version};
    e.pod = s.pod;
    e.ns = s.ns;
    e.hostname = s.hostname;
    e.fields = {{"silent_for_s", std::to_string(quiet_ns / 1'000'000'000)},
                {"interval_s", std::to_string(interval)}};
    out->events.push_back(Prepare(std::move(e)));
  }
  if (out->events.empty()) return OkStatus();
  out->received_ns = now_ns;
  std::lock_guard<std::mutex> lock(write_mu_);
  if (auto st = Exec(writer_, "BEGIN"); !st.ok()) return st;  // deferred, as Apply
  Status st = InsertLocked(out);
  Stmt m(writer_, "UPDATE sensors SET silent = 1, silent_since_ns = ?2 WHERE id = ?1");
  if (!m.ok()) st = SqlError(writer_, "prepare mark silent");
  for (size_t i = 0; st.ok() && i < out->events.size(); ++i) {
    m.Reset();
    m.BindStatic(1, out->events[i].event.sensor.id);
    m.Bind(2, now_ns);
    if (m.Step() != SQLITE_DONE) st = SqlError(writer_, "mark silent");
  }
  if (st.ok()) st = Exec(writer_, "COMMIT");
  if (!st.ok()) {
    (void)Exec(writer_, "ROLLBACK");
    out->stored.clear();
    out->rowids.clear();
    out->accepted = 0;
  }
  return st;
}

}  // namespace sandwatch::receiver
