#include "sandwatch/harness/vantage.h"

#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sandwatch/core/files.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::harness {
namespace {

constexpr uint64_t kInitPidNsIno = 0xEFFFFFFCU;  // PROC_PID_INIT_INO
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;

}  // namespace

std::string NewestPollSweep(const std::string& results_dir) {
  std::string best;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(results_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("poll-sweep-", 0) != 0) continue;
    if (!std::filesystem::exists(e.path() / "cells.jsonl")) continue;
    if (name > std::filesystem::path(best).filename().string()) best = e.path().string();
  }
  return best;
}

VantageFacts ProbeVantage(const std::string& proc_root) {
  VantageFacts f;
  const std::string status = procfs::ProcFs(proc_root).ReadRootFile("self/status").value_or("");
  const std::string cap_eff(procfs::StatusValue(status, "CapEff").value_or("0"));
  const uint64_t caps = std::strtoull(cap_eff.c_str(), nullptr, 16);
  f.sys_admin = (caps >> kCapSysAdmin) & 1U;
  f.net_admin = (caps >> kCapNetAdmin) & 1U;
  struct stat st {};
  f.initial_pid_ns = stat((proc_root + "/self/ns/pid").c_str(), &st) == 0 &&
                     static_cast<uint64_t>(st.st_ino) == kInitPidNsIno;
  return f;
}

std::string AutoCapture(const VantageFacts& f, const std::string& mode) {
  if (mode == "node" && f.initial_pid_ns && f.net_admin) {
    return f.sys_admin ? "netlink+fanotify" : "netlink";
  }
  return f.sys_admin ? "fanotify" : "inotify";
}

std::string VantageSummary(const std::string& capture, const std::string& mode) {
  if (capture.find("netlink") != std::string::npos) {
    return "privileged node (initial PID namespace, CAP_NET_ADMIN" +
           std::string(capture.find("fanotify") != std::string::npos ? ", CAP_SYS_ADMIN" : "") +
           "): capture " + capture +
           "; every exec arrives with its pid and is read at once, so 1 ms processes are seen "
           "with argv";
  }
  if (capture.find("fanotify") != std::string::npos) {
    return std::string(mode == "node" ? "privileged node" : "privileged sidecar") +
           " (CAP_SYS_ADMIN; netlink " +
           (mode == "node" ? "refused" : "skipped: it sees the whole node") +
           "): capture fanotify; exec and sensitive-file opens carry the pid, so 1 ms "
           "processes are seen with argv";
  }
  if (capture.find("inotify") != std::string::npos) {
    return std::string(mode == "node" ? "node" : "sidecar") +
           " without privileges (no CAP_SYS_ADMIN, CAP_NET_ADMIN: fanotify and netlink "
           "refused): capture inotify; events carry no pid, each open of a dropped file, a "
           "binary directory or ld.so.cache starts a look at new pids, and a process gone "
           "before the look is missed";
  }
  return "poll only (no kernel events; inotify needs read access to the workload's root): a "
         "process living less than POLL_INTERVAL is seen with probability about "
         "lifetime/interval";
}

std::string MeasuredShortLived(const std::string& results_dir, const std::string& capture,
                               bool unprivileged) {
  const std::string dir = NewestPollSweep(results_dir);
  if (dir.empty()) return "no poll-interval sweep under " + results_dir + " to quote";
  // The single source the sweep measured: netlink for netlink+fanotify.
  const std::string cap = capture.substr(0, capture.find('+'));
  // (interval, lifetime, binary) -> "detected/trials"
  std::map<double, std::map<std::pair<int64_t, std::string>, std::string>> found;
  for (const auto& line : SplitLines(ReadFileToString(dir + "/cells.jsonl").value_or(""))) {
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.value("capture", "") != cap) continue;
      if ((j.value("vantage", "") == "unprivileged") != unprivileged) continue;
      const int64_t l = j.value("lifetime_ms", int64_t{0});
      if (l != 1 && l != 10) continue;
      found[j.value("poll_interval_s", 0.0)][{l, j.value("binary", "sleep")}] =
          std::to_string(j.value("detected", 0)) + "/" + std::to_string(j.value("trials", 0));
    } catch (const nlohmann::json::exception&) {
      continue;  // a damaged line: quote what is readable
    }
  }
  const std::string folder = std::filesystem::path(dir).filename().string();
  if (found.empty()) {
    return "results/" + folder + " has no " + cap + " cells" +
           (unprivileged ? " at the unprivileged vantage" : "");
  }
  auto best = found.begin();
  for (auto it = found.begin(); it != found.end(); ++it) {
    if (std::fabs(std::log(it->first / 2)) < std::fabs(std::log(best->first / 2))) best = it;
  }
  std::ostringstream out;
  out << "measured in results/" << folder << " (" << cap << (unprivileged ? ", unprivileged" : "")
      << ", P=" << best->first << " s):";
  const char* sep = " ";
  for (int64_t l : {1, 10}) {
    for (const char* b : {"static", "dynamic", "sleep"}) {
      auto it = best->second.find({l, b});
      if (it == best->second.end()) continue;
      out << sep << l << " ms " << b << " " << it->second;
      sep = ", ";
    }
  }
  return out.str();
}

DoctorCheck VantageCheck(const std::string& name, const std::string& capture,
                         const std::string& mode, const std::string& results_dir) {
  const bool unprivileged = capture == "inotify" || capture == "poll";
  return {.name = name,
          .ok = capture != "poll",  // a poll-only sensor misses most short processes
          .required = false,
          .detail = VantageSummary(capture, mode) + "; " +
                    MeasuredShortLived(results_dir, capture, unprivileged),
          .fix = unprivileged ? "for 1 ms processes with their pid, give the sensor CAP_SYS_ADMIN "
                                "(fanotify, a privileged sidecar) or run it in node mode "
                                "(netlink); docs/capture.md"
                              : ""};
}

}  // namespace sandwatch::harness
