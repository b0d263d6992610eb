// Internals of the local backend (not a public header).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/files.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"

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
// The host-side file of one credential ("runc-app", "kata-app", "host-view", "host-app").
std::string LabTokenFile(const LabCredentials& c, const std::string& name);
// One credential copied (owner-only) to `to`: a pod gets its own sensor's token and never
// another's (the workload must not be able to speak as the host view).
Status CopyLabToken(const LabCredentials& c, const std::string& name, const std::string& to);

// State shared by the runtimes for one run.
struct Lab {
  RunContext* ctx = nullptr;
  CommandRunner* runner = nullptr;
  LabPaths paths;
  int receiver_port = 0;
  std::string receiver_url;  // http://127.0.0.1:PORT
  LabCredentials credentials;
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

// Calls `done` every `every` until it says true (true) or for `timeout_s` (false); false
// at once when the run is interrupted.
bool PollUntil(double timeout_s, std::chrono::milliseconds every,
               const std::function<bool()>& done);
// Blocks up to `seconds`, returning early (false) when the run is interrupted.
bool SleepInterruptibly(double seconds);
std::string ReadText(const std::string& path);
// The text up to its first newline.
std::string FirstLine(const std::string& s);
// The first line `EXE --version` prints, or "unknown" when it fails.
std::string VersionLine(CommandRunner& runner, const std::string& exe,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The pod script's inputs in `dir`: pod.env (`env_head`, then SW_READY_WAIT and SW_SETTLE),
// sensor.args and attack.args, one argument a line.
Status WritePodFiles(const Scenario& s, const std::string& dir, const std::string& env_head,
                     const std::vector<std::string>& sensor_args,
                     const std::vector<std::string>& attack_args);
// The in-guest sensor's flags for a cell.
// token_file: the sensor's credential as its process sees the path ("" = none).
std::vector<std::string> SensorArgs(const Scenario& s, const std::string& receiver_url,
                                    const std::string& pod, const std::string& mode,
                                    const std::string& capture, const std::string& token_file = "");
// The receiver's view of a sensor, by pod name: its capture source ("poll",
// "fanotify+netlink"), or empty when it never sent a heartbeat.
std::string SensorCapture(const std::string& receiver_url, const std::string& pod);
// Waits until the receiver lists a sensor for `pod` (its first heartbeat).
bool WaitForSensor(const std::string& receiver_url, const std::string& pod, double timeout_s);

// Copies our binaries and the shared libraries they need that `rootfs` lacks into
// dest/bin and dest/lib (for runc bind mounts and the guest initramfs).
Status StageBinaries(Lab& lab, const std::string& rootfs, const std::string& dest);

// Writes ROOT/etc/dpkg/dpkg.cfg.d/sandwatch-package-delay when the scenario asks for it,
// and says so in the cell's notes.
Status WritePackageDelayHook(const Scenario& s, const std::string& root, CellOutcome& out);

// One cell as a runtime runs it: the outcome so far, the cell's scratch dir, the pod name
// its sensor stamps, and the run's clock, scenario and command runner.
struct CellRun {
  CellOutcome out;
  std::string dir;  // WORK/CELL-ID (created)
  std::string pod;  // e.g. "runc-app-3"
  const Clock& clock;
  const Scenario& scenario;
  CommandRunner& runner;
  // The outcome of a cell that failed for `why` (ok=false, end time now).
  CellOutcome Fail(const std::string& why);
};

// A runtime of the local backend: host, runc, or the qemu stand-in for kata-qemu
// (LocalBackend::RunCell lists them). `run` runs the cell `c` was begun for: a failed
// cell is c.Fail(why); an Error aborts the run.
struct Runtime {
  std::string_view name;        // as scenarios name it: "runc"
  std::string_view pod_prefix;  // the pod name without the cell index
  Result<CellOutcome> (*run)(Lab& lab, CellRun& c);
};
Result<CellOutcome> RunHostCell(Lab& lab, CellRun& c);  // runtime_host.cpp
Result<CellOutcome> RunRuncCell(Lab& lab, CellRun& c);  // runtime_runc.cpp
Result<CellOutcome> RunQemuCell(Lab& lab, CellRun& c);  // runtime_qemu.cpp
// What every runtime's cell starts with: the outcome (cell, start time), the scratch
// dir and the pod name.
CellRun BeginCell(Lab& lab, const Cell& cell, const Runtime& runtime);

// Waits for `p` to exit within `timeout_s`: its exit code. Empty when it did not, or when the
// run was interrupted (Interrupted() says which); on timeout stops it (grace `stop`).
std::optional<int> WaitForExit(ProcessHandle& p, double timeout_s, std::chrono::milliseconds stop);

// `cd DIR && find WHAT | cpio -o -H newc -R 0:0 > OUT` (lab_assets.cpp).
Status Cpio(CommandRunner& r, const std::string& dir, const std::string& what,
            const std::string& out);
// `cat PARTS... > OUT`: an initramfs is cpio archives one after the other.
Status Concat(CommandRunner& r, const std::vector<std::string>& parts, const std::string& out);

Status PrepareRunc(Lab& lab);
Status PrepareQemu(Lab& lab);

// Doctor checks for the local backend.
std::vector<DoctorCheck> LocalDoctor(CommandRunner& runner,
                                     const std::vector<std::string>& runtimes,
                                     const std::string& bin_dir);

// The end of cell `c`: its end time, its observers in the scenario's order (`in_guest`
// with the pod, comparable pids and the capture the receiver lists filled in here; the host
// view and Falco with `lineage` anchors; `host_pids_comparable` when the host view and
// attack-sim share a PID namespace) and its ground truth: `gt_file` (attack-sim's), then
// DIR/listener.jsonl. An error when either did not parse.
Status EndCell(Lab& lab, CellRun& c, ObserverBinding in_guest, bool host_pids_comparable,
               const std::vector<std::string>& lineage, const std::string& gt_file,
               const std::string& container_id = "");

// The attacker's end of cell `c`: attack-sim `listen` on a free 127.0.0.1 port for up to
// `timeout_s`, writing DIR/listener.jsonl and DIR/listener.log. Returns the port once it
// listens.
Result<int> StartListener(Lab& lab, const CellRun& c, double timeout_s,
                          std::unique_ptr<ProcessHandle>* listener);
// Falco's binding for a cell. With `container_id` (a runc cell), only events of that
// container are the cell's, and their pids (proc.vpid) are the workload's own.
ObserverBinding FalcoBinding(const Lab& lab, std::vector<std::string> lineage,
                             const std::string& container_id);

// Starts Falco for the run when the scenario lists it (falco_service.cpp), and stops it.
Status PrepareFalco(Lab& lab, FalcoService& service);

// Appends `pid`'s cost to lab.costs: CPU seconds and peak RSS (VmHWM) through core/procfs
// ReadUsage (nothing when the process is gone).
void RecordCost(Lab& lab, const std::string& observer, const std::string& cell, int pid,
                int64_t since_wall_ns);

}  // namespace sandwatch::harness::local
