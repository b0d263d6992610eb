// FanotifySource: FAN_OPEN_EXEC on the workload's filesystem (FAN_MARK_FILESYSTEM,
// falling back to FAN_MARK_MOUNT) gives kExec with the exact pid and the path
// opened for exec; FAN_OPEN inode marks on the sensitive files give kFileOpen
// with the pid and the file. Needs CAP_SYS_ADMIN.
//
// Threading: a reader thread drains both fanotify groups. File opens come as
// permission events: the opener waits inside open() while the reader reads its
// cmdline, exe and stat, then gets FAN_ALLOW (the sensor never denies; if it
// dies, the kernel allows everything pending).
// FAN_OPEN_EXEC fires *before* the exec completes, so exec events go to a few
// early-read workers (ShardedWorkers, by pid) that wait (a few ms at most) until
// /proc/PID/exe shows the new image, then read cmdline, exe and stat.
// Openers outside the sensor's PID namespace are reported by the kernel with
// pid 0; they are counted (`fanotify_foreign`) and dropped.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/capture_source.h"
#include "sharded_workers.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct FanotifyOptions {
  const Clock* clock = &SystemClock();  // event receive times; must outlive the source
  std::string proc_root = "/proc";
  std::string workload_root = "/";
  bool exec_events = true;  // FAN_OPEN_EXEC on the workload's filesystem
  bool file_events = true;  // FAN_OPEN on the sensitive files
  // Sensitive files through a FAN_CLASS_CONTENT group (FAN_OPEN_PERM): the opener
  // waits inside open() until the early read is done and we answer FAN_ALLOW
  // (never deny). Falls back to FAN_OPEN when the kernel refuses.
  bool file_perm = true;
  std::vector<std::string> sensitive_patterns;  // empty: DefaultSensitivePatterns()
  bool early_read = true;
  int exec_settle_us = 20000;    // longest wait for an exec to finish before reading
  EventThreadPriority priority;  // reader and early-read threads (see NetlinkOptions)
  int early_read_workers = 4;    // exec early reads, sharded by pid (at least 1)
};

class FanotifySource : public CaptureSource {
 public:
  explicit FanotifySource(FanotifyOptions options);
  ~FanotifySource() override { FanotifySource::Stop(); }

  std::string_view Name() const override { return "fanotify"; }
  Status Probe() const override;
  Status Start(ObservationSink* sink) override;
  void Stop() override;
  void AddCounters(std::map<std::string, int64_t>* counters) const override;

  // The workload-relative files marked for FAN_OPEN (after Start; the reader thread
  // adds files created later, so read this only while the source is stopped or idle).
  const std::vector<std::string>& marked_files() const { return marked_files_; }

 private:
  struct PendingExec {
    int pid = 0;
    std::string raw_path;  // as the sensor sees it
    int64_t mono_ns = 0;
  };
  Status AddMarks(int fan_fd, int perm_fd, std::vector<std::string>* marked) const;
  // Marks the sensitive files (and their credential directories) that exist now and
  // are not in `marked` yet; called at start and every 2 s by the reader thread.
  void AddFileMarks(int fan_fd, int perm_fd, std::vector<std::string>* marked) const;
  void ReaderLoop(ObservationSink* sink);
  void Drain(int fd, bool perm, ObservationSink* sink);
  static void Release(int group_fd, bool perm, int event_fd);
  void ExecLoop(ObservationSink* sink);
  void HandleExec(const PendingExec& item, ObservationSink* sink);
  EarlyRead SettleAndRead(const PendingExec& item) const;

  FanotifyOptions options_;
  std::string root_real_;
  std::vector<std::string> marked_files_;
  std::vector<std::string> homes_;  // HOME of the workload's processes at start
  int fan_fd_ = -1;
  int perm_fd_ = -1;
  int proc_fd_ = -1;
  WakeFd wake_;
  std::thread reader_;
  std::unique_ptr<ShardedWorkers> workers_;
  // Per worker shard (pid % workers): when each pid last exec'd. Only that
  // shard's thread touches its map.
  std::vector<std::unordered_map<int, int64_t>> recent_exec_;

  std::atomic<bool> file_perm_active_{false};
  std::atomic<int> nice_{0};
  std::atomic<bool> rt_{false};
  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> execs_{0};
  std::atomic<int64_t> file_opens_{0};
  std::atomic<int64_t> overflows_{0};
  std::atomic<int64_t> foreign_{0};
  std::atomic<int64_t> interp_merged_{0};
  std::atomic<int64_t> queue_drops_{0};
  std::atomic<int64_t> early_failures_{0};
  std::atomic<int64_t> reader_cpu_ns_{0};
  std::atomic<int64_t> worker_cpu_ns_{0};
};

}  // namespace sandwatch::sensor
