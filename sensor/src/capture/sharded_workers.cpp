#include "sharded_workers.h"

#include "source_util.h"

namespace sandwatch::sensor {

ShardedWorkers::ShardedWorkers(int workers, EventThreadPriority priority,
                               size_t max_queue_per_worker)
    : priority_(priority), max_queue_(max_queue_per_worker) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) shards_.push_back(std::make_unique<Shard>());
}

void ShardedWorkers::Start() {
  for (auto& s : shards_) {
    Shard* shard = s.get();
    {
      std::lock_guard<std::mutex> lock(shard->mu);
      shard->stopping = false;
    }
    if (!shard->thread.joinable()) shard->thread = std::thread([this, shard] { Loop(shard); });
  }
}

bool ShardedWorkers::Submit(int key, std::function<void()> task) {
  const size_t idx = static_cast<size_t>(key < 0 ? -key : key) % shards_.size();
  Shard* shard = shards_[idx].get();
  {
    std::lock_guard<std::mutex> lock(shard->mu);
    if (shard->stopping || shard->queue.size() >= max_queue_) return false;
    shard->queue.push_back(std::move(task));
  }
  shard->cv.notify_one();
  return true;
}

void ShardedWorkers::Stop() {
  for (auto& s : shards_) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->stopping = true;
    }
    s->cv.notify_all();
  }
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
}

int64_t ShardedWorkers::cpu_ns() const {
  int64_t total = 0;
  for (const auto& s : shards_) total += s->cpu_ns.load(std::memory_order_relaxed);
  return total;
}

void ShardedWorkers::Loop(Shard* shard) {
  RaiseThreadPriority(priority_.nice, priority_.realtime);
  std::unique_lock<std::mutex> lock(shard->mu);
  while (true) {
    shard->cv.wait(lock, [shard] { return shard->stopping || !shard->queue.empty(); });
    if (shard->queue.empty()) return;  // stopping and drained
    std::function<void()> task = std::move(shard->queue.front());
    shard->queue.pop_front();
    lock.unlock();
    task();
    shard->cpu_ns.store(ThreadCpuNs(), std::memory_order_relaxed);
    lock.lock();
  }
}

}  // namespace sandwatch::sensor
