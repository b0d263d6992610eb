// Reading a process's own cost from /proc: CPU from /proc/PID/stat (utime +
// stime, clock ticks) and the sum of /proc/PID/task/*/schedstat (ns), memory from
// /proc/PID/status, through core/procfs. Internal to sandwatch_harness_tune.
#pragma once

#include <cstdint>
#include <string>

#include "sandwatch/core/clock.h"

namespace sandwatch::harness::tune {

struct ProcSample {
  bool ok = false;           // the process was there and stat was readable
  int64_t mono_ns = 0;       // when the sample was taken
  double stat_cpu_s = 0;     // (utime + stime) / CLK_TCK
  double sched_cpu_s = 0;    // schedstat run time; falls back to stat_cpu_s
  int64_t rss_kib = 0;       // VmRSS
  int64_t rss_peak_kib = 0;  // VmHWM
};

ProcSample Sample(const Clock& clock, const std::string& proc_root, int pid);

// Numeric entries under proc_root (processes on the machine), -1 when unreadable.
int64_t CountProcesses(const std::string& proc_root);

// The text of proc_root/loadavg; empty when unreadable.
std::string ReadLoadAvg(const std::string& proc_root = "/proc");

}  // namespace sandwatch::harness::tune
