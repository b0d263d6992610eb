// Internals of the local backend (not a public header).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandwatch/core/files.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {
class FalcoService;
}  // namespace sandwatch::harness

namespace sandwatch::harness::local {

// Where the lab keeps its caches and finds its scripts. Every path absolute.
struct LabPaths {
  std::string cache_dir;    // $SANDWATCH_LAB_CACHE or /var/cache/sandwatch/lab
  std::string debs_dir;     // $SANDWATCH_CACHE/debs or /var/cache/sandwatch/debs
  std::string rootfs;       // cache_dir/rootfs-bookworm (debootstrap minbase)
  std::string kernel_dir;   // cache_dir/kernel (vmlinuz, modules/e1000.ko)
  std::string lab_scripts;  // <source>/harness/lab
};
LabPaths ResolveLabPaths();

// The run's per-sensor credentials (lab_credentials.cpp): DIR/sensor-tokens for the receiver
// and DIR/NAME.token for each kind of sensor (host-view, host-app, runc-app, kata-app).
struct LabCredentials {
  std::string dir;
  std::string sensor_tokens;
  std::string falco_token;  // Falco's http_output: RECEIVER/falco/TOKEN
};
// Generates fresh random tokens into `dir` (owner-only files). falco_token: the @falco
// token to use (so an installed Falco can be configured with it), or "" for a random one.
Result<LabCredentials> WriteLabCredentials(const std::string& dir,
                                           const std::string& falco_token = "");
// Copies the sensors' token files into `to_dir` (the /sw tree containers and the VM see).
Status CopyLabCredentials(const LabCredentials& c, const std::string& to_dir);

// State shared by the runtimes for one run.
struct Lab {
  RunContext* ctx = nullptr;
  CommandRunner* runner = nullptr;
  LabPaths paths;
  int receiver_port = 0;
  std::string receiver_url;  // http://127.0.0.1:PORT
  LabCredentials credentials;
  std::string falco_url;  // where a Falco http_output posts: RECEIVER/falco/TOKEN
  bool root = false;
  std::string host_view_capture;  // what the host-view sensor reported
  std::string sw_dir;             // work/sw: bin/ (our binaries), lib/ (their extra libs), lab/
  std::map<std::string, std::string> env;  // facts for environment.json
  // The `falco` observer: available (started by the harness, or external), else why not.
  bool falco_available = false;
  std::string falco_reason = "the scenario does not list the falco observer";
  std::string falco_label;
  // What each observer cost in this run: {observer, cell, cpu_s, rss_mib, wall_s}.
  nlohmann::json costs = nlohmann::json::array();
  int64_t started_wall_ns = 0;
};

// Blocks up to `seconds`, returning early (false) when the run is interrupted.
bool SleepInterruptibly(double seconds);
// Waits for a TCP listener on 127.0.0.1:port.
bool WaitForTcp(int port, double timeout_s);
std::string ReadText(const std::string& path);
Status WriteArgs(const std::string& path, const std::vector<std::string>& args);
// JSONL ground truth; \r stripped (it may have come through a serial port).
Result<std::vector<GroundTruthStep>> ParseGroundTruthText(const std::string& text);

// The in-guest sensor's flags for a cell.
// token_file: the sensor's credential as its process sees the path ("" = none).
std::vector<std::string> SensorArgs(const Scenario& s, const std::string& receiver_url,
                                    const std::string& pod, const std::string& mode,
                                    const std::string& capture, const std::string& token_file = "");
// attack-sim `run` flags for a cell (without "run").
std::vector<std::string> AttackArgs(const Scenario& s, const Cell& c, const std::string& target,
                                    const std::string& package_mode, const std::string& gt_path,
                                    bool allow_remote);

// The receiver's view of a sensor, by pod name: its capture source ("poll",
// "fanotify+netlink"), or empty when it never sent a heartbeat.
std::string SensorCapture(const std::string& receiver_url, const std::string& pod);
// Waits until the receiver lists a sensor for `pod` (its first heartbeat).
bool WaitForSensor(const std::string& receiver_url, const std::string& pod, double timeout_s);

// Copies our binaries and the shared libraries they need that `rootfs` lacks into
// dest/bin and dest/lib (for runc bind mounts and the guest initramfs).
Status StageBinaries(Lab& lab, const std::string& rootfs, const std::string& dest);

// Writes ROOT/etc/dpkg/dpkg.cfg.d/sandwatch-package-delay when the scenario asks for it.
Status WritePackageDelayHook(const Scenario& s, const std::string& root);

// The chain's entry shell in a runc container: `runc exec -t CONTAINER bash -c CHAIN` under
// script(1), as `kubectl exec -it` starts it (entry_shell.cpp).
struct EntryShell {
  std::vector<std::string> argv;        // what the harness runs on the host
  std::vector<std::string> shell_argv;  // the shell's own argv in the container
  bool tty = false;                     // runc exec -t (false: script(1) is missing)
  std::string note;
};
EntryShell RuncEntryShell(CommandRunner& runner, const std::string& container,
                          const std::vector<std::string>& env,
                          const std::vector<std::string>& chain_argv, const std::string& pid_file);
// The ground-truth line of that shell (step `entry-shell`, signal unexpected_shell).
Result<GroundTruthStep> EntryShellStep(const std::string& pid_text, const EntryShell& entry,
                                       int64_t start_wall_ns, int64_t end_wall_ns,
                                       int64_t start_mono_ns, int64_t end_mono_ns);

// One cell as a runtime runs it: the outcome so far, the cell's scratch dir and the
// pod name its sensor stamps.
struct CellRun {
  CellOutcome out;
  std::string dir;  // WORK/CELL-ID (created)
  std::string pod;  // e.g. "runc-app-3"
  const Clock* clock = nullptr;
  // The outcome of a cell that failed for `why` (ok=false, end time now).
  CellOutcome Fail(const std::string& why);
};

// A runtime of the local backend: host, runc, or the qemu stand-in for kata-qemu.
// `run` runs the cell `c` was begun for: a failed cell is c.Fail(why); an Error
// aborts the run.
struct Runtime {
  std::string_view name;        // as scenarios name it: "runc"
  std::string_view pod_prefix;  // the pod name without the cell index
  Result<CellOutcome> (*run)(Lab& lab, CellRun& c);
};
const Runtime& HostRuntime();  // runtime_host.cpp
const Runtime& RuncRuntime();  // runtime_runc.cpp
const Runtime& QemuRuntime();  // runtime_qemu.cpp
// What every runtime's cell starts with: the outcome (cell, start time), the scratch
// dir and the pod name.
CellRun BeginCell(Lab& lab, const Cell& cell, const Runtime& runtime);

// Waits for `p` to exit within `timeout_s`; on timeout stops it (grace `stop`).
enum class Waited { kExited, kTimedOut, kInterrupted };
Waited WaitForExit(const Clock& clock, ProcessHandle& p, double timeout_s,
                   std::chrono::milliseconds stop);

Status PrepareRunc(Lab& lab);
Status PrepareQemu(Lab& lab);

// Doctor checks for the local backend.
std::vector<DoctorCheck> LocalDoctor(CommandRunner& runner,
                                     const std::vector<std::string>& runtimes,
                                     const std::string& bin_dir);

// "3", "0.5": numbers for argument files and pod.env.
std::string Num(double v);

// The end of cell `c`: its end time, its observers in the scenario's order (`in_guest`
// with the pod, comparable pids and `capture` filled in here; the host view and Falco
// with `lineage` anchors; `host_pids_comparable` when the host view and attack-sim share
// a PID namespace) and its ground truth. An error when the ground truth did not parse.
Status EndCell(Lab& lab, CellRun& c, ObserverBinding in_guest, const std::string& capture,
               bool host_pids_comparable, const std::vector<std::string>& lineage,
               Result<std::vector<GroundTruthStep>> gt, const std::string& container_id = "");

// attack-sim `listen` for a cell on 127.0.0.1:port (the attacker's end).
std::vector<std::string> ListenerArgs(const Lab& lab, const Cell& cell, int port, double timeout_s,
                                      const std::string& gt_path);
// Falco's binding for a cell. With `container_id` (a runc cell), only events of that
// container are the cell's, and their pids (proc.vpid) are the workload's own.
ObserverBinding FalcoBinding(const Lab& lab, std::vector<std::string> lineage,
                             const std::string& container_id);

// Starts Falco for the run when the scenario lists it (falco_service.cpp), and stops it.
Status PrepareFalco(Lab& lab, FalcoService& service);

// CPU seconds and peak RSS of a running process (core/procfs ReadUsage).
struct ProcessCost {
  double cpu_s = 0;
  double rss_mib = 0;  // VmHWM
  bool ok = false;
};
ProcessCost ReadProcessCost(int pid);
// Appends `pid`'s cost to lab.costs (nothing when the process is gone).
void RecordCost(Lab& lab, const std::string& observer, const std::string& cell, int pid,
                int64_t since_wall_ns);

}  // namespace sandwatch::harness::local
