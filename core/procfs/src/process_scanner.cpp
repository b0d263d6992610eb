// ProcessScanner: the table, the incremental scan loop and the public queries.
#include "sandwatch/core/procfs/process_scanner.h"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

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

ProcessScanner::Entry& ProcessScanner::Remember(ProcessInfo info, bool is_new, HeldFd comm_fd) {
  if (is_new) {
    ++counters_.processes_seen;
  } else {
    ++counters_.execs_seen;
  }
  Entry& e = table_[info.key.pid];
  e.info = std::move(info);
  // Held for the process's lifetime: no spare capacity.
  e.info.fds.shrink_to_fit();
  e.info.sockets.shrink_to_fit();
  e.info.ancestors.shrink_to_fit();
  e.info.cmdline.shrink_to_fit();
  if (comm_fd.get() >= 0) e.comm_fd = std::move(comm_fd);
  return e;
}

ProcessScanner::Hot ProcessScanner::MakeHot(const Entry& entry) {
  Hot h;
  h.pid = entry.info.key.pid;
  h.comm_fd = entry.comm_fd.get();
  h.start_ticks = entry.info.key.start_ticks;
  h.kernel_thread = entry.info.kernel_thread;
  // A user process's comm is at most 15 bytes; a longer one (a kworker's, with its
  // queue's name) is compared on its first 16 bytes (see CheckKnown).
  h.comm_len = static_cast<uint8_t>(std::min<size_t>(entry.info.name.size(), 16));
  std::memcpy(h.comm.data(), entry.info.name.data(), h.comm_len);
  return h;
}

void ProcessScanner::UpsertHot(const Entry& entry) {
  Hot h = MakeHot(entry);
  auto it = std::lower_bound(hot_.begin(), hot_.end(), h.pid,
                             [](const Hot& x, int pid) { return x.pid < pid; });
  if (it != hot_.end() && it->pid == h.pid) {
    *it = h;
  } else {
    hot_.insert(it, h);
  }
}

ProcessScanner::HeldFd ProcessScanner::MaybeHoldComm(const PidDir& dir) {
  if (held_fds_ >= options_.max_held_fds) return {};
  auto fd = dir.Open("comm");
  if (!fd.ok()) return {};  // EMFILE, gone, or a fixture tree without comm
  ++held_fds_;
  return HeldFd(*fd);
}

bool ProcessScanner::CheckKnown(Hot* hot, bool* reused) {
  *reused = false;
  std::string_view comm;
  if (hot->comm_fd >= 0) {
    Status st = ProcFs::PreadInto(hot->comm_fd, &comm_buf_);
    if (!st.ok()) {
      if (!IsGone(st.error())) ++counters_.read_errors;
      *reused = true;  // the process behind the fd exited; the listed pid is another
      return false;
    }
    comm = comm_buf_;
    if (!comm.empty() && comm.back() == '\n') comm.remove_suffix(1);
  } else {
    Status st = fs_.ReadStatInto(hot->pid, &stat_buf_);
    auto key = st.ok() ? ParseStatKey(stat_buf_) : Result<StatKey>(st.error());
    if (!key.ok()) {
      if (IsGone(key.error())) {
        *reused = true;
        return false;
      }
      ++counters_.read_errors;
      return true;  // unreadable this time: keep, do not report
    }
    if (key->start_ticks != hot->start_ticks) {
      *reused = true;
      return false;
    }
    comm = key->comm;
  }
  if (hot->SameComm(comm)) return true;
  if (hot->kernel_thread) {
    // kworker names follow their work queue, and /proc shows them with the queue's name
    // ("kworker/u8:0-events_unbound"), longer than 15 bytes: compare what the record
    // holds, update quietly. Re-enriching them cost a full read on every scan.
    const size_t n = std::min(comm.size(), hot->comm.size());
    if (hot->comm_len == n && std::memcmp(hot->comm.data(), comm.data(), n) == 0) return true;
    hot->comm_len = static_cast<uint8_t>(n);
    std::memcpy(hot->comm.data(), comm.data(), n);
    if (auto it = table_.find(hot->pid); it != table_.end()) it->second.info.name = comm;
    return true;
  }
  return false;  // exec'd or renamed
}

void ProcessScanner::Exited(const ProcessKey& key, ScanResult* result) {
  result->exited.push_back(key);
  ++counters_.exited;
  table_.erase(key.pid);
}

void ProcessScanner::ReleaseFreedHeap() {
  release_heap_ = false;
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

ProcessScanner::Entry* ProcessScanner::EnrichListed(int pid, const ProcessKey* exec_key,
                                                    NetTables* net, ScanResult* result) {
  // Everything below reads through one PidDir: a pid reused meanwhile fails as gone
  // instead of mixing two processes.
  auto dir = fs_.OpenPid(pid);
  auto text = dir.ok() ? dir->ReadFile("stat", 4096) : Result<std::string>(dir.error());
  auto stat = text.ok() ? ParseStat(*text) : Result<StatFields>(text.error());
  if (!stat.ok()) {
    if (!IsGone(stat.error())) {
      ++counters_.read_errors;
    } else if (exec_key == nullptr) {
      ++counters_.cmdline_unreadable;  // listed, then gone before anything was read
    }
    if (exec_key != nullptr) Exited(*exec_key, result);
    return nullptr;
  }
  if (exec_key != nullptr && stat->start_ticks != exec_key->start_ticks) {
    Exited(*exec_key, result);  // reused between the check and now
    exec_key = nullptr;
  }
  const bool is_new = exec_key == nullptr;
  HeldFd held = is_new ? MaybeHoldComm(*dir) : HeldFd();
  bool gone = false;
  ProcessInfo info = Enrich(*dir, *stat, net, &gone);
  if (!(info.kernel_thread && options_.skip_kernel_threads)) {
    pending_changes_.emplace_back(pid, is_new ? ChangeKind::kStarted : ChangeKind::kExeced);
  }
  // Kept even when partial: a zombie stays listed and must not be reported again;
  // a process that is really gone is dropped as exited on the next scan.
  return &Remember(std::move(info), is_new, std::move(held));
}

Result<ScanResult> ProcessScanner::Scan() {
  const int64_t wall0 = NowNs(CLOCK_MONOTONIC);
  const int64_t cpu0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  if (release_heap_) ReleaseFreedHeap();
  auto pids = fs_.ListPids();
  if (!pids.ok()) return pids.error();
  ++counters_.scans;
  NetTables net(&fs_);
  ScanResult result;
  pending_changes_.clear();

  // Linear merge of the sorted pid list with the sorted hot records.
  std::vector<Hot>& next = hot_next_;
  next.clear();
  next.reserve(pids->size());
  size_t h = 0;
  for (int pid : *pids) {
    for (; h < hot_.size() && hot_[h].pid < pid; ++h) {
      Exited({hot_[h].pid, hot_[h].start_ticks}, &result);
    }
    const ProcessKey* exec_key = nullptr;
    ProcessKey old_key;
    if (h < hot_.size() && hot_[h].pid == pid) {
      Hot cur = hot_[h++];
      bool reused = false;
      if (CheckKnown(&cur, &reused)) {
        if (cur.age < UINT16_MAX) ++cur.age;
        next.push_back(cur);
        continue;  // the common case: nothing else read
      }
      old_key = {cur.pid, cur.start_ticks};
      if (reused) {
        Exited(old_key, &result);
      } else {
        exec_key = &old_key;  // exec'd: re-enriched, keeps its held fd
      }
    }
    if (Entry* e = EnrichListed(pid, exec_key, &net, &result)) next.push_back(MakeHot(*e));
  }
  for (; h < hot_.size(); ++h) Exited({hot_[h].pid, hot_[h].start_ticks}, &result);
  hot_.swap(next);
  // The changes' copies come after every table entry of this scan (see pending_changes_).
  result.changes.reserve(pending_changes_.size());
  for (const auto& [pid, kind] : pending_changes_) {
    auto it = table_.find(pid);
    if (it == table_.end()) continue;
    ProcessChange& change = result.changes.emplace_back();
    change.kind = kind;
    change.info = it->second.info;
  }
  release_heap_ =
      options_.release_heap_after > 0 && pending_changes_.size() >= options_.release_heap_after;
  held_fds_ = 0;
  for (const Hot& x : hot_) held_fds_ += x.comm_fd >= 0 ? 1 : 0;

  // fd re-reads: young processes, then a round-robin budget over the table.
  auto refresh = [&](const Hot& x, bool young) {
    if (x.kernel_thread || !options_.read_fds) return;
    auto it = table_.find(x.pid);
    if (it == table_.end()) return;
    ProcessChange change;
    if (RefreshEntry(&it->second, &net, &change, young)) {
      result.changes.push_back(std::move(change));
    }
  };
  for (const Hot& x : hot_) {
    if (x.age > 0 && x.age <= options_.young_rescans) refresh(x, true);
  }
  for (size_t done = 0; done < options_.fd_refresh_budget && !hot_.empty(); ++done) {
    if (refresh_cursor_ >= hot_.size()) refresh_cursor_ = 0;
    const Hot& x = hot_[refresh_cursor_++];
    if (x.age > options_.young_rescans) refresh(x, false);  // young ones were just done
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
  UpsertHot(Remember(info, is_new, is_new ? MaybeHoldComm(*dir) : HeldFd()));
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
  bool changed = RefreshEntry(&it->second, &net, &change, true);
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
      (void)RefreshEntry(&it->second, &net, &ignored, true);
    }
  }
  std::vector<const ProcessInfo*> out;
  for (auto& [pid, entry] : table_) {
    if (pid == requester_pid || entry.info.kernel_thread) continue;
    bool holds = std::any_of(entry.info.fds.begin(), entry.info.fds.end(), [&](const FdInfo& f) {
      return f.kind == FdKind::kPipe && f.inode == pipe_inode;
    });
    if (!holds) continue;
    // A sibling relay (`nc H P | sh`) was enriched at exec, before it connected: its
    // pipe is known (set up before the exec), its socket maybe not yet.
    if (entry.info.sockets.empty()) {
      ProcessChange ignored;
      (void)RefreshEntry(&entry, &net, &ignored, true);
    }
    if (!entry.info.sockets.empty()) out.push_back(&entry.info);
  }
  counters_.net_table_reads += net.tables_read();
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
