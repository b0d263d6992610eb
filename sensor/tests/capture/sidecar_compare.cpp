#include "sidecar_compare.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace sandwatch::sensor::testing {

namespace {

using nlohmann::json;

std::set<int> OkPids(const std::string& path) {
  std::set<int> pids;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("exit", -1) != 0) continue;
    pids.insert(j.value("pid", -1));
  }
  return pids;
}

// pspy prints "CMD: UID=0     PID=123    | /tmp/sw-drop.x/static-trial 1000".
std::map<int, std::string> PspyLines(const std::string& path) {
  std::map<int, std::string> seen;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("PID=");
    size_t bar = line.find('|');
    if (line.find("CMD:") == std::string::npos || at == std::string::npos ||
        bar == std::string::npos) {
      continue;
    }
    int pid = std::atoi(line.c_str() + at + 4);
    if (pid > 0) seen[pid] = line.substr(bar + 1);
  }
  return seen;
}

int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

std::string FindPspy(const std::string& source_dir) {
  if (const char* p = std::getenv("SANDWATCH_PSPY")) return p;
  for (const char* up : {"/..", "/../.."}) {
    std::string candidate = source_dir + up + "/shared/peers/pspy/pspy";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string RunSidecarComparison(const SidecarSetup& setup) {
  const std::string& w = setup.workdir;
  const std::string trial = setup.source_dir + "/sensor/tests/capture/short/one_ms.c";
  if (access((w + "/static").c_str(), X_OK) != 0 &&
      Shell("gcc -O2 -static -o " + w + "/static " + trial + " 2>" + w + "/cc.log") != 0) {
    return "gcc -static failed (libc6-dev's libc.a missing?), see " + w + "/cc.log";
  }
  if (access((w + "/dynamic").c_str(), X_OK) != 0 &&
      Shell("gcc -O2 -o " + w + "/dynamic " + trial + " 2>>" + w + "/cc.log") != 0) {
    return "gcc failed, see " + w + "/cc.log";
  }
  const std::string cmd =
      "RUNS=" + std::to_string(setup.runs) + " INFLIGHT=" + std::to_string(setup.inflight) +
      " CAPTURE=" + setup.capture + " PRIVILEGED=" + (setup.privileged ? "1 " : "0 ") +
      setup.source_dir + "/sensor/tests/capture/unpriv_sidecar_run.sh " + w + "/" + setup.run_dir +
      " " + setup.bin_dir + "/sandwatch-sensor " + setup.bin_dir + "/short_spawn " + w +
      "/static " + w + "/dynamic " + setup.pspy;
  if (Shell(cmd) != 0) return "the run failed: " + cmd;
  return {};
}

SidecarRun CountSidecarRun(const std::string& outdir) {
  SidecarRun run;
  std::string dropdir;
  {
    std::ifstream in(outdir + "/dropdir.txt");
    std::getline(in, dropdir);
  }
  if (dropdir.empty()) {
    run.error = "no " + outdir + "/dropdir.txt: the run did not reach the drop";
    return run;
  }
  const std::set<int> static_pids = OkPids(outdir + "/static.jsonl");
  const std::set<int> dynamic_pids = OkPids(outdir + "/dynamic.jsonl");
  run.static_bin.runs = static_cast<int>(static_pids.size());
  run.dynamic_bin.runs = static_cast<int>(dynamic_pids.size());
  const std::string static_exe = dropdir + "/static-trial";
  const std::string dynamic_exe = dropdir + "/dynamic-trial";

  std::set<int> static_seen, dynamic_seen;
  std::ifstream in(outdir + "/sensor.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.value("schema", "") == "sandwatch.heartbeat/v1") {
      if (j.contains("sensor")) run.capture = j["sensor"].value("capture", "");
      if (j.contains("counters") && j["counters"].is_object()) {
        for (auto& [k, v] : j["counters"].items()) {
          if (v.is_number_integer()) run.counters[k] = v.get<long long>();
        }
      }
      continue;
    }
    if (j.value("rule", "") != "post_start_binary_execution" || !j.contains("process")) continue;
    const json& p = j["process"];
    const int pid = p.value("pid", -1);
    const std::string exe = p.value("exe", "");
    const bool argv = p.contains("cmdline") && p["cmdline"].is_array() &&
                      p["cmdline"].size() == 2 && p["cmdline"][1].is_string();
    if (static_pids.count(pid) && exe == static_exe && static_seen.insert(pid).second) {
      ++run.static_bin.sensor;
      if (argv) ++run.static_bin.sensor_with_argv;
    } else if (dynamic_pids.count(pid) && exe == dynamic_exe && dynamic_seen.insert(pid).second) {
      ++run.dynamic_bin.sensor;
      if (argv) ++run.dynamic_bin.sensor_with_argv;
    }
  }

  std::ifstream pspy_check(outdir + "/pspy.log");
  run.pspy_ran = pspy_check.good();
  for (const auto& [pid, cmd] : PspyLines(outdir + "/pspy.log")) {
    if (static_pids.count(pid) && cmd.find("static-trial") != std::string::npos) {
      ++run.static_bin.pspy;
    } else if (dynamic_pids.count(pid) && cmd.find("dynamic-trial") != std::string::npos) {
      ++run.dynamic_bin.pspy;
    }
  }
  return run;
}

}  // namespace sandwatch::sensor::testing
