// The single writer thread. HTTP handlers Submit() a WriteOp and block until the
// transaction holding it has committed (so a 202 means durable). Ops that arrive
// while a commit is in progress are grouped into the next transaction.
// The thread also runs the periodic jobs that write: sensor silence, retention and the pod
// index. A second thread fills the text index beside it (Store::IndexText).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "metrics.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/receiver/config.h"
#include "sandwatch/receiver/store.h"
#include "stream_hub.h"

namespace sandwatch::receiver {

class Writer {
 public:
  Writer(Store& store, Metrics& metrics, StreamHub& hub, const ReceiverConfig& config,
         const Clock& clock)
      : store_(store), metrics_(metrics), hub_(hub), config_(config), clock_(clock) {}
  ~Writer() { Stop(); }

  void Start();
  // Drains queued ops, then joins. Idempotent.
  void Stop();
  // Blocks until `op` is committed or failed. Thread-safe.
  Status Submit(WriteOp* op);

 private:
  struct Pending {
    WriteOp* op;
    std::promise<Status> done;
  };
  void Loop();
  void Commit(std::vector<Pending*>& batch);
  void Periodic(int64_t now_mono_ns);
  void Published(const WriteOp& op);
  void IndexLoop();
  bool Stopping();

  Store& store_;
  Metrics& metrics_;
  StreamHub& hub_;
  const ReceiverConfig& config_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable index_cv_;  // wakes the indexing thread at Stop
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread thread_;
  std::thread index_thread_;
  int64_t next_silence_ns_ = 0;
  int64_t next_retention_ns_ = 0;
};

}  // namespace sandwatch::receiver
