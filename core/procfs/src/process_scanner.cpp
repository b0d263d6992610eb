// ProcessScanner: the table, the incremental scan loop and the public queries.
#include "sandwatch/core/procfs/process_scanner.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net_cache.h"

namespace sandwatch::procfs {
namespace {

int64_t NowNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

ProcessScanner::ProcessScanner(ProcFs fs, ScannerOptions options)
    : fs_(std::move(fs)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &SystemClock()) {
  long hz = sysconf(_SC_CLK_TCK);
  if (hz > 0) ns_per_tick_ = 1000000000 / hz;
}

ProcessScanner::~ProcessScanner() = default;

ProcessScanner::HeldFd& ProcessScanner::HeldFd::operator=(HeldFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.release();
  }
  return *this;
}

ProcessScanner::HeldFd::~HeldFd() {
  if (fd_ >= 0) close(fd_);
}

void ProcessScanner::Remember(ProcessInfo info, bool is_new, HeldFd comm_fd) {
  if (is_new) {
    ++counters_.processes_seen;
  } else {
    ++counters_.execs_seen;
  }
  int pid = info.key.pid;
  Entry& e = table_[pid];
  e.info = std::move(info);
  e.scans_since_enrich = 0;
  e.seen_gen = counters_.scans;
  if (comm_fd.get() >= 0) e.comm_fd = std::move(comm_fd);
}

ProcessScanner::HeldFd ProcessScanner::MaybeHoldComm(const PidDir& dir) {
  if (held_fds_ >= options_.max_held_fds) return HeldFd();
  auto fd = dir.Open("comm");
  if (!fd.ok()) return HeldFd();  // EMFILE, gone, or a fixture tree without comm
  ++held_fds_;
  return HeldFd(*fd);
}

bool ProcessScanner::CheckKnown(int pid, Entry* entry, bool* reused) {
  ProcessInfo& known = entry->info;
  *reused = false;
  std::string_view comm;
  if (entry->comm_fd.get() >= 0) {
    Status st = ProcFs::PreadInto(entry->comm_fd.get(), &comm_buf_);
    if (!st.ok()) {
      if (!IsGone(st.error())) ++counters_.read_errors;
      *reused = true;  // the process behind the fd exited; the listed pid is another
      return false;
    }
    comm = comm_buf_;
    if (!comm.empty() && comm.back() == '\n') comm.remove_suffix(1);
  } else {
    Status st = fs_.ReadStatInto(pid, &stat_buf_);
    auto key = st.ok() ? ParseStatKey(stat_buf_) : Result<StatKey>(st.error());
    if (!key.ok()) {
      if (IsGone(key.error())) {
        *reused = true;
        return false;
      }
      ++counters_.read_errors;
      return true;  // unreadable this time: keep, do not report
    }
    if (key->start_ticks != known.key.start_ticks) {
      *reused = true;
      return false;
    }
    comm = key->comm;
  }
  if (comm == known.name) return true;
  if (known.kernel_thread) {
    known.name = std::string(comm);  // kworker names follow their work queue
    return true;
  }
  return false;  // exec'd or renamed
}

void ProcessScanner::EnrichListed(int pid, Entry* known, NetTables* net, ScanResult* result,
                                  std::vector<int>* refreshed) {
  // Everything below reads through one PidDir: a pid reused meanwhile fails as gone
  // instead of mixing two processes.
  auto dir = fs_.OpenPid(pid);
  if (!dir.ok()) return;  // gone before we got to it
  auto text = dir->ReadFile("stat", 4096);
  auto stat = text.ok() ? ParseStat(*text) : Result<StatFields>(text.error());
  if (!stat.ok()) {
    if (!IsGone(stat.error())) ++counters_.read_errors;
    return;
  }
  if (known != nullptr && stat->start_ticks != known->info.key.start_ticks) {
    // Reused between the check and now: the old one exited.
    result->exited.push_back(known->info.key);
    ++counters_.exited;
    table_.erase(pid);
    known = nullptr;
  }
  const bool is_new = known == nullptr;
  HeldFd held = is_new ? MaybeHoldComm(*dir) : HeldFd();
  bool gone = false;
  ProcessInfo info = Enrich(*dir, *stat, net, &gone);
  if (!(info.kernel_thread && options_.skip_kernel_threads)) {
    ProcessChange change;
    change.kind = is_new ? ChangeKind::kStarted : ChangeKind::kExeced;
    change.info = info;
    result->changes.push_back(std::move(change));
  }
  // Kept even when partial: a zombie stays listed and must not be reported again;
  // a process that is really gone is dropped as exited on the next scan.
  Remember(std::move(info), is_new, std::move(held));
  refreshed->push_back(pid);
}

Result<ScanResult> ProcessScanner::Scan() {
  const int64_t wall0 = NowNs(CLOCK_MONOTONIC);
  const int64_t cpu0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  auto pids = fs_.ListPids();
  if (!pids.ok()) return pids.error();
  ++counters_.scans;
  const uint64_t gen = counters_.scans;
  NetTables net(&fs_);
  ScanResult result;
  std::vector<int> refreshed;

  for (int pid : *pids) {
    auto it = table_.find(pid);
    Entry* known = nullptr;
    if (it != table_.end()) {
      bool reused = false;
      if (CheckKnown(pid, &it->second, &reused)) {
        it->second.seen_gen = gen;
        ++it->second.scans_since_enrich;
        continue;  // the common case: nothing else read
      }
      if (reused) {
        result.exited.push_back(it->second.info.key);
        ++counters_.exited;
        table_.erase(it);
      } else {
        known = &it->second;  // exec'd: re-enriched, keeps its held fd
      }
    }
    EnrichListed(pid, known, &net, &result, &refreshed);
  }

  // Drop what was not listed (or whose stat vanished) this scan.
  held_fds_ = 0;
  for (auto it = table_.begin(); it != table_.end();) {
    if (it->second.seen_gen != gen) {
      result.exited.push_back(it->second.info.key);
      ++counters_.exited;
      it = table_.erase(it);
    } else {
      if (it->second.comm_fd.get() >= 0) ++held_fds_;
      ++it;
    }
  }

  // fd re-reads: young processes, then a round-robin budget over the table.
  std::sort(refreshed.begin(), refreshed.end());
  auto refresh = [&](int pid) {
    if (std::binary_search(refreshed.begin(), refreshed.end(), pid)) return;
    auto it = table_.find(pid);
    if (it == table_.end() || it->second.info.kernel_thread || !options_.read_fds) return;
    ProcessChange change;
    if (RefreshEntry(&it->second, &net, &change)) result.changes.push_back(std::move(change));
  };
  std::vector<int> young;
  for (const auto& [pid, entry] : table_) {
    if (entry.scans_since_enrich > 0 && entry.scans_since_enrich <= options_.young_rescans) {
      young.push_back(pid);
    }
  }
  for (int pid : young) refresh(pid);
  for (size_t done = 0; done < options_.fd_refresh_budget && !table_.empty(); ++done) {
    if (refresh_cursor_ >= refresh_order_.size()) {
      refresh_order_.clear();
      for (const auto& [pid, entry] : table_) refresh_order_.push_back(pid);
      std::sort(refresh_order_.begin(), refresh_order_.end());
      refresh_cursor_ = 0;
    }
    refresh(refresh_order_[refresh_cursor_++]);
  }

  std::stable_sort(result.changes.begin(), result.changes.end(),
                   [](const ProcessChange& a, const ProcessChange& b) {
                     return a.info.key.pid < b.info.key.pid;
                   });
  counters_.net_table_reads += net.tables_read();
  counters_.tracked = table_.size();
  counters_.held_fds = held_fds_;
  counters_.last_scan_wall_ns = NowNs(CLOCK_MONOTONIC) - wall0;
  counters_.last_scan_cpu_ns = NowNs(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  counters_.total_scan_cpu_ns += counters_.last_scan_cpu_ns;
  return result;
}

Result<ProcessInfo> ProcessScanner::EnrichOne(int pid) {
  auto dir = fs_.OpenPid(pid);
  if (!dir.ok()) return dir.error();
  auto text = dir->ReadFile("stat", 4096);
  if (!text.ok()) return text.error();
  auto stat = ParseStat(*text);
  if (!stat.ok()) return stat.error();
  auto it = table_.find(pid);
  bool is_new = it == table_.end() || it->second.info.key.start_ticks != stat->start_ticks;
  if (is_new && it != table_.end()) table_.erase(it);  // its held fd belongs to the old one
  NetTables net(&fs_);
  bool gone = false;
  ProcessInfo info = Enrich(*dir, *stat, &net, &gone);
  counters_.net_table_reads += net.tables_read();
  Remember(info, is_new, is_new ? MaybeHoldComm(*dir) : HeldFd());
  table_[pid].seen_gen = counters_.scans;
  counters_.tracked = table_.size();
  return info;
}

const ProcessInfo* ProcessScanner::Find(int pid) const {
  auto it = table_.find(pid);
  return it == table_.end() ? nullptr : &it->second.info;
}

Result<ProcessChange> ProcessScanner::RefreshFds(int pid) {
  auto it = table_.find(pid);
  if (it == table_.end()) return MakeError("pid not tracked", ESRCH);
  NetTables net(&fs_);
  ProcessChange change;
  bool changed = RefreshEntry(&it->second, &net, &change);
  counters_.net_table_reads += net.tables_read();
  if (!changed && change.kind != ChangeKind::kFdsChanged) {
    return MakeError("process gone", ESRCH);
  }
  if (!changed) change.info = it->second.info;
  return change;
}

std::vector<const ProcessInfo*> ProcessScanner::PipeHoldersWithNetwork(uint64_t pipe_inode,
                                                                       int requester_pid) {
  // The relay is usually an ancestor that may have forked after we enriched it.
  NetTables net(&fs_);
  if (const ProcessInfo* req = Find(requester_pid); req != nullptr) {
    std::vector<int> chain;
    for (const auto& a : req->ancestors) chain.push_back(a.pid);
    for (int pid : chain) {
      auto it = table_.find(pid);
      if (it == table_.end() || it->second.info.kernel_thread) continue;
      ProcessChange ignored;
      (void)RefreshEntry(&it->second, &net, &ignored);
    }
  }
  counters_.net_table_reads += net.tables_read();
  std::vector<const ProcessInfo*> out;
  for (const auto& [pid, entry] : table_) {
    if (pid == requester_pid || entry.info.sockets.empty()) continue;
    bool holds = std::any_of(entry.info.fds.begin(), entry.info.fds.end(), [&](const FdInfo& f) {
      return f.kind == FdKind::kPipe && f.inode == pipe_inode;
    });
    if (holds) out.push_back(&entry.info);
  }
  std::sort(out.begin(), out.end(),
            [](const ProcessInfo* a, const ProcessInfo* b) { return a->key.pid < b->key.pid; });
  return out;
}

ScanCounters ProcessScanner::counters() const {
  ScanCounters c = counters_;
  c.tracked = table_.size();
  return c;
}

}  // namespace sandwatch::procfs
