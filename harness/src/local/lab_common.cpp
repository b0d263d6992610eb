#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "local/lab.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/harness/cleanup.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/receiver_client.h"

namespace sandwatch::harness::local {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

LabPaths ResolveLabPaths() {
  LabPaths p;
  const char* lab = std::getenv("SANDWATCH_LAB_CACHE");
  const char* cache = std::getenv("SANDWATCH_CACHE");
  std::string base = cache != nullptr && *cache != '\0' ? cache : "/var/cache/sandwatch";
  p.cache_dir = lab != nullptr && *lab != '\0' ? lab : base + "/lab";
  p.debs_dir = base + "/debs";
  p.rootfs = p.cache_dir + "/rootfs-bookworm";
  p.kernel_dir = p.cache_dir + "/kernel";
  p.lab_scripts = ResolveSourceDir() + "/harness/lab";
  return p;
}

bool PollUntil(double timeout_s, std::chrono::milliseconds every,
               const std::function<bool()>& done) {
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < end && !Interrupted()) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return false;
}

bool SleepInterruptibly(double seconds) {
  PollUntil(seconds, 50ms, [] { return false; });
  return !Interrupted();
}

namespace {

// Waits for a TCP listener on 127.0.0.1:port. Reads /proc/net/tcp for a LISTEN socket on
// the port instead of connecting: a probe connection would be taken for the reverse shell
// by attack-sim's listener.
bool WaitForTcp(int port, double timeout_s) {
  constexpr int kTcpListen = 10;
  const std::string want = ":" + std::to_string(port);
  const procfs::ProcFs fs;
  return PollUntil(timeout_s, 50ms, [&] {
    for (const auto& s : procfs::ParseNetTable(fs.ReadRootFile("net/tcp").value_or(""), "tcp")) {
      if (s.state == kTcpListen && s.local.ends_with(want)) return true;
    }
    return false;
  });
}

Status WriteArgs(const std::string& path, const std::vector<std::string>& args) {
  std::string text;
  for (const auto& a : args) {
    if (a.find('\n') != std::string::npos) return MakeError("argument with a newline: " + a);
    text += a + "\n";
  }
  return WriteFileAtomic(path, text);
}

}  // namespace

std::string ReadText(const std::string& path) { return ReadFileToString(path).value_or(""); }

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string VersionLine(CommandRunner& runner, const std::string& exe,
                        std::chrono::milliseconds timeout) {
  auto v = runner.Run(Cmd({exe, "--version"}, timeout));
  return v.ok() && v->ok() ? FirstLine(v->out) : "unknown";
}

Status WritePodFiles(const Scenario& s, const std::string& dir, const std::string& env_head,
                     const std::vector<std::string>& sensor_args,
                     const std::vector<std::string>& attack_args) {
  const double ready_wait = std::max(2.0, s.sensor.poll_interval_s) + 1.0;
  Status st =
      WriteFileAtomic(dir + "/pod.env", env_head + "SW_READY_WAIT=" + Compact(ready_wait) +
                                            "\nSW_SETTLE=" + Compact(s.SettleSeconds()) + "\n");
  if (st.ok()) st = WriteArgs(dir + "/sensor.args", sensor_args);
  if (st.ok()) st = WriteArgs(dir + "/attack.args", attack_args);
  return st;
}

Status EndCell(Lab& lab, CellRun& c, ObserverBinding in_guest, bool host_pids_comparable,
               const std::vector<std::string>& lineage, const std::string& gt_file,
               const std::string& container_id) {
  CellOutcome* out = &c.out;
  out->end_wall_ns = c.clock.WallNs();
  const std::string capture = SensorCapture(lab.receiver_url, c.pod);
  in_guest.observer = "in-guest";
  in_guest.pod = c.pod;
  in_guest.pids_comparable = true;
  if (!capture.empty()) in_guest.capture_active = {capture};
  for (const auto& o : lab.ctx->scenario->observers) {
    if (o == "in-guest") out->observers.push_back(in_guest);
    if (o == "host-view") {
      ObserverBinding b;
      b.lineage = lineage;
      b.observer = b.pod = "host-view";
      b.sensor_mode = "node";
      b.pids_comparable = host_pids_comparable;
      b.shared_vantage = true;
      b.label = "sandwatch-sensor --mode node on the host: stands where host Falco stands";
      if (!lab.host_view_capture.empty()) b.capture_active = {lab.host_view_capture};
      out->observers.push_back(b);
    }
    if (o == "falco") out->observers.push_back(FalcoBinding(lab, lineage, container_id));
  }
  // The workload's ground truth, then the listener's line; a missing file adds nothing.
  std::vector<GroundTruthStep> gt;
  for (const auto& path : {gt_file, c.dir + "/listener.jsonl"}) {
    if (!fs::exists(path)) continue;
    auto steps = ReadGroundTruthFile(path);
    if (!steps.ok()) return steps.error();
    gt.insert(gt.end(), steps->begin(), steps->end());
  }
  out->ground_truth = std::move(gt);
  return OkStatus();
}

std::vector<std::string> SensorArgs(const Scenario& s, const std::string& receiver_url,
                                    const std::string& pod, const std::string& mode,
                                    const std::string& capture, const std::string& token_file) {
  // Each flag with its value; the optional ones (an empty value) are left out.
  const std::vector<std::pair<const char*, std::string>> flags = {
      {"--receiver-url", receiver_url + "/events"},
      {"--poll-interval", Compact(s.sensor.poll_interval_s)},
      {"--heartbeat-interval", Compact(s.sensor.heartbeat_interval_s)},
      {"--mode", mode},
      {"--capture", capture},
      {"--pod-name", pod},
      {"--pod-namespace", "sandwatch-lab"},
      {"--sensor-id", pod + "-sensor"},
      {"--expected-processes", Join(s.sensor.expected_processes, ",")},
      {"--rules", s.sensor.rules_file},
      {"--receiver-token-file", token_file}};
  std::vector<std::string> a;
  for (const auto& [flag, value] : flags) {
    if (!value.empty()) a.insert(a.end(), {flag, value});
  }
  return a;
}

}  // namespace sandwatch::harness::local

namespace sandwatch::harness {

std::vector<std::string> AttackRunArgs(const Scenario& s, const Cell& c, const std::string& target,
                                       const std::string& package_mode, const std::string& gt_path,
                                       bool allow_remote, bool quiet) {
  std::vector<std::string> a = {"--chain", s.chain, "--speed", c.speed};
  if (c.variant != "default" && !c.variant.empty()) a.insert(a.end(), {"--variant", c.variant});
  if (s.attack.hold_ms) a.insert(a.end(), {"--hold-ms", std::to_string(*s.attack.hold_ms)});
  if (s.attack.gap_ms) a.insert(a.end(), {"--gap-ms", std::to_string(*s.attack.gap_ms)});
  if (s.attack.chain_repeat > 1)
    a.insert(a.end(), {"--repeat", std::to_string(s.attack.chain_repeat)});
  for (auto& x : s.BenignArgs()) a.push_back(std::move(x));
  a.insert(a.end(), {"--target", target});
  // A target off this machine's loopback must be meant: attack-sim refuses it otherwise.
  if (allow_remote) a.emplace_back("--allow-remote");
  a.insert(a.end(), {"--package-install", package_mode, "--ground-truth", gt_path});
  if (quiet) a.emplace_back("--quiet");
  return a;
}

std::vector<std::string> AttackListenArgs(const Scenario& s, const Cell& c, const std::string& bind,
                                          int port, const std::string& timeout_s,
                                          const std::string& gt_path, bool quiet) {
  std::vector<std::string> a = {"--bind",    bind,      "--port",         std::to_string(port),
                                "--speed",   c.speed,   "--count",        "1",
                                "--timeout", timeout_s, "--ground-truth", gt_path};
  if (s.attack.hold_ms) a.insert(a.end(), {"--linger-ms", std::to_string(*s.attack.hold_ms)});
  if (quiet) a.emplace_back("--quiet");
  return a;
}

}  // namespace sandwatch::harness

namespace sandwatch::harness::local {

Result<int> StartListener(Lab& lab, const CellRun& c, double timeout_s,
                          std::unique_ptr<ProcessHandle>* listener) {
  auto port = PickFreeLoopbackPort();
  if (!port.ok()) return port.error();
  std::vector<std::string> argv =
      AttackListenArgs(*lab.ctx->scenario, c.out.cell, "127.0.0.1", *port, Compact(timeout_s),
                       c.dir + "/listener.jsonl", true);
  argv.insert(argv.begin(), {lab.ctx->tools.Path("sandwatch-attack-sim"), "listen"});
  auto started = lab.runner->Start(Bg(argv, "", c.dir + "/listener.log"));
  if (!started.ok()) return started.error();
  *listener = std::move(*started);
  WaitForTcp(*port, 10);
  return *port;
}

std::string SensorCapture(const std::string& receiver_url, const std::string& pod) {
  for (const auto& s : ReceiverClient(receiver_url).Sensors().value_or({})) {
    if (s.pod == pod) return s.capture;
  }
  return "";
}

bool WaitForSensor(const std::string& receiver_url, const std::string& pod, double timeout_s) {
  return PollUntil(timeout_s, 200ms, [&] { return !SensorCapture(receiver_url, pod).empty(); });
}

Status WritePackageDelayHook(const Scenario& s, const std::string& root, CellOutcome& out) {
  if (s.attack.package_delay_ms <= 0) return OkStatus();
  std::error_code ec;
  fs::create_directories(root + "/etc/dpkg/dpkg.cfg.d", ec);
  if (ec) return MakeError("cannot create " + root + "/etc/dpkg/dpkg.cfg.d: " + ec.message());
  Status st = WriteFileAtomic(
      root + "/etc/dpkg/dpkg.cfg.d/sandwatch-package-delay",
      "# sandwatch lab: stands in for the network fetch of apt update && apt install\n"
      "pre-invoke=sleep " +
          Compact(s.attack.package_delay_ms / 1000.0) + "\n");
  if (st.ok()) {
    out.notes.push_back("dpkg pre-invoke hook sleeps " + std::to_string(s.attack.package_delay_ms) +
                        " ms (stands in for the blog's network fetch)");
  }
  return st;
}

}  // namespace sandwatch::harness::local
