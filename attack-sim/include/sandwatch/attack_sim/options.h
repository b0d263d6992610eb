// Options of `sandwatch-attack-sim run` and `listen`, and the pure functions that turn
// them into a validated chain configuration. No I/O except PATH look-ups in catalog.h.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

enum class PackageMode { kReal, kStaged, kSimulate };

// Raw flag values of `run`, exactly as given. Every default is documented here.
struct RunOptions {
  std::string chain = "blog";              // blog | benign (everyday activity only)
  double benign_duration_s = 60;           // --chain benign: how long to play benign steps
  double benign_rate_per_min = 6;          // --chain benign: benign steps per minute
  bool mix_benign = false;                 // blog chain: one benign step after each attack step
  std::string speed = "blog";              // blog | human | fast | burst
  std::vector<std::string> hold_specs;     // "300" (all steps) or "shadow=50"; later wins
  std::vector<std::string> gap_specs;      // same syntax; the pause AFTER a step
  int repeat = 1;                          // chain repetitions, >= 1
  std::string target;                      // HOST:PORT; empty = in-process loopback listener
  bool allow_remote = false;               // permit a non-loopback --target
  std::string package_install = "staged";  // real | staged | simulate
  std::string package = "ncat";            // package name for apt/apk
  std::string deb;           // staged .deb; empty = /var/cache/sandwatch/debs/<pkg>_*.deb
  std::string ground_truth;  // JSONL file (appended); empty = stdout
  std::vector<std::string> variant_specs;  // "shadow=head" or a unique variant name ("socat")
  std::string steps;                       // comma list; empty = the whole chain
  bool cleanup = false;                    // undo the package install and dropped files
  std::string drop_dir = "/tmp";           // where new-binary writes its file
  std::string run_id;                      // empty = a new uuid
  double listener_timeout_s = 30;          // how long the in-process listener waits
  std::string shell_tty = "pty";           // pty (as kubectl exec -it) | pipe
  bool quiet = false;
};

struct Target {
  std::string host;  // without brackets
  int port = 0;
};

// "127.0.0.1:4444", "[::1]:4444", "localhost:4444". Error names the problem.
Result<Target> ParseTarget(std::string_view text);
// 127.0.0.0/8, ::1 (any spelling), ::ffff:127.x.y.z, "localhost". Never resolves names.
bool IsLoopbackHost(std::string_view host);

struct SpeedPreset {
  std::string name;
  double hold_ms;  // 0 = the step's command runs in its exit-at-once form
  double gap_ms;
  std::string description;
};
const std::vector<SpeedPreset>& SpeedPresets();

struct StepTiming {
  double hold_ms = 0;
  double gap_ms = 0;
};

// The validated configuration `Run` executes.
struct ChainConfig {
  std::string chain = "blog";  // blog | benign
  double benign_duration_s = 60;
  double benign_rate_per_min = 6;
  bool mix_benign = false;
  std::string speed;                            // preset name
  std::vector<std::string> steps;               // chain order, subset of ChainSteps()
  std::map<std::string, StepTiming> timing;     // per step
  std::map<std::string, std::string> variants;  // step -> requested variant ("auto" = default)
  int repeat = 1;
  bool in_process_listener = true;  // no --target: listen on 127.0.0.1:0 ourselves
  Target target;                    // when !in_process_listener
  PackageMode package_mode = PackageMode::kStaged;
  std::string package = "ncat";
  std::string deb;  // resolved later when empty
  std::string ground_truth;
  bool cleanup = false;
  std::string drop_dir;
  std::string run_id;
  double listener_timeout_s = 30;
  std::string shell_tty = "pty";
  bool quiet = false;
};

// Validates everything; the error message starts with the offending flag ("--target: ...").
Result<ChainConfig> ResolveRun(const RunOptions& o);

// "300" or "step=300" (comma lists allowed) applied onto `timing`. `gap` selects the field.
Status ApplyTimingSpec(std::string_view spec, bool gap, std::map<std::string, StepTiming>* timing);

}  // namespace sandwatch::attacksim
