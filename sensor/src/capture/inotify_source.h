// InotifySource: pspy's trigger, done better. Watches the workload's filesystem
// through its root (e.g. /proc/PID/root). A trigger is an open of something an
// exec or an attack touches: /etc/ld.so.cache (every dynamically linked exec
// opens it), files in the binary directories (an exec opens its binary), the
// sensitive files, and every file created after start in the drop trees (/tmp,
// /var/tmp, /dev/shm, recursively, including directories made later: a dropped
// binary is a new file, and its exec opens it, static or not).
// Each batch of triggers does two things, on the source's own event thread:
//  - a NewPidLook look at once, with no hand-off to another thread: the pid
//    list diffed against the last look, and the new pids' cmdline, exe and stat
//    read before a 1 ms process exits (kExec, method "inotify");
//  - asks the pipeline for a /proc scan (kScan), coalesced (ScanCoalescer: at
//    most one pending, at least `min_gap` apart) and delayed `exec_delay` after a
//    binary open, so fd changes of known processes (an open of /etc/shadow) are seen.
// inotify carries no pid: the periodic PollSource stays underneath as the safety
// net. Needs only read access to the workload's root. Watches are bounded
// (`max_watches`); every watch that could not be added is counted.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "inotify_look.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct InotifyOptions {
  const Clock* clock = &SystemClock();  // event receive times; must outlive the source
  std::string workload_root = "/";
  std::string proc_root = "/proc";
  int64_t min_gap_ns = 5'000'000;      // at most 200 triggered scans a second
  int64_t exec_delay_ns = 1'000'000;   // after a binary-directory open
  int64_t sensitive_gap_ns = 500'000;  // min_gap for sensitive-file opens
  EventThreadPriority priority;        // the event thread only reads events and pushes kScan
  std::vector<std::string> sensitive_patterns;  // empty: DefaultSensitivePatterns()
  std::vector<std::string> drop_dirs;           // empty: DefaultDropDirs()
  size_t max_watches = 8192;  // beyond it, watches are not added but counted as failed
  int drop_depth = 8;         // how deep the drop trees are followed
  bool look = true;           // run NewPidLook on every trigger
};

class InotifySource : public CaptureSource {
 public:
  explicit InotifySource(InotifyOptions options);
  ~InotifySource() override { InotifySource::Stop(); }

  std::string_view Name() const override { return "inotify"; }
  Status Probe() const override;
  Status Start(ObservationSink* sink) override;
  void Stop() override;
  void AddCounters(std::map<std::string, int64_t>* counters) const override;
  // "ld.so.cache, 6 binary dirs, 3 sensitive files, drop trees /tmp /dev/shm
  // (12 dirs, 4 new files), 0 watches failed (limit 8192)".
  std::string Describe() const override;

  // Workload-relative paths watched now. Thread-safe.
  std::vector<std::string> watched() const;

 private:
  enum class WatchKind {
    kTrigger,     // an open here is a trigger
    kRewatchDir,  // /etc: only to re-add ld.so.cache after ldconfig
    kDropDir,     // a directory of a drop tree: new entries get watched
  };
  struct Watch {
    std::string path;  // workload-relative
    int64_t delay_ns = 0;
    int64_t gap_ns = -1;  // -1: the coalescer's min_gap
    WatchKind kind = WatchKind::kTrigger;
    bool scan = true;      // false: a trigger for the look only (library directories)
    bool dropped = false;  // a file that appeared in a drop tree after start
  };
  int AddWatches(int fd);
  bool AddOne(int fd, const std::string& rel, uint32_t mask, int64_t delay_ns, WatchKind kind,
              int64_t gap_ns = -1, bool scan = true, bool dropped = false);
  // Watches `rel` (a drop-tree directory) and its subdirectories, recursively;
  // with `files`, also the files already in them (a directory made after start).
  void AddDropTree(int fd, const std::string& rel, int depth, bool files);
  void OnDropEntry(int fd, const Watch& dir, const std::string& name, uint32_t mask);
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
  std::atomic<int64_t> watches_failed_{0};
  std::atomic<int64_t> drop_dirs_{0};
  std::atomic<int64_t> lib_dirs_{0};
  std::atomic<int64_t> drop_files_{0};
  std::vector<std::string> drop_roots_;  // the drop dirs that existed at start
  NewPidLook look_;
  std::atomic<int> nice_{0};
  std::atomic<bool> rt_{false};
  std::atomic<int64_t> slice_us_{0};
};

}  // namespace sandwatch::sensor
