// NewPidLook: the inotify source's fast path. inotify carries no pid, so each
// batch of triggers (opens of a dropped file, of a binary directory's file, of
// ld.so.cache) makes the source's own event thread take a *look*, with no
// hand-off to another thread: list the pids, diff the list against the last
// look, and read each new pid's cmdline, exe, stat and fds at once (EarlyRead), then
// hand it to the pipeline as a kExec. The reads never wait behind the
// pipeline's scan.
//
// An open that comes from execve() fires before the new image exists: the child
// is already in the list, still running its parent's image. Such a pid stays
// *pending* and is re-read until its exe differs from its parent's and its argv
// is in place, or `settle_ns` passes: the event thread re-reads it without
// sleeping for the first `spin_ns` (a 1 ms process is gone before a sleeping
// thread is scheduled again on a busy machine), then every `backoff_ns`.
// A pid that never exec'd by then (a plain fork) is kept in a bounded fork list
// and re-checked on every later look, so a late exec is still caught.
//
// A look first reads /proc/sys/kernel/ns_last_pid (the last pid the namespace
// handed out): when it has not moved since a look whose list held that pid, and
// no fork is waiting for its exec, no process was created and the pid list is
// not read.
//
// Triggers read in one batch make one look; nothing is lost by merging, because
// the look diffs the whole pid list. Counters say how many were merged and how
// many new pids each look found.
//
// Thread-safety: one thread (the inotify event thread) calls everything but
// AddCounters(), which any thread may call.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct NewPidLookOptions {
  std::string proc_root = "/proc";
  std::string workload_root = "/";  // exe paths are reported relative to it
  int64_t settle_ns = 20'000'000;   // how long a pending pid is re-read for its exec
  int64_t spin_ns = 2'000'000;      // re-read without sleeping for this long
  int64_t backoff_ns = 200'000;     // then sleep this long between re-reads
  size_t max_forks = 1024;          // forked, not exec'd pids re-checked on each look
};

class NewPidLook {
 public:
  explicit NewPidLook(NewPidLookOptions options);
  ~NewPidLook() { Close(); }
  NewPidLook(const NewPidLook&) = delete;
  NewPidLook& operator=(const NewPidLook&) = delete;

  // Records the pids present now (they are never reported). Observations go to `sink`.
  Status Open(ObservationSink* sink);
  void Close();
  // One look for `triggers` trigger events read in one batch; `event_mono_ns`
  // is when the batch was read.
  void Look(int64_t event_mono_ns, int64_t triggers);
  // An open of a dropped file (workload-relative path) was just read: if a new
  // pid is already a zombie when the look reaches it (exe and cmdline gone, stat
  // still there), a comm equal to this file's name (the kernel sets comm to the
  // exec'd file's basename, 15 bytes) identifies what it ran. Keeps the last 16.
  void NoteDroppedOpen(const std::string& path, int64_t mono_ns);
  // Re-reads the pending pids and reports those whose exec completed. Returns
  // how long the caller may wait before the next call (0: call again at once),
  // or -1 when nothing is pending.
  int64_t CheckPending();
  void AddCounters(std::map<std::string, int64_t>* counters) const;

 private:
  struct Pending {
    std::string parent_exe;  // the image the child runs until its exec completes
    int64_t deadline_ns = 0;
    int64_t spin_until_ns = 0;
    int64_t event_ns = 0;  // the trigger that found it
  };
  void NewPid(int pid, int64_t event_ns);
  // For a new pid whose exe could not be read: the dropped file its comm names,
  // or false (the pid is counted as gone).
  bool ExeFromDroppedOpen(EarlyRead* er, int64_t now) const;
  int64_t ReadLastPid() const;  // -1 when unknown
  // True when the pid is done with (emitted, gone or moved to the fork list).
  bool Check(int pid, Pending* p, int64_t now);
  void Emit(int pid, EarlyRead er, int64_t event_ns, int64_t now);

  NewPidLookOptions options_;
  procfs::ProcFs fs_;
  std::string root_real_;
  int proc_fd_ = -1;
  int last_pid_fd_ = -1;   // <proc>/sys/kernel/ns_last_pid, when readable
  int64_t last_pid_ = -1;  // its value at the last look
  int self_pid_ = 0;
  ObservationSink* sink_ = nullptr;

  // Only the event thread touches these.
  std::vector<int> known_;  // sorted pids at the last look
  std::unordered_map<int, Pending> pending_;
  std::unordered_map<int, std::string> forks_;                  // pid -> parent's exe
  std::vector<std::pair<std::string, int64_t>> dropped_opens_;  // path, when

  std::atomic<int64_t> looks_{0};
  std::atomic<int64_t> looks_skipped_{0};
  std::atomic<int64_t> merged_{0};
  std::atomic<int64_t> new_pids_{0};
  std::atomic<int64_t> new_pids_max_{0};
  std::atomic<int64_t> execs_{0};
  std::atomic<int64_t> gone_{0};
  std::atomic<int64_t> exe_from_event_{0};
  std::atomic<int64_t> forks_seen_{0};
  std::atomic<int64_t> fds_read_{0};  // descriptors read early, over all reported pids
  std::atomic<int64_t> read_us_total_{0};
  std::atomic<int64_t> read_us_max_{0};
};

}  // namespace sandwatch::sensor
