// InotifySource: pspy's trigger, done better. Watches the workload's filesystem
// through its root (e.g. /proc/PID/root) and asks the pipeline for a /proc scan
// (kScan, method "inotify") whenever something that an exec or an attack touches
// is opened: /etc/ld.so.cache (every dynamically linked exec opens it), files in
// the binary directories (an exec opens its binary; the scan is delayed
// `exec_delay` so the exec has finished), the sensitive files, and new files in
// /tmp, /var/tmp, /dev/shm. Scans are coalesced (ScanCoalescer): at most one is
// pending and they are at least `min_gap` apart, so a storm becomes a handful.
// inotify carries no pid: the periodic PollSource stays underneath as the safety
// net. Needs only read access to the workload's root.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct InotifyOptions {
  std::string workload_root = "/";
  int64_t min_gap_ns = 5'000'000;      // at most 200 triggered scans a second
  int64_t exec_delay_ns = 1'000'000;   // after a binary-directory open
  int64_t sensitive_gap_ns = 500'000;  // min_gap for sensitive-file opens
  EventThreadPriority priority;        // the event thread only reads events and pushes kScan
  std::vector<std::string> sensitive_patterns;  // empty: DefaultSensitivePatterns()
};

class InotifySource : public CaptureSource {
 public:
  explicit InotifySource(InotifyOptions options);
  ~InotifySource() override { Stop(); }

  std::string_view Name() const override { return "inotify"; }
  Status Probe() const override;
  Status Start(ObservationSink* sink) override;
  void Stop() override;
  void AddCounters(std::map<std::string, int64_t>* counters) const override;

  // Workload-relative paths watched now. Thread-safe.
  std::vector<std::string> watched() const;

 private:
  struct Watch {
    std::string path;  // workload-relative
    int64_t delay_ns = 0;
    int64_t gap_ns = -1;       // -1: the coalescer's min_gap
    bool rewatch_dir = false;  // /etc: only to re-add ld.so.cache after ldconfig
  };
  int AddWatches(int fd);
  bool AddOne(int fd, const std::string& rel, uint32_t mask, int64_t delay_ns, bool rewatch_dir,
              int64_t gap_ns = -1);
  void Loop(ObservationSink* sink);

  InotifyOptions options_;
  int fd_ = -1;
  WakeFd wake_;
  std::thread thread_;
  // By wd. Written before Start and then only by the event thread, always under
  // watches_mu_; the event thread reads without it, watched() with it.
  mutable std::mutex watches_mu_;
  std::unordered_map<int, Watch> watches_;

  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> scans_{0};
  std::atomic<int64_t> overflows_{0};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<int64_t> watch_count_{0};
  std::atomic<int> nice_{0};
  std::atomic<bool> rt_{false};
};

}  // namespace sandwatch::sensor
