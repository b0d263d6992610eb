// NewPidLook: the inotify source's fast path. inotify carries no pid, so each
// trigger (an open of a dropped file, of a binary directory's file, of
// ld.so.cache) asks a dedicated thread for a *look*: list the pids, diff the
// list against the last look, and read each new pid's cmdline, exe and stat at
// once (EarlyRead), then hand it to the pipeline as a kExec. The reads never
// wait behind the pipeline's scan.
//
// An open that comes from execve() fires before the new image exists: the child
// is already in the list, still running its parent's image. Such a pid stays
// *pending* and is re-read with a short backoff (10 us up to 200 us) until its
// exe differs from its parent's and its argv is in place, or `settle_ns` passes.
// A pid that never exec'd by then (a plain fork) is kept in a bounded fork list
// and re-checked on every later look, so a late exec is still caught.
//
// Triggers that arrive while a look is queued are merged into it; nothing is
// lost by merging, because the look diffs the whole pid list. Counters say how
// many were merged and how many new pids each look found.
//
// Thread-safety: Trigger() and AddCounters() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct NewPidLookOptions {
  std::string proc_root = "/proc";
  std::string workload_root = "/";  // exe paths are reported relative to it
  int64_t settle_ns = 20'000'000;   // how long a pending pid is re-read for its exec
  size_t max_forks = 1024;          // forked, not exec'd pids re-checked on each look
  EventThreadPriority priority;
};

class NewPidLook {
 public:
  explicit NewPidLook(NewPidLookOptions options);
  ~NewPidLook() { Stop(); }
  NewPidLook(const NewPidLook&) = delete;
  NewPidLook& operator=(const NewPidLook&) = delete;

  // Records the pids present now (never reported) and starts the thread.
  Status Start(ObservationSink* sink);
  void Stop();
  // Asks for a look; `event_mono_ns` is when the triggering event was read.
  void Trigger(int64_t event_mono_ns);
  void AddCounters(std::map<std::string, int64_t>* counters) const;

 private:
  struct Pending {
    std::string parent_exe;  // the image the child runs until its exec completes
    int64_t deadline_ns = 0;
    int64_t event_ns = 0;  // the trigger that found it
  };
  void Loop();
  void Look(int64_t event_ns);
  void NewPid(int pid, int64_t event_ns);
  // Re-reads the pending pids; emits those whose exec completed.
  void CheckPending();
  // True when the pid is done with (emitted, gone or moved to the fork list).
  bool Check(int pid, Pending* p, int64_t now);
  void Emit(int pid, EarlyRead er, int64_t event_ns, int64_t now);

  NewPidLookOptions options_;
  procfs::ProcFs fs_;
  std::string root_real_;
  int proc_fd_ = -1;
  int self_pid_ = 0;
  ObservationSink* sink_ = nullptr;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stopping_ = false;
  int64_t requested_event_ns_ = 0;

  // Only the look thread touches these.
  std::vector<int> known_;  // sorted pids at the last look
  std::unordered_map<int, Pending> pending_;
  std::unordered_map<int, std::string> forks_;  // pid -> parent's exe

  std::atomic<int64_t> looks_{0};
  std::atomic<int64_t> merged_{0};
  std::atomic<int64_t> new_pids_{0};
  std::atomic<int64_t> new_pids_max_{0};
  std::atomic<int64_t> execs_{0};
  std::atomic<int64_t> gone_{0};
  std::atomic<int64_t> forks_seen_{0};
  std::atomic<int64_t> read_us_total_{0};
  std::atomic<int64_t> read_us_max_{0};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<int> nice_{0};
  std::atomic<bool> rt_{false};
};

}  // namespace sandwatch::sensor
