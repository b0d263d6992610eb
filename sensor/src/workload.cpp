#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/sensor/sensor.h"

namespace sandwatch::sensor {

WorkloadChoice ChooseWorkload(const procfs::ProcFs& fs, int self_pid, int workload_pid,
                              const std::string& configured_root) {
  WorkloadChoice c;
  c.pid = workload_pid;
  if (!configured_root.empty()) {
    c.root = configured_root;
    c.why = "workload_root set by flag or env";
    return c;
  }
  if (workload_pid > 0) {
    c.root = fs.PidPath(workload_pid) + "/root";
    c.why = "root of the workload pid";
    return c;
  }
  auto pids = fs.ListPids();
  auto self_mnt = fs.ReadLink(self_pid, "ns/mnt");
  int best_other = 0, best_same = 0;
  uint64_t best_other_ticks = UINT64_MAX, best_same_ticks = UINT64_MAX;
  if (pids.ok()) {
    for (int pid : *pids) {
      if (pid == self_pid) continue;
      auto text = fs.ReadPidFile(pid, "stat", 4096);
      if (!text.ok()) continue;
      auto st = procfs::ParseStat(*text);
      if (!st.ok() || st->IsKernelThread() || st->comm == "pause") continue;
      auto mnt = fs.ReadLink(pid, "ns/mnt");
      bool other = mnt.ok() && self_mnt.ok() && *mnt != *self_mnt;
      if (other && st->start_ticks < best_other_ticks) {
        best_other = pid;
        best_other_ticks = st->start_ticks;
      } else if (!other && st->start_ticks < best_same_ticks) {
        best_same = pid;
        best_same_ticks = st->start_ticks;
      }
    }
  }
  if (best_other > 0) {
    c.pid = best_other;
    c.root = fs.PidPath(best_other) + "/root";
    c.why = "oldest process in another mount namespace (the workload container)";
  } else {
    c.pid = best_same;
    c.root = "/";
    c.why = "every process shares the sensor's mount namespace";
  }
  return c;
}

}  // namespace sandwatch::sensor
