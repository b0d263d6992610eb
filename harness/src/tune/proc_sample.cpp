#include "proc_sample.h"

#include <fcntl.h>
#include <unistd.h>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/procfs/usage.h"

namespace sandwatch::harness::tune {

int64_t CountProcesses(const std::string& proc_root) {
  auto pids = procfs::ProcFs(proc_root).ListPids();
  return pids.ok() ? static_cast<int64_t>(pids->size()) : -1;
}

std::string ReadSmallFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  close(fd);
  return out;
}

ProcSample Sample(const std::string& proc_root, int pid) {
  ProcSample s;
  s.mono_ns = SystemClock().MonoNs();
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
