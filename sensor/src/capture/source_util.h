// Small helpers shared by the event-driven capture sources: a wake-up fd to stop
// a poll() loop, the calling thread's CPU time, and errno text.
#pragma once

#include <cstdint>
#include <string>

namespace sandwatch::sensor {

// An eventfd that a poll() loop also waits on; Signal() wakes it for Stop().
class WakeFd {
 public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void Signal();
  void Drain();

 private:
  int fd_ = -1;
};

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in ns.
int64_t ThreadCpuNs();

// What an event thread asks for (CaptureOptions::early_read_nice/_realtime).
struct EventThreadPriority {
  int nice = -10;
  bool realtime = true;
};

// The priority an event thread ended up with.
struct ThreadPriority {
  bool realtime = false;  // SCHED_FIFO at kEventThreadRtPriority
  int nice = 0;           // when not realtime
  int64_t slice_ns = 0;   // when not realtime: the fair-scheduler slice granted (0: default)
};
inline constexpr int kEventThreadRtPriority = 10;
inline constexpr int64_t kEventThreadSliceNs = 100'000;  // the kernel's minimum

// For the calling thread (Linux: per thread): SCHED_FIFO priority 10 when
// `realtime` and CAP_SYS_NICE allow it, else nice `nice` when allowed, and then
// a 0.1 ms fair-scheduler slice (sched_setattr sched_runtime, no privilege
// needed), so the thread preempts sooner on wake-up. Event threads do a few syscalls per event and
// block between events, so a raised priority costs little; RT throttling (95 % by default) still
// bounds them.
ThreadPriority RaiseThreadPriority(int nice, bool realtime);

// "what: strerror(err)".
std::string ErrnoText(const std::string& what, int err);

// Joins root and an absolute or relative path: ("/proc/7/root", "/etc/shadow")
// -> "/proc/7/root/etc/shadow"; root "/" leaves the path as is.
std::string UnderRoot(const std::string& root, const std::string& path);

// The inverse for paths the kernel resolved from the sensor's view: strips
// `root_real` (the resolved workload root, e.g. "/var/lib/c1/rootfs") when the
// path lies under it. Paths outside it come back unchanged.
std::string RelativeToRoot(const std::string& root_real, const std::string& path);

}  // namespace sandwatch::sensor
