#include "sandwatch/core/procfs/usage.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "sandwatch/core/procfs/parsers.h"

namespace sandwatch::procfs {

Result<ProcessUsage> ReadUsage(const ProcFs& fs, int pid) {
  auto stat = fs.ReadPidFile(pid, "stat");
  if (!stat.ok()) return stat.error();
  auto ticks = ParseStatCpuTicks(*stat);
  if (!ticks.ok()) return ticks.error();
  ProcessUsage u;
  const long hz = sysconf(_SC_CLK_TCK);
  u.cpu_s = static_cast<double>(*ticks) / static_cast<double>(hz > 0 ? hz : 100);
  uint64_t sched_ns = 0;
  bool any = false;
  for (int tid : fs.ListTasks(pid).value_or({})) {
    auto text = fs.ReadPidFile(pid, "task/" + std::to_string(tid) + "/schedstat");
    auto ns = text.ok() ? ParseSchedstatNs(*text) : std::nullopt;
    if (!ns) continue;
    sched_ns += *ns;
    any = true;
  }
  if (any) u.sched_cpu_s = static_cast<double>(sched_ns) / 1e9;
  const std::string status = fs.ReadPidFile(pid, "status").value_or("");
  u.rss_kib = ParseStatusKib(status, "VmRSS").value_or(0);
  u.rss_peak_kib = ParseStatusKib(status, "VmHWM").value_or(0);
  return u;
}

std::vector<double> ReadLoadAverages(const ProcFs& fs) {
  const std::string text = fs.ReadRootFile("loadavg").value_or("");
  std::array<double, 3> v{};
  if (std::sscanf(text.c_str(), "%lf %lf %lf", &v[0], &v[1], &v[2]) != 3) return {};
  return {v.begin(), v.end()};
}

std::string LoadAveragesText(const ProcFs& fs) {
  const std::vector<double> v = ReadLoadAverages(fs);
  if (v.size() != 3) return "unknown";
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.2f %.2f %.2f", v[0], v[1], v[2]);
  return buf.data();
}

}  // namespace sandwatch::procfs
