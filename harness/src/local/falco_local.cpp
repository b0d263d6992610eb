// The local backend's `falco` observer: which Falco, started and stopped by the harness
// (or an external one), its binding per cell, and what it costs.
#include <cstdlib>
#include <filesystem>

#include "local/lab.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/procfs/usage.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/progress.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The rules files Falco's log says it loaded ("   PATH | schema validation: ok").
std::vector<std::string> LoadedRules(const std::string& log) {
  std::vector<std::string> out;
  bool in_list = false;
  for (const std::string& line : SplitLines(log)) {
    if (line.find("Loading rules from:") != std::string::npos) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    auto bar = line.find(" | ");
    auto colon = line.find(": ");
    if (bar == std::string::npos || colon == std::string::npos) break;
    std::string path = line.substr(colon + 2, bar - colon - 2);
    path.erase(0, path.find_first_not_of(' '));
    out.push_back(path);
  }
  return out;
}

void RecordFalcoFacts(Lab& lab, const std::string& exe) {
  CommandRunner& r = *lab.runner;
  lab.env["falco_version"] = VersionLine(r, exe, 20s);
  std::string rules, release;
  for (const auto& path : LoadedRules(ReadText(lab.ctx->out_dir + "/falco.log"))) {
    rules += (rules.empty() ? "" : ", ") + path;
    if (fs::path(path).filename() == "falco_rules.yaml") {
      auto sum = r.Run(Cmd({"sha256sum", path}, 20s));
      if (sum.ok() && sum->ok()) release = FalcoRulesRelease(sum->out.substr(0, 64));
    }
  }
  lab.env["falco_rules_files"] = rules.empty() ? "unknown (see falco.log)" : rules;
  lab.env["falco_rules_release"] = release.empty() ? "unknown" : release;
}

}  // namespace

Status PrepareFalco(Lab& lab, FalcoService& service) {
  RunContext& ctx = *lab.ctx;
  const auto& obs = ctx.scenario->observers;
  if (std::find(obs.begin(), obs.end(), "falco") == obs.end()) {
    lab.env["falco"] = "not in this scenario's observers";
    return OkStatus();
  }
  if (ctx.falco_external) {
    if (std::getenv("SANDWATCH_LAB_RECEIVER_PORT") == nullptr) {
      return MakeError(
          "--falco-external needs SANDWATCH_LAB_RECEIVER_PORT: the port the running Falco's "
          "http_output.url points at (http://127.0.0.1:PORT/falco/TOKEN, with the same TOKEN in "
          "SANDWATCH_LAB_FALCO_TOKEN)",
          2);
    }
    lab.falco_available = true;
    lab.falco_reason.clear();
    lab.falco_label = "Falco on the host, started outside the harness (external)";
    lab.env["falco"] = "external: http_output to " + lab.receiver_url + "/falco/<token>";
    return OkStatus();
  }
  std::string exe = ctx.falco_path.empty() ? lab.runner->Which("falco") : ctx.falco_path;
  lab.falco_reason.clear();
  if (exe.empty()) {
    lab.falco_reason =
        "Falco is not installed on this machine (no falco in PATH, no --falco, no falco.path); "
        "nothing was faked";
  } else if (!lab.root) {
    lab.falco_reason = "Falco needs root (its eBPF probe); nothing was faked";
  } else if (!fs::exists("/sys/kernel/btf/vmlinux")) {
    lab.falco_reason =
        "this kernel has no BTF (/sys/kernel/btf/vmlinux), which Falco's modern "
        "eBPF engine needs; nothing was faked";
  }
  if (!lab.falco_reason.empty()) {
    lab.env["falco"] = "absent: " + lab.falco_reason;
    ctx.progress->Note("falco observer absent: " + lab.falco_reason);
    return OkStatus();
  }
  ctx.progress->Note("starting Falco (" + exe + ", modern eBPF) and waiting until it is ready");
  // Its http_output posts to RECEIVER/falco/TOKEN.
  const std::string url = lab.receiver_url + "/falco/" + lab.credentials.falco_token;
  if (auto st = service.Start(*lab.runner, exe, url, ctx.out_dir, 120); !st.ok()) return st;
  ctx.cleanup->Add("falco", [&service] { service.Stop(); });
  lab.falco_available = true;
  lab.falco_label =
      "Falco (modern eBPF) on the host, started by the harness; http_output to the "
      "receiver";
  lab.env["falco"] = exe;
  lab.env["falco_engine"] = "modern_ebpf";
  RecordFalcoFacts(lab, exe);
  return OkStatus();
}

ObserverBinding FalcoBinding(const Lab& lab, std::vector<std::string> lineage,
                             const std::string& container_id) {
  ObserverBinding b;
  b.observer = "falco";
  b.source = "falco";
  b.label = lab.falco_label;
  b.container_id = container_id;
  if (container_id.empty()) {
    b.lineage = std::move(lineage);  // Falco's proc.aname[N] reach the scorer as ancestors
    b.shared_vantage = true;
  } else {
    // Only this container's events are the cell's; proc.vpid is the workload's own pid.
    b.pids_comparable = true;
  }
  if (!lab.falco_available) {
    b.available = false;
    b.reason = lab.falco_reason;
  } else {
    b.capture_active = {"modern_ebpf"};
  }
  return b;
}

void RecordCost(Lab& lab, const std::string& observer, const std::string& cell, int pid,
                int64_t since_wall_ns) {
  if (pid <= 0) return;
  auto usage = procfs::ReadUsage(procfs::ProcFs(), pid);
  if (!usage.ok()) return;
  const double wall = static_cast<double>(SystemClock().WallNs() - since_wall_ns) / 1e9;
  lab.costs.push_back({{"observer", observer},
                       {"cell", cell},
                       {"cpu_s", usage->cpu_s},
                       {"rss_mib", static_cast<double>(usage->rss_peak_kib) / 1024.0},
                       {"wall_s", wall}});
}

}  // namespace sandwatch::harness::local
