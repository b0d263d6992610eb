#include "poll_source.h"

#include <chrono>

#include "sandwatch/core/clock.h"
#include "source_util.h"

namespace sandwatch::sensor {

Status PollSource::Start(ObservationSink* sink) {
  if (interval_s_ <= 0) return MakeError("poll interval must be positive");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, sink] { Loop(sink); });
  return OkStatus();
}

void PollSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PollSource::Loop(ObservationSink* sink) {
  // Ticks are scheduled on an absolute grid so a slow scan does not drift the schedule.
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(interval_s_ * 1e9));
  auto next = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Observation obs;
    obs.kind = Observation::Kind::kScan;
    obs.method = "poll";
    obs.kernel_mono_ns = clock_->MonoNs();
    sink->Push(std::move(obs));
    ticks_.fetch_add(1, std::memory_order_relaxed);
    cpu_ns_.store(ThreadCpuNs(), std::memory_order_relaxed);
    lock.lock();
    next += period;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // fell behind: skip missed ticks rather than burst
    cv_.wait_until(lock, next, [this] { return stopping_; });
  }
}

void PollSource::AddCounters(std::map<std::string, int64_t>* counters) const {
  (*counters)["poll_ticks"] += ticks_.load();
  (*counters)["poll_cpu_us"] += cpu_ns_.load() / 1000;
}

}  // namespace sandwatch::sensor
