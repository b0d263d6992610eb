#include "writer.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <functional>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/thread_sched.h"

namespace sandwatch::receiver {
namespace {
constexpr size_t kMaxEventsPerCommit = 50000;

// Starts `body` on a thread named `name` at `nice` above the process's priority, and
// returns once the priority is set.
std::thread StartThreadAtNice(int nice, const char* name, std::function<void()> body) {
  std::promise<void> prioritised;
  auto started = prioritised.get_future();
  std::thread t([nice, name, ready = std::move(prioritised), body = std::move(body)]() mutable {
    if (nice > 0) {
      if (auto st = procfs::RaiseThreadNice(0, nice); !st.ok()) {
        SW_LOG(kWarn, name, "keeps the normal priority", {"error", st.error().message});
      }
    }
    ready.set_value();
    body();
  });
  pthread_setname_np(t.native_handle(), name);
  started.wait();
  return t;
}
}  // namespace

void Writer::Start() {
  // --bulk-nice: storing what sensors send yields to searches for a CPU.
  thread_ = StartThreadAtNice(config_.bulk_nice, "sw-writer", [this] { Loop(); });
  // At the writer's priority: at nice 10 it gained no ingestion and let the backlog,
  // which every text search scans, grow (a text p95 of 140 ms during ingestion).
  index_thread_ = StartThreadAtNice(config_.bulk_nice, "sw-indexer", [this] { IndexLoop(); });
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  index_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (index_thread_.joinable()) index_thread_.join();
}

bool Writer::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

Status Writer::Submit(WriteOp* op) {
  Pending p{op, {}};
  auto fut = p.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return MakeError("receiver is shutting down");
    queue_.push_back(&p);
  }
  cv_.notify_one();
  return fut.get();
}

void Writer::Published(const WriteOp& op) {
  std::vector<std::pair<int64_t, const std::string*>> out;
  out.reserve(op.stored.size());
  for (size_t i = 0; i < op.stored.size(); ++i) {
    out.emplace_back(op.rowids[i], &op.stored[i]->json);
    metrics_.Ingested(op.stored[i]->event.source, op.stored[i]->event.rule);
  }
  metrics_.Duplicates(op.duplicates);
  if (op.heartbeat) metrics_.Heartbeat();
  hub_.Publish(out);
}

void Writer::Commit(std::vector<Pending*>& batch) {
  std::vector<WriteOp*> ops;
  ops.reserve(batch.size());
  for (Pending* p : batch) ops.push_back(p->op);
  Status st = store_.Apply(ops);
  if (!st.ok()) {
    SW_LOG(kError, "receiver", "commit failed", {"error", st.error().message});
  } else {
    metrics_.Committed();
    for (WriteOp* op : ops) Published(*op);
  }
  for (Pending* p : batch) p->done.set_value(st);
  batch.clear();
}

void Writer::Periodic(int64_t now_mono_ns) {
  if (now_mono_ns >= next_silence_ns_) {
    next_silence_ns_ = now_mono_ns + static_cast<int64_t>(config_.silence_check_s * 1e9);
    WriteOp op;
    Status st = store_.MarkSilent(clock_.WallNs(), config_.default_heartbeat_interval_s, &op);
    if (!st.ok()) {
      SW_LOG(kError, "receiver", "silence check failed", {"error", st.error().message});
    } else if (op.accepted > 0) {
      for (const auto* p : op.stored) {
        SW_LOG(kWarn, "receiver", "sensor silent", {"sensor", p->event.sensor.id});
        metrics_.SilentRaised();
      }
      Published(op);
    }
  }
  if (now_mono_ns >= next_retention_ns_ &&
      (config_.retention_age_ns > 0 || config_.retention_max_events > 0)) {
    next_retention_ns_ = now_mono_ns + static_cast<int64_t>(config_.retention_check_s * 1e9);
    std::optional<int64_t> min_time;
    if (config_.retention_age_ns > 0) min_time = clock_.WallNs() - config_.retention_age_ns;
    auto deleted = store_.Retain(min_time, config_.retention_max_events);
    if (!deleted.ok()) {
      SW_LOG(kError, "receiver", "retention failed", {"error", deleted.error().message});
    } else if (*deleted > 0) {
      metrics_.RetentionDeleted(*deleted);
      SW_LOG(kInfo, "receiver", "retention", {"deleted", std::to_string(*deleted)});
    }
  }
}

// The index file's two indexes are filled on their own thread and connection, beside the
// writer. A text search tests every row not in the word index yet directly (hundreds of ms
// at a 60,000-row backlog), so its backlog is taken every 20 ms; bigger chunks cost less per
// row, so a chunk takes everything that waits, up to 20,000 rows. The pod index waits for
// kPodIndexChunk rows while events keep arriving, and takes the rest once they stop. After
// a failure (a full disk, an unwritable index file) a step is retried after 1 s, then 2, up
// to 60: the error is logged once per attempt, and searches scan the rows not indexed.
void Writer::IndexLoop() {
  constexpr int64_t kMaxChunk = 20000;
  int64_t pause_ms = 20;
  int64_t pod_backlog_before = -1;
  while (!Stopping()) {
    bool more = false;
    Status failed = OkStatus();
    if (store_.FtsBacklog() > 0) {
      timespec t0{}, t1{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      auto r = store_.IndexText(kMaxChunk);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
      metrics_.FtsCpu(static_cast<double>(t1.tv_sec - t0.tv_sec) +
                      static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e9);
      if (!r.ok()) failed = r.error();
      more = r.ok() && *r == kMaxChunk;
    }
    const int64_t pod_backlog = store_.PodBacklog();
    if (failed.ok() && pod_backlog > 0) {
      // No new row since the last pass: ingestion paused, index what waits.
      auto r = store_.IndexPods(kMaxChunk, /*now=*/pod_backlog == pod_backlog_before);
      if (!r.ok()) failed = r.error();
      // The words that arrived meanwhile go in at once: a text search scans them until then.
      if (r.ok() && *r > 0) more = true;
    }
    pod_backlog_before = store_.PodBacklog();
    if (!failed.ok()) {
      pause_ms = pause_ms < 1000 ? 1000 : std::min<int64_t>(pause_ms * 2, 60000);
      SW_LOG(kError, "receiver", "indexing failed", {"error", failed.error().message},
             {"retry_in_s", std::to_string(pause_ms / 1000)});
    } else {
      pause_ms = 20;
      if (more) continue;  // more waits
    }
    std::unique_lock<std::mutex> lock(mu_);
    index_cv_.wait_for(lock, std::chrono::milliseconds(pause_ms), [&] { return stopping_; });
  }
}

void Writer::Loop() {
  std::vector<Pending*> batch;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return stopping_ || !queue_.empty(); });
      size_t events = 0;
      while (!queue_.empty() && events < kMaxEventsPerCommit) {
        events += queue_.front()->op->events.size() + 1;
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      stop = stopping_ && queue_.empty();
    }
    bool idle = batch.empty();
    if (!idle) Commit(batch);
    if (stop) break;
    Periodic(clock_.MonoNs());
  }
}

}  // namespace sandwatch::receiver
