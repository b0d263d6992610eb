// What a running process costs, read through ProcFs: CPU time from <pid>/stat and the
// per-thread <pid>/task/*/schedstat, resident memory from <pid>/status. The harness
// measures observers (sensor, Falco) with it. Thread-safe (ProcFs is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

struct ProcessUsage {
  double cpu_s = 0;                   // (utime + stime) / CLK_TCK
  std::optional<double> sched_cpu_s;  // sum of every thread's schedstat run time (ns precision)
  int64_t rss_kib = 0;                // VmRSS, 0 when not shown (kernel thread, zombie)
  int64_t rss_peak_kib = 0;           // VmHWM
};

// Error (IsGone when the process is gone) when <pid>/stat cannot be read or parsed.
// Threads that exit while being summed are left out; a missing status leaves RSS 0.
Result<ProcessUsage> ReadUsage(const ProcFs& fs, int pid);

// The machine's 1-, 5- and 15-minute load averages (<root>/loadavg); empty when unreadable.
std::vector<double> ReadLoadAverages(const ProcFs& fs);
// The same as text, "0.52 0.61 0.70" (each with two decimals, as the kernel writes them);
// "unknown" when unreadable.
std::string LoadAveragesText(const ProcFs& fs);

}  // namespace sandwatch::procfs
