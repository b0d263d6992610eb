#include "proc_sample.h"

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/procfs/usage.h"

namespace sandwatch::harness::tune {

int64_t CountProcesses(const std::string& proc_root) {
  auto pids = procfs::ProcFs(proc_root).ListPids();
  return pids.ok() ? static_cast<int64_t>(pids->size()) : -1;
}

std::string ReadLoadAvg(const std::string& proc_root) {
  return procfs::ProcFs(proc_root).ReadRootFile("loadavg").value_or("");
}

ProcSample Sample(const Clock& clock, const std::string& proc_root, int pid) {
  ProcSample s;
  s.mono_ns = clock.MonoNs();
  auto usage = procfs::ReadUsage(procfs::ProcFs(proc_root), pid);
  if (!usage.ok()) return s;
  s.ok = true;
  s.stat_cpu_s = usage->cpu_s;
  // schedstat covers each thread (ns precision); stat's ticks are the fallback.
  s.sched_cpu_s = usage->sched_cpu_s.value_or(usage->cpu_s);
  s.rss_kib = usage->rss_kib;
  s.rss_peak_kib = usage->rss_peak_kib;
  return s;
}

}  // namespace sandwatch::harness::tune
