// PollSource: asks the pipeline for a full /proc scan every poll interval.
// The universal fallback, and the safety net under every event-driven source.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/capture_source.h"

namespace sandwatch::sensor {

class PollSource : public CaptureSource {
 public:
  // `clock` stamps each tick (kernel_mono_ns); it must outlive the source.
  explicit PollSource(double interval_s, const Clock* clock = &SystemClock())
      : interval_s_(interval_s), clock_(clock) {}
  ~PollSource() override { PollSource::Stop(); }

  std::string_view Name() const override { return "poll"; }
  Status Probe() const override { return OkStatus(); }
  Status Start(ObservationSink* sink) override;
  void Stop() override;
  // poll_ticks, poll_cpu_us (this thread's CPU, including whatever the sink
  // does inside Push on it).
  void AddCounters(std::map<std::string, int64_t>* counters) const override;

 private:
  void Loop(ObservationSink* sink);

  double interval_s_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<int64_t> ticks_{0};
  std::atomic<int64_t> cpu_ns_{0};
};

}  // namespace sandwatch::sensor
