#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/sensor/sensor.h"

namespace sandwatch::sensor {

WorkloadChoice ChooseWorkload(const procfs::ProcFs& fs, int self_pid, int workload_pid,
                              const std::string& configured_root, const std::string& mode) {
  WorkloadChoice c;
  c.pid = workload_pid;
  if (!configured_root.empty()) {
    c.root = configured_root;
    c.why = "--workload-root set by flag or env";
    return c;
  }
  if (workload_pid > 0) {
    c.root = fs.PidPath(workload_pid) + "/root";
    c.why = "root of --workload-pid " + std::to_string(workload_pid);
    return c;
  }
  if (mode == "node") {
    // The node (or the kata guest) is the workload: its own root, never the root of
    // whatever sandbox or test process happens to be oldest in another namespace.
    c.root = "/";
    c.why = "mode node: the host's / (set --workload-root to baseline another root)";
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
    c.why = "mode " + mode + ": oldest process in another mount namespace (pid " +
            std::to_string(best_other) + ", the workload container)";
  } else {
    c.pid = best_same;
    c.root = "/";
    c.why = "mode " + mode + ": every process shares the sensor's mount namespace";
  }
  return c;
}

std::string DescribeConfig(const SensorConfig& config) {
  auto j = nlohmann::json::parse(ConfigToJson(config));
  procfs::ProcFs fs(config.proc_root);
  WorkloadChoice w = ChooseWorkload(fs, static_cast<int>(::getpid()), config.workload_pid,
                                    config.workload_root, config.mode);
  j["workload_choice"] = {{"root", w.root}, {"pid", w.pid}, {"why", w.why}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sandwatch::sensor
