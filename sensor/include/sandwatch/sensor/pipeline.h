// The sensor pipeline: the one path from every capture source to the outputs.
//   observation -> enrich (ProcessScanner) -> match (RuleEngine) -> dedup -> publish
//
// kScan runs an incremental scan and evaluates new, exec'd and fd-changed processes.
// kExec / kFileOpen enrich that pid at once (EnrichOne); when the process is already
// gone, the source's early read (Observation::early) is used, and what is known is
// emitted (a missing cmdline counts in cmdline_unreadable). kFileOpen also feeds the
// reported path to the file_open conditions.
//
// detection.lag_ms: for netlink/fanotify/inotify observations, the time from the
// source receiving the kernel event (kernel_mono_ns) to the event being built; for
// poll, the time from the process's start (its /proc start time) to the scan that
// caught it, i.e. how long the behaviour went unseen.
//
// Processes present at the first scan are the start-up state: they set up the
// workload membership but are not evaluated (unless scan_existing, or the restart
// ledger, PipelineOptions::ledger, did not know them before the sensor went down).
// When a later fd re-read finds new files or sockets (kFdsChanged), only matches that
// used one of the new ones count, so a start-up shell is not reported for opening a
// log file.
// Threads: Push is thread-safe (sources call it); one worker thread does the rest.
// Process() runs one observation synchronously, for tests (without Start()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/procfs/process_scanner.h"
#include "sandwatch/core/rules/engine.h"
#include "sandwatch/sensor/capture_source.h"
#include "sandwatch/sensor/dedup.h"
#include "sandwatch/sensor/process_ledger.h"
#include "sandwatch/sensor/publisher.h"

namespace sandwatch::sensor {

struct PipelineOptions {
  int self_pid = 0;            // never evaluated (the sensor itself)
  int workload_pid = 0;        // 0: every process; else this pid and its descendants
  bool scan_existing = false;  // evaluate processes present at the first scan
  int64_t dedup_window_ns = 300'000'000'000;
  size_t max_queue = 10000;         // observations waiting; beyond this they are dropped (counted)
  ProcessLedger* ledger = nullptr;  // restart state (state_keeper.h); must outlive the pipeline
};

// The pipeline's counters, each a named field (a misspelt name does not compile).
// Heartbeats carry them under the field names; AddTo() adds the scanner's
// cmdline_unreadable into cmdline_unreadable as well. Any thread may read them.
struct PipelineCounters {
  std::atomic<int64_t> observations{0};          // pushed by sources (scans coalesced too)
  std::atomic<int64_t> observations_dropped{0};  // queue full
  std::atomic<int64_t> scan_errors{0};
  std::atomic<int64_t> early_reads_used{0};  // pid gone; the source's early read was used
  std::atomic<int64_t> processes_lost{0};    // pid gone and no early read
  std::atomic<int64_t> cmdline_unreadable{0};
  std::atomic<int64_t> rule_matches{0};
  std::atomic<int64_t> events_suppressed{0};  // by dedup
  // The scanner's figures after the last scan.
  std::atomic<int64_t> scans{0};
  std::atomic<int64_t> processes_seen{0};
  std::atomic<int64_t> scanner_cmdline_unreadable{0};
  std::atomic<int64_t> processes_tracked{0};
  std::atomic<int64_t> scan_cpu_us_total{0};
  std::atomic<int64_t> last_scan_cpu_us{0};
  std::atomic<int64_t> read_errors{0};

  // Adds every counter to `out` under its field name.
  void AddTo(std::map<std::string, int64_t>* out) const;
};

class Pipeline : public ObservationSink {
 public:
  // `baseline` may be null (no baseline: exe_new never holds). Pointers must outlive this.
  Pipeline(PipelineOptions options, procfs::ProcessScanner* scanner,
           const rules::RuleEngine* engine, const procfs::Baseline* baseline, Publisher* publisher,
           const Clock* clock);
  ~Pipeline() override;

  void Push(Observation obs) override;
  void Start();
  // Processes what is queued (scans are skipped), then joins the worker.
  void Stop();
  // Synchronous, for tests and for the start-up scan.
  void Process(const Observation& obs);

  // Adds the counters (PipelineCounters) and queue_length to a heartbeat's map.
  void AddCounters(std::map<std::string, int64_t>* counters) const;
  const PipelineCounters& counters() const { return counters_; }

 private:
  class World;
  void HandleScan(const Observation& obs);
  void HandlePid(const Observation& obs);
  // `fd_change` (a kFdsChanged scan result) limits the matches to those that used a
  // file or connection that is new since the last read.
  void HandleProcess(const ProcessInfo& info, const std::string& method,
                     std::optional<double> lag_ms, int64_t time_ns,
                     const std::optional<std::string>& observed_path, bool only_path_matches,
                     const procfs::ProcessChange* fd_change = nullptr,
                     bool connection_only = false);
  // Pipe-relay bookkeeping: which evaluated processes have which pipes as stdio.
  void RememberStdioPipes(const ProcessInfo& info);
  void ForgetStdioPipes(int pid);
  void ReevaluatePipePeers(const ProcessInfo& relay, const std::string& method);
  void RecheckYoungPipeReaders(const std::string& method);
  bool InWorkload(const ProcessInfo& info);
  void Loop();

  PipelineOptions options_;
  procfs::ProcessScanner* scanner_;
  const rules::RuleEngine* engine_;
  const procfs::Baseline* baseline_;
  Publisher* publisher_;
  const Clock* clock_;
  Deduper dedup_;
  bool primed_ = false;
  std::unordered_map<ProcessKey, std::set<std::string>, ProcessKeyHash> fired_;
  std::unordered_set<int> workload_pids_;
  std::unordered_map<uint64_t, std::vector<int>> stdio_pipe_pids_;  // pipe inode -> pids
  std::unordered_map<int, std::vector<uint64_t>> stdio_pipes_of_;   // pid -> pipe inodes
  std::unordered_map<int, int64_t> young_pipe_readers_;  // pid -> mono ns first remembered

  mutable std::mutex mu_;  // the queue
  std::condition_variable cv_;
  std::deque<Observation> queue_;
  bool scan_pending_ = false;
  bool stopping_ = false;
  std::thread worker_;
  PipelineCounters counters_;
};

}  // namespace sandwatch::sensor
