#include "writer.h"

#include <pthread.h>
#include <time.h>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/log.h"
#include "sandwatch/core/procfs/thread_sched.h"

namespace sandwatch::receiver {
namespace {
constexpr size_t kMaxEventsPerCommit = 50000;
}

void Writer::Start() {
  std::promise<void> prioritised;
  auto started = prioritised.get_future();
  thread_ = std::thread([this, ready = std::move(prioritised)]() mutable {
    // --bulk-nice: storing what sensors send yields to searches when both want a CPU.
    if (config_.bulk_nice > 0) {
      if (auto st = procfs::RaiseThreadNice(0, config_.bulk_nice); !st.ok()) {
        SW_LOG(kWarn, "writer", "keeps the normal priority", {"error", st.error().message});
      }
    }
    ready.set_value();
    Loop();
  });
  pthread_setname_np(thread_.native_handle(), "sw-writer");
  started.wait();  // the thread's priority is set once Start() returns
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
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

// The deferred indexes (text and pods) are filled here, off the request path: in big
// chunks when nothing waits; under load the text index in small ones between commits once
// its backlog grows, the pod index once kPodIndexChunk rows wait.
void Writer::IndexText(bool idle) {
  const int64_t fts_backlog = store_.FtsBacklog();
  const int64_t pod_backlog = store_.PodBacklog();
  const bool pods_due = pod_backlog >= (idle ? 1 : kPodIndexChunk);
  if (fts_backlog <= 0 && !pods_due) return;
  bool waiting = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting = !queue_.empty();
  }
  // Small chunks between commits keep request latency low; measured at 1M events, chunks
  // of 5000 stalled the synchronous clients and cost 40 % of the ingest rate. The backlog
  // is kept below a few thousand rows even under continuous load: a text search tests
  // every row not indexed yet directly, which cost it hundreds of ms at a 60,000-row backlog.
  // The text chunk follows the text backlog alone: the pod index's (up to kPodIndexChunk by
  // design) would otherwise split it into chunks of one commit, each costing more per row.
  int64_t chunk = idle ? 20000 : fts_backlog > 4000 ? 2000 : !waiting ? 1000 : 0;
  if (chunk == 0 && !pods_due) return;
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  auto r = store_.IndexPending(chunk, /*pods_now=*/idle);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  metrics_.FtsCpu(static_cast<double>(t1.tv_sec - t0.tv_sec) +
                  static_cast<double>(t1.tv_nsec - t0.tv_nsec) / 1e9);
  if (!r.ok()) SW_LOG(kError, "receiver", "text indexing failed", {"error", r.error().message});
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
    IndexText(idle);
  }
}

}  // namespace sandwatch::receiver
