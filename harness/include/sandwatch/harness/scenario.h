// Scenario files (scenarios/*.yaml): what a run does. Parsing is strict:
// unknown keys, wrong types and bad values are errors that name the key.
// The format is documented in docs/harness.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::harness {

inline constexpr std::string_view kRuntimeKataQemu = "kata-qemu";
inline constexpr std::string_view kObserverHostView = "host-view";
inline constexpr std::string_view kObserverInGuest = "in-guest";
inline constexpr std::string_view kObserverFalco = "falco";

struct SensorSettings {
  std::string capture = "poll";                 // the in-guest (sidecar) sensor's CAPTURE
  double poll_interval_s = 2.0;                 // POLL_INTERVAL
  double heartbeat_interval_s = 5.0;            // HEARTBEAT_INTERVAL
  std::string host_view_capture = "auto";       // the host-view (node) sensor's CAPTURE
  std::string mode = "kata";                    // the in-guest sensor's MODE (kata|sidecar)
  std::vector<std::string> expected_processes;  // EXPECTED_PROCESSES
  std::string rules_file;                       // RULES_FILE; empty: built-in rules
};

struct AttackSettings {
  std::string package_install = "staged";  // real | staged | simulate
  // Runtimes that must not modify the machine itself (host) use this instead.
  std::string host_package_install = "simulate";
  std::optional<int> hold_ms;  // overrides the speed's hold
  std::optional<int> gap_ms;   // overrides the speed's gap
  int chain_repeat = 1;        // attack-sim --repeat
  // runc / kata-qemu only: a dpkg pre-invoke hook in the workload's rootfs that sleeps this
  // long, standing in for the network fetch of the blog's `apt update && apt install`
  // (an offline `dpkg -i` lives ~70 ms, which a 2 s poll mostly misses). 0: no hook.
  int package_delay_ms = 0;
};

// Benign activity (attack-sim's benign steps; every alert on one is a false positive).
struct BenignSettings {
  int duration_s = 60;   // chain benign: how long the soak lasts
  int rate_per_min = 6;  // chain benign: benign steps started per minute
  bool mix = false;      // chain blog: one benign step after each attack step, same pod
};

// One row of the scenario's `expect:` matrix: what `observer` should report in
// `runtime` for `signals` (detected: every cell saw each; not detected: no cell saw any).
// The run's finding holds when every row does.
struct Expectation {
  std::string runtime;
  std::string observer;
  std::vector<std::string> signals;
  bool detected = true;
};

struct Timeouts {
  double prepare_s = 900;  // building the rootfs / fetching the kernel
  double boot_s = 180;     // a VM reaching its init, a container starting
  double cell_s = 300;     // one cell end to end
  double settle_s = -1;    // wait after the chain for late events; <0: 2*poll + 3 s
};

// The `falco` observer (local backend). The harness starts Falco itself unless `external`.
struct FalcoSettings {
  std::string path;       // falco executable; empty: --falco, else `falco` in PATH
  bool external = false;  // a Falco already runs, its http_output pointed at this run's receiver
};

struct Scenario {
  std::string name;
  std::string description;
  std::string path;  // the file it was read from
  std::vector<std::string> runtimes;
  std::vector<std::string> observers;
  std::string chain = "blog";  // blog | benign
  BenignSettings benign;
  std::vector<Expectation> expect;  // empty: the run states no expected finding
  std::vector<std::string> variants = {"default"};
  std::vector<std::string> speeds = {"blog"};
  int repetitions = 1;
  AttackSettings attack;
  SensorSettings sensor;
  Timeouts timeouts;
  FalcoSettings falco;

  double SettleSeconds() const;
  // attack-sim flags for the benign settings (--benign-duration-s ..., --mix-benign).
  std::vector<std::string> BenignArgs() const;
};

// One cell of the scenario's matrix. Observers run side by side within a cell.
struct Cell {
  int index = 0;  // 0-based position in the run
  std::string runtime;
  std::string variant;
  std::string speed;
  int repetition = 0;      // 0-based
  std::string Id() const;  // "runc-blog-default-r0"
};

Result<Scenario> ParseScenario(std::string_view yaml_text, std::string_view origin);
Result<Scenario> LoadScenario(const std::string& path);
// runtimes x variants x speeds x repetitions, runtime-major.
std::vector<Cell> ExpandCells(const Scenario& s);

// Whether an observer is expected to see the chain in a runtime: everything but
// a host-level observer (host-view, falco) looking into a VM-isolated runtime.
bool ExpectedVisible(std::string_view runtime, std::string_view observer);

}  // namespace sandwatch::harness
