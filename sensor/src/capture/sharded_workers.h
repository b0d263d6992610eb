// ShardedWorkers: a few worker threads, each with its own bounded FIFO. A task
// goes to worker key % n, so tasks with the same key (a pid) run in order, while
// one slow task (an early read stuck on a busy process's mmap lock, or an exec
// that is slow to finish) delays only its own shard, not every event behind it.
// Used for the early reads of the netlink and fanotify sources.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "source_util.h"

namespace sandwatch::sensor {

class ShardedWorkers {
 public:
  // `priority` is applied to every worker.
  ShardedWorkers(int workers, EventThreadPriority priority, size_t max_queue_per_worker);
  ~ShardedWorkers() { Stop(); }
  ShardedWorkers(const ShardedWorkers&) = delete;
  ShardedWorkers& operator=(const ShardedWorkers&) = delete;

  void Start();
  // False (and the task is not run) when that shard's queue is full or stopped.
  bool Submit(int key, std::function<void()> task);
  // Runs what is queued, then joins. Idempotent.
  void Stop();
  int size() const { return static_cast<int>(shards_.size()); }
  // Sum of the workers' thread CPU time so far.
  int64_t cpu_ns() const;

 private:
  struct Shard {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> queue;
    bool stopping = false;
    std::thread thread;
    std::atomic<int64_t> cpu_ns{0};
  };
  void Loop(Shard* shard);

  EventThreadPriority priority_;
  size_t max_queue_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace sandwatch::sensor
