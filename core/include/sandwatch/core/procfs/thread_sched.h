// Scheduling of this process's own threads: how long the calling thread ran and how long
// it waited for a CPU (/proc/thread-self/schedstat), and a thread's nice value. Used by
// the receiver to show where a request's time went and to run bulk work at a lower weight.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

// Cumulative since the thread started, in ns: on a CPU, and runnable but waiting for one
// (the run-queue delay, which includes the delay between a wake-up and running).
struct SchedTimes {
  int64_t run_ns = 0;
  int64_t wait_ns = 0;
};

// Parses a schedstat line ("<run ns> <wait ns> <timeslices>").
std::optional<SchedTimes> ParseSchedstat(std::string_view text);

// Holds /proc/thread-self/schedstat of the thread that constructed it open; Read() must
// be called from that thread. Read() is nullopt when the kernel keeps no such figures.
// Its run time comes from the thread's CPU clock (schedstat's lags by up to a tick).
class ThreadSchedClock {
 public:
  ThreadSchedClock();
  ~ThreadSchedClock();
  ThreadSchedClock(const ThreadSchedClock&) = delete;
  ThreadSchedClock& operator=(const ThreadSchedClock&) = delete;
  std::optional<SchedTimes> Read() const;

 private:
  int fd_ = -1;
};

// Sets the nice value of thread `tid` of this process (0: the calling thread). Raising
// it (a lower CPU weight) is always allowed; lowering it again needs CAP_SYS_NICE.
Status SetThreadNice(int tid, int nice);

// The nice value of thread `tid` (0: the calling thread).
Result<int> ThreadNice(int tid);

// Adds `increment` (>= 0) to the nice value of thread `tid` (0: the calling thread), up
// to 19; a thread already at 19 stays there.
Status RaiseThreadNice(int tid, int increment);

// Thread ids of this process whose name (/proc/self/task/TID/comm) is `name`.
std::vector<int> ThreadsNamed(std::string_view name);

}  // namespace sandwatch::procfs
