// The sensor's configuration: one struct with every default, built by a pure
// function from (environment, argv) that tests call directly.
// Precedence: flag, then environment variable, then the default below.
// The names follow the contract (docs/sensor.md has the table).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

struct SensorConfig {
  // RECEIVER_URL / --receiver-url: where event batches are POSTed ("http://h:p/events").
  // Heartbeats go to the sibling ".../heartbeat". Empty: events go to stdout.
  std::string receiver_url;
  // POLL_INTERVAL / --poll-interval: seconds between /proc scans (0.01 .. 3600).
  double poll_interval_s = 2.0;
  // HEARTBEAT_INTERVAL / --heartbeat-interval: seconds between heartbeats (0.1 .. 86400).
  double heartbeat_interval_s = 15.0;
  // MODE / --mode: kata | sidecar (in-pod vantage) or node (host/guest-init vantage).
  std::string mode = "kata";
  // EXPECTED_PROCESSES / --expected-processes: comma list of process names.
  std::vector<std::string> expected_processes;
  // POD_NAME, POD_NAMESPACE / --pod-name, --pod-namespace: stamped on events.
  std::string pod_name;
  std::string pod_namespace;
  // CAPTURE / --capture: poll | inotify | fanotify | netlink | auto.
  std::string capture = "auto";
  // RULES_FILE / --rules: YAML rules; empty = the built-in default rules.
  std::string rules_file;
  // RECEIVER_TOKEN / --receiver-token: bearer token for the receiver; empty = none.
  std::string receiver_token;
  // RECEIVER_TOKEN_FILE / --receiver-token-file: a file holding that token (a mounted
  // Secret), read once at start by LoadReceiverToken(); the token then never sits in the
  // environment, where anyone who can read /proc/PID/environ could read it.
  std::string receiver_token_file;
  // SPOOL_DIR / --spool-dir: on-disk queue while the receiver is down; empty = memory.
  std::string spool_dir;
  // STATE_DIR / --state-dir: state that survives a restart (baseline, processes already
  // evaluated, sensor id and seq). Empty = SPOOL_DIR; both empty = nothing is kept.
  std::string state_dir;
  // SPOOL_MAX_BYTES / --spool-max-bytes: spool bound (also accepts 64MiB, 512KiB).
  uint64_t spool_max_bytes = 64ull << 20;
  // OUTPUT_FORMAT / --format: sandwatch | falco.
  std::string format = "sandwatch";
  // PROC_ROOT / --proc-root: the procfs to read.
  std::string proc_root = "/proc";
  // OUTPUT / --output: stdout | http | file:PATH. Default: http when RECEIVER_URL
  // is set, else stdout.
  std::string output;
  // WORKLOAD_PID / --workload-pid: watch only this process and its descendants.
  // 0 = every process in PROC_ROOT except the sensor (the pod, in a sidecar).
  int workload_pid = 0;
  // WORKLOAD_ROOT / --workload-root: filesystem root for the start-up baseline.
  // Empty = /proc/PID/root of the workload pid, or of the oldest process that is
  // not the sensor, not "pause" and (when possible) in another mount namespace.
  std::string workload_root;
  // DEDUP_WINDOW / --dedup-window: seconds an identical behaviour stays suppressed
  // after it was reported (0 = no deduplication).
  double dedup_window_s = 300.0;
  // SCAN_EXISTING / --scan-existing: also evaluate processes present at start-up.
  bool scan_existing = false;
  // SENSOR_ID / --sensor-id: empty = "<pod or hostname>-<8 random hex>".
  std::string sensor_id;
  // LOG_LEVEL / --log-level: debug | info | warn | error | off (logs go to stderr).
  std::string log_level = "info";
  // BATCH_SIZE / --batch-size: events per POST (1 .. 1000).
  int batch_size = 100;

  bool print_config = false;  // --print-config: print the merged config and exit
};

// What the command line asks for.
struct Command {
  enum class Action { kRun, kHelp, kVersion, kPrintConfig };
  Action action = Action::kRun;
  SensorConfig config;
  std::string text;  // help or version text for kHelp / kVersion
};

// Pure: parses argv (argv[0] is the program name) and merges env. An Error's
// message is one line naming the flag or variable and the reason (exit 2).
Result<Command> ParseCommand(const std::map<std::string, std::string>& env,
                             const std::vector<std::string>& argv);

// Reads receiver_token_file (when set) into receiver_token: surrounding newline and
// spaces are dropped; a missing, empty or oversized file is an error naming the flag.
Status LoadReceiverToken(SensorConfig* c);

// The process environment as a map (for main).
std::map<std::string, std::string> ProcessEnv();

// The merged config as pretty JSON (the token is redacted).
std::string ConfigToJson(const SensorConfig& c);

// The resolved output: "stdout", "http" or "file:PATH".
std::string EffectiveOutput(const SensorConfig& c);

}  // namespace sandwatch::sensor
