// StateKeeper: what a sensor keeps in STATE_DIR so that a restart is not amnesia.
//
// Open() reads the directory and decides how this start counts:
//   first               nothing there (or no STATE_DIR): processes running now are the
//                       start-up state, as always;
//   restart             a trusted state: processes it did not know are evaluated at the
//                       first scan even with SCAN_EXISTING off, and their events carry
//                       fields.found_after_restart and fields.gap_s; the sensor id and seq
//                       continue;
//   restart_state_lost  remains of an earlier run, but no trusted state (deleted, corrupt,
//                       foreign, from another boot): reported as such; a fresh sensor id
//                       starts at seq 1; processes running now are not evaluated.
// A file that cannot be trusted is renamed to "<name>.bad-<time>" and named in `why`.
// The baseline is restored independently (baseline.v1), so a binary dropped while the
// sensor was down stays outside it even when state.v1 is gone.
//
// Trust: files must be regular, owned by the sensor's uid, mode 0600, sealed with
// HMAC-SHA256 under the configured key (the receiver token) or, without one, a SHA-256
// checksum; times and process start times must fit the current boot. See docs/sensor.md
// for what this does and does not stop.
// Thread-safety: every public call may come from any thread (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/result.h"
#include "sandwatch/sensor/config.h"
#include "sandwatch/sensor/output.h"
#include "sandwatch/sensor/process_ledger.h"
#include "sandwatch/sensor/state_codec.h"

namespace sandwatch::sensor {

struct StateOptions {
  std::string dir;                               // empty: nothing is kept
  std::string key;                               // MAC key material; empty: checksum only
  std::string proc_root = "/proc";               // where sys/kernel/random/boot_id is read
  int64_t min_save_interval_ns = 1'000'000'000;  // state.v1 rewritten at most this often
  const Clock* clock = &SystemClock();  // wall times in the saved files; must outlive the keeper
};

// STATE_DIR, else SPOOL_DIR, else none; the key from the receiver token.
StateOptions StateOptionsFrom(const SensorConfig& config);

// The keeper's own counters, under the names heartbeats and metrics show.
struct StateCounters {
  int64_t state_saves = 0;
  int64_t state_save_errors = 0;
  int64_t state_bytes = 0;  // size of the last state.v1 written; shown once one was
  int64_t found_after_restart = 0;

  // Adds every counter to `out` under its field name.
  void AddTo(std::map<std::string, int64_t>* out) const;
};

class StateKeeper : public ProcessLedger {
 public:
  enum class Start { kFirst, kRestart, kRestartStateLost };

  // Error only when the directory cannot be created (the sensor exits 1). With
  // `inspect_only` nothing is created, set aside or written (for --print-config).
  static Result<std::unique_ptr<StateKeeper>> Open(StateOptions options, bool inspect_only = false);
  ~StateKeeper() override;

  Start start() const { return start_; }
  static const char* StartName(Start s);
  const std::string& why() const { return why_; }
  const std::string& dir() const { return options_.dir; }

  // The saved baseline when it is for `root` and trusted; otherwise `build()`'s result,
  // which is then saved. `*how` says which and why ("restored ...", "built ...").
  Result<procfs::Baseline> LoadOrBuildBaseline(
      const std::string& root, const std::function<Result<procfs::Baseline>()>& build,
      std::string* how);

  // The sensor id to use (`configured`, else the saved one, else `fresh`); also fixes
  // continue_seq() and writes seq.v1.
  std::string ResolveSensorId(const std::string& configured, const std::string& fresh);
  uint64_t continue_seq() const { return continue_seq_; }

  // Wraps the sensor's output: events of processes found after a restart are tagged,
  // and each event's seq is written to seq.v1 before the event leaves. The keeper must
  // outlive the returned output.
  std::unique_ptr<Output> WrapOutput(std::unique_ptr<Output> inner);

  void NoteHeartbeat(uint64_t last_seq);  // saves state.v1 at a bounded rate
  void SaveNow(uint64_t last_seq);        // at shutdown
  void AddCounters(std::map<std::string, int64_t>* counters) const;

  // ProcessLedger (the pipeline's worker thread).
  bool EvaluateAtStartup(const ProcessInfo& process) override;
  void Seen(const ProcessInfo& process) override;
  void Exited(const ProcessKey& key) override;
  void ScanDone() override;

  // For the output wrapper.
  void TagEvent(Event* e) const;
  void RecordSeq(uint64_t seq);

 private:
  struct Known {
    uint64_t start_ticks = 0;
    uint32_t exe_hash = 0;
  };
  explicit StateKeeper(StateOptions options) : options_(std::move(options)) {}
  void Load(bool inspect_only);
  // Reads and unseals dir/name; on a bad file, records the problem and sets it aside.
  Result<std::string> ReadSealed(const std::string& name, size_t max_bytes, bool inspect_only);
  void SaveLocked(int64_t now_boot_ns);
  void WriteSeqLocked(uint64_t seq);

  StateOptions options_;
  bool enabled_ = false;
  Start start_ = Start::kFirst;
  std::string why_;
  std::string boot_id_;
  std::string problems_;  // "; "-joined reasons files were not trusted
  bool remains_ = false;  // files of an earlier run were present

  mutable std::mutex mu_;
  std::optional<state::SavedState> saved_;
  std::optional<state::SavedSeq> saved_seq_;
  std::unordered_map<int, Known> known_;      // from state.v1 (restart only)
  std::unordered_map<int, Known> current_;    // what this run has seen
  std::set<std::pair<int, uint64_t>> found_;  // (pid, start_time_ns) found after a restart
  std::string sensor_id_;
  uint64_t continue_seq_ = 0;
  uint64_t last_seq_ = 0;
  int64_t gap_ns_ = 0;
  int64_t heartbeat_boot_ns_ = 0;
  int64_t last_save_boot_ns_ = 0;
  bool dirty_ = false;
  bool first_scan_saved_ = false;
  StateCounters counters_;
};

// --print-config: the merged configuration plus "state": {dir, start, why}, read
// without changing anything.
std::string PrintConfigJson(const SensorConfig& config);

}  // namespace sandwatch::sensor
