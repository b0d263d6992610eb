#include "sandwatch/sensor/pipeline.h"

#include <time.h>

#include <algorithm>

#include "sandwatch/core/log.h"
#include "sandwatch/core/rules/template.h"

namespace sandwatch::sensor {
namespace {

int64_t BootNs() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Attacker-controlled argv can be huge; events stay well inside the receiver's limits
// (64 KiB per string, 1 MiB per request). Returns true when something was cut.
bool CapArgv(std::vector<std::string>* argv, size_t max_args, size_t max_arg_bytes,
             size_t max_total) {
  bool cut = false;
  if (argv->size() > max_args) {
    argv->resize(max_args);
    cut = true;
  }
  size_t total = 0;
  for (auto& a : *argv) {
    size_t room = total >= max_total ? 0 : max_total - total;
    size_t keep = std::min({a.size(), max_arg_bytes, room});
    if (keep < a.size()) {
      a.resize(keep);
      cut = true;
    }
    total += keep;
  }
  return cut;
}

Event BuildEvent(const ProcessInfo& p, const rules::Match& m, const std::string& pod,
                 const std::string& ns) {
  Event e;
  const rules::Rule& r = *m.rule;
  e.rule = r.name;
  e.priority = r.priority;
  e.tags = r.tags;
  e.output = rules::RenderTemplate(r.output, rules::OutputFields(p, m, pod, ns));
  ProcessRef ref;
  ref.pid = p.key.pid;
  ref.ppid = p.ppid;
  ref.start_time_ns = p.start_time_ns;
  ref.name = p.name;
  ref.exe = p.exe;
  ref.cmdline = p.cmdline;
  if (p.uid >= 0) ref.uid = p.uid;
  ref.cwd = p.cwd;
  e.process = std::move(ref);
  if (!p.ancestors.empty()) {
    e.parent = p.ancestors.front();
  } else if (p.ppid != 0) {
    e.parent = AncestorRef{p.ppid, "", {}};
  }
  e.ancestors = p.ancestors;
  bool cut = CapArgv(&e.process->cmdline, 256, 4096, 32768);
  if (e.parent) cut |= CapArgv(&e.parent->cmdline, 32, 1024, 2048);
  for (auto& a : e.ancestors) cut |= CapArgv(&a.cmdline, 16, 256, 1024);
  if (e.output.size() > 8192) {
    e.output.resize(8192);
    cut = true;
  }
  if (cut) e.fields["truncated"] = "true";
  e.file_path = m.file_path;
  e.connection = m.connection;
  if (p.partial) e.fields["partial"] = "true";
  // Inferred from the command line, not observed (the read or connection was not seen).
  if (m.low_confidence) e.fields["confidence"] = "low";
  return e;
}

// A TCP connection that can still bring data in: ESTABLISHED, or FIN_WAIT1/2 (our
// side shut down sending). UDP with a remote counts too.
bool ReceivesFromNetwork(const SocketInfo& s) {
  if (s.proto.rfind("udp", 0) == 0)
    return s.remote.size() > 2 && s.remote.rfind(":0") == std::string::npos;
  return s.state == 1 || s.state == 4 || s.state == 5;
}

// Fills what EnrichOne could not read from the source's early read.
void MergeEarly(const EarlyRead& early, ProcessInfo* p) {
  if (p->name.empty()) p->name = early.name;
  if (p->exe.empty()) p->exe = early.exe;
  if (p->cmdline.empty()) p->cmdline = early.cmdline;
  if (p->ppid == 0) p->ppid = early.ppid;
  if (p->key.start_ticks == 0) p->key.start_ticks = early.start_ticks;
  if (p->fds.empty()) p->fds = early.fds;
  if (p->sockets.empty()) p->sockets = early.sockets;
}

// Whether a match rests on a file or connection that a fd re-read found new.
bool UsesNewFds(const rules::Match& m, const procfs::ProcessChange& change) {
  if (m.file_path) {
    return std::any_of(change.new_fds.begin(), change.new_fds.end(),
                       [&](const FdInfo& f) { return f.path == *m.file_path; });
  }
  if (m.connection) {
    bool new_socket =
        std::any_of(change.new_sockets.begin(), change.new_sockets.end(), [&](const SocketInfo& s) {
          return s.local == m.connection->local && s.remote == m.connection->remote;
        });
    bool new_pipe_or_socket_fd = std::any_of(
        change.new_fds.begin(), change.new_fds.end(),
        [](const FdInfo& f) { return f.kind == FdKind::kPipe || f.kind == FdKind::kSocket; });
    return new_socket || new_pipe_or_socket_fd;
  }
  return false;
}

}  // namespace

// Answers the rule engine's questions from the scanner's table and the baseline.
class Pipeline::World : public rules::RuleWorld {
 public:
  World(procfs::ProcessScanner* scanner, const procfs::Baseline* baseline)
      : scanner_(scanner), baseline_(baseline) {}
  bool ExeInBaseline(const ProcessInfo& p) const override {
    return baseline_ == nullptr || baseline_->Contains(p);
  }
  std::optional<SocketInfo> PipePeerConnection(uint64_t inode, int self_pid) const override {
    for (const ProcessInfo* peer : scanner_->PipeHoldersWithNetwork(inode, self_pid)) {
      for (const SocketInfo* s : rules::OutboundConnections(*peer)) return *s;
      for (const auto& s : peer->sockets) {
        // An accepted connection (bind shell relays), or one whose sending half the
        // relay closed (nc after EOF on its own stdin) but which still delivers input.
        if (ReceivesFromNetwork(s)) return s;
      }
    }
    return std::nullopt;
  }
  std::optional<SocketInfo> ParentConnection(const ProcessInfo& p) const override {
    if (p.ppid <= 0) return std::nullopt;
    // Refreshes the fds of p's ancestors (a relay may connect after it was enriched).
    (void)scanner_->PipeHoldersWithNetwork(0, p.key.pid);
    const ProcessInfo* parent = scanner_->Find(p.ppid);
    if (parent == nullptr) return std::nullopt;
    for (const SocketInfo* s : rules::OutboundConnections(*parent)) return *s;
    for (const auto& s : parent->sockets) {
      if (ReceivesFromNetwork(s)) return s;
    }
    return std::nullopt;
  }

 private:
  procfs::ProcessScanner* scanner_;
  const procfs::Baseline* baseline_;
};

Pipeline::Pipeline(PipelineOptions options, procfs::ProcessScanner* scanner,
                   const rules::RuleEngine* engine, const procfs::Baseline* baseline,
                   Publisher* publisher, const Clock* clock)
    : options_(options),
      scanner_(scanner),
      engine_(engine),
      baseline_(baseline),
      publisher_(publisher),
      clock_(clock),
      dedup_(options.dedup_window_ns) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Push(Observation obs) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.observations;
  if (obs.kind == Observation::Kind::kScan) {
    if (scan_pending_) return;  // one pending scan covers both
    scan_pending_ = true;
  } else if (queue_.size() >= options_.max_queue) {
    ++counters_.observations_dropped;
    return;
  }
  queue_.push_back(std::move(obs));
  cv_.notify_one();
}

void Pipeline::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  if (!worker_.joinable()) worker_ = std::thread([this] { Loop(); });
}

void Pipeline::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Pipeline::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    Observation obs = std::move(queue_.front());
    queue_.pop_front();
    if (obs.kind == Observation::Kind::kScan) scan_pending_ = false;
    if (stopping_ && obs.kind == Observation::Kind::kScan) continue;
    lock.unlock();
    Process(obs);
    lock.lock();
  }
}

void Pipeline::Process(const Observation& obs) {
  switch (obs.kind) {
    case Observation::Kind::kScan:
      HandleScan(obs);
      break;
    case Observation::Kind::kExec:
    case Observation::Kind::kFileOpen:
      HandlePid(obs);
      break;
    case Observation::Kind::kExit:
      break;  // the next scan drops it from the table
  }
}

bool Pipeline::InWorkload(const ProcessInfo& info) {
  if (options_.workload_pid == 0) return true;
  bool in = info.key.pid == options_.workload_pid || workload_pids_.count(info.ppid) > 0 ||
            std::any_of(info.ancestors.begin(), info.ancestors.end(),
                        [&](const AncestorRef& a) { return a.pid == options_.workload_pid; });
  if (in) workload_pids_.insert(info.key.pid);
  return in;
}

void Pipeline::HandleScan(const Observation& obs) {
  auto result = scanner_->Scan();
  if (!result.ok()) {
    if (counters_.scan_errors++ % 100 == 0) {
      SW_LOG(kError, "pipeline", "scan failed", {"error", result.error().message});
    }
    return;
  }
  bool startup = !primed_;
  primed_ = true;
  int64_t boot_now = BootNs();
  for (const auto& change : result->changes) {
    const ProcessInfo& info = change.info;
    if (change.kind == procfs::ChangeKind::kExeced) fired_.erase(info.key);
    ProcessLedger* ledger = options_.ledger;
    bool found_after_restart = startup && ledger && ledger->EvaluateAtStartup(info);
    if (ledger) ledger->Seen(info);
    if (startup && !options_.scan_existing && !found_after_restart) {
      InWorkload(info);
      continue;
    }
    std::optional<double> lag;
    if (info.start_time_ns > 0 && boot_now > static_cast<int64_t>(info.start_time_ns)) {
      lag = static_cast<double>(boot_now - static_cast<int64_t>(info.start_time_ns)) / 1e6;
    }
    HandleProcess(info, obs.method.empty() ? "poll" : obs.method, lag, clock_->WallNs(),
                  std::nullopt, false,
                  change.kind == procfs::ChangeKind::kFdsChanged ? &change : nullptr);
  }
  for (const auto& key : result->exited) {
    fired_.erase(key);
    workload_pids_.erase(key.pid);
    if (options_.ledger) options_.ledger->Exited(key);
    ForgetStdioPipes(key.pid);
  }
  if (options_.ledger) options_.ledger->ScanDone();
  RecheckYoungPipeReaders(obs.method.empty() ? "poll" : obs.method);
  auto sc = scanner_->counters();
  counters_.scans = static_cast<int64_t>(sc.scans);
  counters_.processes_seen = static_cast<int64_t>(sc.processes_seen);
  counters_.scanner_cmdline_unreadable = static_cast<int64_t>(sc.cmdline_unreadable);
  counters_.processes_tracked = static_cast<int64_t>(sc.tracked);
  counters_.scan_cpu_us_total = sc.total_scan_cpu_ns / 1000;
  counters_.last_scan_cpu_us = sc.last_scan_cpu_ns / 1000;
  counters_.read_errors = static_cast<int64_t>(sc.read_errors);
}

void Pipeline::HandlePid(const Observation& obs) {
  const ProcessInfo* known = scanner_->Find(obs.pid);
  bool was_known = known != nullptr;
  // A scan may have seen this pid before its exec completed (the parent's image).
  const std::string known_exe = was_known ? known->exe : std::string();
  ProcessInfo info;
  if (was_known && obs.kind == Observation::Kind::kFileOpen) {
    info = *known;
  } else {
    auto enriched = scanner_->EnrichOne(obs.pid);
    if (enriched.ok()) {
      info = std::move(enriched.value());
      if (obs.early) MergeEarly(*obs.early, &info);
    } else if (obs.early) {
      info.key = {obs.pid, obs.early->start_ticks};
      info.partial = true;
      MergeEarly(*obs.early, &info);
      if (info.ppid == 0) info.ppid = obs.ppid;
      if (const ProcessInfo* parent = scanner_->Find(info.ppid)) {
        info.ancestors.push_back(AncestorRef{parent->key.pid, parent->name, parent->cmdline});
        for (const auto& a : parent->ancestors) {
          if (info.ancestors.size() >= 8) break;
          info.ancestors.push_back(a);
        }
      }
      ++counters_.early_reads_used;
    } else {
      ++counters_.processes_lost;
      ++counters_.cmdline_unreadable;
      return;
    }
    if (info.cmdline.empty() && !info.kernel_thread) ++counters_.cmdline_unreadable;
  }
  int64_t mono = clock_->MonoNs();
  std::optional<double> lag;
  int64_t time_ns = clock_->WallNs();
  if (obs.kernel_mono_ns > 0 && mono >= obs.kernel_mono_ns) {
    lag = static_cast<double>(mono - obs.kernel_mono_ns) / 1e6;
    time_ns -= mono - obs.kernel_mono_ns;
  }
  if (obs.kind == Observation::Kind::kExec && was_known && known_exe != info.exe) {
    fired_.erase(info.key);  // a new image: its rules are new, as after a scan's kExeced
  }
  std::optional<std::string> path;
  if (obs.kind == Observation::Kind::kFileOpen && !obs.path.empty()) path = obs.path;
  if (options_.ledger) options_.ledger->Seen(info);
  HandleProcess(info, obs.method, lag, time_ns, path,
                was_known && obs.kind == Observation::Kind::kFileOpen);
}

void Pipeline::HandleProcess(const ProcessInfo& info, const std::string& method,
                             std::optional<double> lag_ms, int64_t time_ns,
                             const std::optional<std::string>& observed_path,
                             bool only_path_matches, const procfs::ProcessChange* fd_change,
                             bool connection_only) {
  if (info.kernel_thread || info.key.pid == options_.self_pid) return;
  if (!InWorkload(info)) return;
  World world(scanner_, baseline_);
  auto matches = engine_->Evaluate({&info, observed_path}, world);
  if (!connection_only) {
    RememberStdioPipes(info);
    if (!info.sockets.empty()) ReevaluatePipePeers(info, method);
  }
  for (const auto& m : matches) {
    if (only_path_matches && m.file_path != observed_path) continue;
    if (fd_change && !UsesNewFds(m, *fd_change)) continue;
    if (connection_only && !m.connection) continue;
    ++counters_.rule_matches;
    auto& fired = fired_[info.key];
    if (!fired.insert(m.rule->name).second) continue;  // this process already reported it
    std::string parent = info.ancestors.empty() ? "" : info.ancestors.front().name;
    auto verdict =
        dedup_.Check(DedupKey(m.rule->name, info.exe, info.cmdline, parent), clock_->MonoNs());
    if (!verdict.emit) {
      ++counters_.events_suppressed;
      continue;
    }
    Event e = BuildEvent(info, m, publisher_->identity().pod, publisher_->identity().ns);
    e.time_ns = time_ns;
    e.detection = DetectionInfo{method, lag_ms};
    if (verdict.suppressed_before > 0) {
      e.fields["suppressed"] = std::to_string(verdict.suppressed_before);
    }
    publisher_->Publish(std::move(e));
  }
}

void PipelineCounters::AddTo(std::map<std::string, int64_t>* out) const {
  auto& c = *out;
  c["observations"] += observations;
  c["observations_dropped"] += observations_dropped;
  c["scan_errors"] += scan_errors;
  c["early_reads_used"] += early_reads_used;
  c["processes_lost"] += processes_lost;
  c["cmdline_unreadable"] += cmdline_unreadable + scanner_cmdline_unreadable;
  c["rule_matches"] += rule_matches;
  c["events_suppressed"] += events_suppressed;
  c["scans"] += scans;
  c["processes_seen"] += processes_seen;
  c["scanner_cmdline_unreadable"] += scanner_cmdline_unreadable;
  c["processes_tracked"] += processes_tracked;
  c["scan_cpu_us_total"] += scan_cpu_us_total;
  c["last_scan_cpu_us"] += last_scan_cpu_us;
  c["read_errors"] += read_errors;
}

void Pipeline::AddCounters(std::map<std::string, int64_t>* counters) const {
  counters_.AddTo(counters);
  std::lock_guard<std::mutex> lock(mu_);
  (*counters)["queue_length"] = static_cast<int64_t>(queue_.size());
}

}  // namespace sandwatch::sensor
