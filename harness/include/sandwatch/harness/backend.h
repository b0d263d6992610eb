// Backend: where a chain scenario's cells run. `local` (this machine: host, runc,
// a qemu stand-in for kata-qemu, src/local/) and `kube` (kind + Kata + Falco,
// src/kube/) are registered in DefaultBackends() (src/builtin.cpp).
//
// The chain kind (src/chain_kind.cpp) owns the run: it loads the scenario, asks the
// backend to Prepare(), runs every cell through RunCell(), scores the outcomes
// with the common scorer and writes results/RUN-ID/. A backend never scores
// or writes reports itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/scenario.h"

namespace sandwatch::harness {

class CommandRunner;
class CleanupRegistry;
class Progress;

// Where our binaries are (sandwatch-sensor, -receiver, -attack-sim).
struct Tools {
  std::string bin_dir;
  std::string Path(std::string_view name) const { return bin_dir + "/" + std::string(name); }
};

struct RunContext {
  const Scenario* scenario = nullptr;
  std::string run_id;
  std::string out_dir;   // results/RUN-ID (exists)
  std::string work_dir;  // scratch space for this run (removed by cleanup unless --keep)
  Tools tools;
  CommandRunner* runner = nullptr;
  CleanupRegistry* cleanup = nullptr;
  Progress* progress = nullptr;
  const Clock* clock = nullptr;  // the run's clock
  bool keep = false;             // --keep: leave scratch files for debugging
  std::string falco_path;        // --falco PATH (empty: the scenario's falco.path, else PATH)
  bool falco_external = false;   // --falco-external (or the scenario's falco.external)
};

// How events are attributed to an observer in a cell. An event belongs to the
// binding when its source matches and (when set) its k8s pod matches.
struct ObserverBinding {
  std::string observer;              // host-view | in-guest | falco
  std::string source = "sandwatch";  // event source: sandwatch | falco
  std::string pod;                   // POD_NAME the sensor stamps; empty: any pod
  std::string sensor_mode;           // expected sensor.mode; empty: any
  // True when the observer and the attack-sim share a PID namespace, so
  // ground-truth pids can be compared with event pids.
  bool pids_comparable = false;
  // True when the observer sees processes beyond the workload (a node-wide
  // view, or a sidecar without its own PID namespace): a match then also
  // needs lineage evidence (pid match, or an attack-sim ancestor).
  bool shared_vantage = false;
  // With shared_vantage: ancestor names (comm, 15 chars) that the chain's processes
  // have besides attack-sim, e.g. "pod.sh" or "runc", so another attack-sim on the
  // same machine (a test, another run) is never counted.
  std::vector<std::string> lineage;
  // Falco: the container id (12 hex digits) of the cell's workload container; an event
  // from another container (or the host) is not this observer's event for this cell.
  std::string container_id;
  bool available = true;  // false: not present on this machine (reason says why)
  std::string reason;     // e.g. "falco is not installed"
  std::string label;      // shown in reports, e.g. "host view (where host Falco stands)"
  std::vector<std::string> capture_active;  // capture sources the sensor reported
};

// What one cell produced.
struct CellOutcome {
  Cell cell;
  bool ok = false;            // the chain ran to completion
  std::string error;          // why not
  int64_t start_wall_ns = 0;  // host clock
  int64_t end_wall_ns = 0;
  std::vector<GroundTruthStep> ground_truth;
  std::vector<ObserverBinding> observers;
  std::vector<std::string> notes;  // e.g. "kata-qemu here is a local qemu/TCG stand-in"
};

// attack-sim `run` flags for cell `c` (without "run"), for every backend: the chain, speed,
// variant and pacing, then where it reports (src/local/lab_common.cpp).
std::vector<std::string> AttackRunArgs(const Scenario& s, const Cell& c, const std::string& target,
                                       const std::string& package_mode, const std::string& gt_path,
                                       bool allow_remote, bool quiet);
// attack-sim `listen` flags (without "listen") for cell `c`: one connection on BIND:PORT
// within `timeout_s`, its reverse shell kept open as a person at the attacker's end would:
// for the cell's speed preset's hold, or attack.hold_ms.
std::vector<std::string> AttackListenArgs(const Scenario& s, const Cell& c, const std::string& bind,
                                          int port, const std::string& timeout_s,
                                          const std::string& gt_path, bool quiet);

struct DoctorCheck {
  std::string name;  // "runc"
  bool ok = false;
  bool required = true;  // false: optional (e.g. falco)
  std::string detail;    // what was found ("runc 1.1.5 at /usr/sbin/runc")
  std::string fix;       // how to get it when missing
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view Name() const = 0;
  // Checks the machine for `runtimes` (all it supports when empty). Never fails.
  virtual std::vector<DoctorCheck> Doctor(const std::vector<std::string>& runtimes) = 0;
  // Once per run, before any cell: caches, the receiver, run-wide observers.
  // Must register every resource it creates with ctx.cleanup.
  virtual Status Prepare(RunContext& ctx) = 0;
  // The receiver's base URL ("http://127.0.0.1:PORT") after Prepare().
  virtual std::string ReceiverUrl() const = 0;
  // Runs one cell. A failed cell is reported in CellOutcome (ok=false), not as
  // an Error; an Error aborts the whole run (e.g. interrupted).
  virtual Result<CellOutcome> RunCell(RunContext& ctx, const Cell& cell) = 0;
  // Facts for environment.json (kernel, tool versions, stand-ins, captures).
  virtual std::map<std::string, std::string> Environment() = 0;
  // Called after the last cell, before scoring (stop run-wide observers).
  virtual void Finish(RunContext& ctx) = 0;
};

using BackendFactory = std::function<std::unique_ptr<Backend>(CommandRunner&)>;

// Name -> factory. Backends are registered explicitly (no static initialisers,
// which a static library would drop) in DefaultBackends().
class BackendRegistry {
 public:
  void Register(std::string name, BackendFactory factory);
  Result<std::unique_ptr<Backend>> Create(std::string_view name, CommandRunner& runner) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, BackendFactory, std::less<>> factories_;
};

// Every backend of this binary, local and kube, registered in src/builtin.cpp
// (sandwatch_harness_builtin).
BackendRegistry& DefaultBackends();

// Provided by src/local/.
void RegisterLocalBackend(BackendRegistry& reg);
// Provided by src/kube/: reg.Register("kube", ...).
void RegisterKubeBackend(BackendRegistry& reg);

}  // namespace sandwatch::harness
