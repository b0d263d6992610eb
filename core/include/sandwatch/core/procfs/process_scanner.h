// Layer 3 of /proc: ProcessScanner keeps the table of live processes, keyed by
// ProcessKey (pid + start ticks, so a reused pid is a new process), and turns
// successive /proc listings into changes.
//
// What each Scan() reads:
//   * the pid list (one getdents pass over the root);
//   * for every KNOWN pid: one tiny read. Normally a pread() of /proc/PID/comm through
//     an fd held since the process was first seen: the fd is bound to that process,
//     so ESRCH means it exited (even if the pid was reused), and a different comm means
//     it exec'd (or renamed itself). Without a held fd (over max_held_fds, or a
//     fixture tree without comm): /proc/PID/stat, comparing start ticks and comm.
//     Unchanged -> nothing else is read. Reused pid -> the old key exits and the pid
//     is enriched as new. Changed comm -> re-enriched and reported as kExeced;
//   * for every NEW pid: full enrichment (EnrichOne below);
//   * fd re-reads of known processes (see ScannerOptions): young processes for their
//     first `young_rescans` scans, plus a round-robin budget over the whole table, so a
//     long-lived process that opens /etc/shadow later is noticed within
//     table_size / fd_refresh_budget scans. New fds or sockets -> kFdsChanged;
//   * /proc/PID/net/{tcp,tcp6,udp,udp6} lazily: only when a socket inode not looked
//     up before has to be resolved, and then once per network namespace per scan
//     (about 0.7 ms per table on the lab machine, whatever the socket count). A socket
//     already resolved keeps what it resolved to then; one that did not resolve (not yet
//     connected) is looked up again only during the young re-reads, RefreshFds and
//     PipeHoldersWithNetwork. Unix and netlink sockets, which the kernel names as such
//     (PidDir::SocketProtocol), are never looked up.
// Exited pids are dropped and reported by key.
//
// A process that disappears mid-enrichment is normal: its ProcessInfo comes back with
// partial=true and counters().cmdline_unreadable is incremented when its cmdline could
// not be read. Nothing throws.
// Thread-safety: not thread-safe; one owner thread (the sensor pipeline) calls it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/process.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

class NetTables;  // internal: per-scan socket tables by network namespace

// How an event cuts an argv: at most `args` args, each at most `arg_bytes` long, and at
// most `total_bytes` in all (args past that are shown empty).
struct ArgvCap {
  size_t args = 0;
  size_t arg_bytes = 0;
  size_t total_bytes = 0;
};

struct ScannerOptions {
  int ancestor_depth = 8;  // ancestors kept per process, parent first
  size_t max_fds = 1024;   // fds read per process (stdio always first)
  bool read_fds = true;    // false: skip fds and sockets entirely
  int young_rescans = 2;   // re-read fds of a new process on its next N scans
  // Known (not young) processes whose fds are re-read per scan, round-robin over the
  // table: a long-lived process that opens a file later is noticed within
  // table_size / budget scans. Each re-read costs about 20-30 us.
  size_t fd_refresh_budget = 2;
  bool skip_kernel_threads = true;  // kernel threads: tracked by key, never enriched/reported
  // Keep /proc/PID/comm open for up to this many tracked processes and pread() it on
  // each scan: about 0.2 us instead of 1.5 us for open/read/close of stat, and
  // reuse-proof (the fd dies with the process). Costs one fd per tracked process:
  // raise RLIMIT_NOFILE's soft limit (the sensor should). On EMFILE, or beyond the
  // cap, or 0, known processes are checked through /proc/PID/stat instead.
  size_t max_held_fds = 8192;
  // Ancestors' cmdlines are kept only as far as events show them (rules match ancestor
  // names, not their cmdlines). These are the event's caps: an event shows the parent's
  // argv cut to `parent_event_argv` and every ancestor's, the parent's included, cut to
  // `ancestor_event_argv`. The scanner keeps of each arg one byte more than those cuts
  // show (and one arg more), so cutting the kept argv again gives the same argv and
  // still reports the cut.
  ArgvCap parent_event_argv{32, 1024, 2048};
  ArgvCap ancestor_event_argv{16, 256, 1024};
  // After a Scan() that enriched at least this many processes (the start-up scan, a
  // burst), the next Scan() first hands the heap pages freed since back to the kernel
  // (glibc malloc_trim). The copies a large scan returns are freed by the caller after
  // the table entries were allocated; without this their pages stay resident.
  // 0 = never.
  size_t release_heap_after = 256;
  const Clock* clock = nullptr;  // for first_seen_mono_ns; nullptr = SystemClock()
};

// Copied by the sensor into heartbeats. Monotonic counters since construction.
struct ScanCounters {
  uint64_t scans = 0;
  uint64_t processes_seen = 0;  // distinct processes enriched (new keys)
  uint64_t execs_seen = 0;      // known keys re-enriched after exec/rename
  uint64_t exited = 0;
  // A new process gone before its cmdline was read: listed by getdents but gone
  // before its stat could be read, or gone (or a zombie) by the time cmdline was read.
  uint64_t cmdline_unreadable = 0;
  uint64_t partial = 0;           // process gone before every field was read
  uint64_t read_errors = 0;       // failures that were not "gone" (EACCES, ...)
  uint64_t fd_refreshes = 0;      // known processes whose fds were re-read
  uint64_t net_table_reads = 0;   // /proc/PID/net/* tables read
  int64_t last_scan_wall_ns = 0;  // duration of the last Scan()
  int64_t last_scan_cpu_ns = 0;   // thread CPU time of the last Scan()
  int64_t total_scan_cpu_ns = 0;
  size_t tracked = 0;   // processes in the table now
  size_t held_fds = 0;  // tracked processes with a held comm fd
};

enum class ChangeKind {
  kStarted,     // a key not seen before (new process or reused pid)
  kExeced,      // same key, comm changed: re-enriched
  kFdsChanged,  // same key, fd re-read found new files or sockets
};

struct ProcessChange {
  ChangeKind kind = ChangeKind::kStarted;
  ProcessInfo info;  // full current info (fds, sockets, ancestors)
  // kFdsChanged only: the fds and sockets that were not there before.
  std::vector<FdInfo> new_fds;
  std::vector<SocketInfo> new_sockets;
};

struct ScanResult {
  std::vector<ProcessChange> changes;  // in pid order
  std::vector<ProcessKey> exited;
};

// The TCP/UDP socket behind fd inode `inode` of `process`, or nullptr (unix and
// netlink sockets never resolve: a systemd service's stdout to journald is not a
// network socket). Use this before calling a stdio socket a reverse shell.
const SocketInfo* FindNetworkSocket(const ProcessInfo& process, uint64_t inode);

class ProcessScanner {
 public:
  explicit ProcessScanner(ProcFs fs, ScannerOptions options = {});
  ~ProcessScanner();  // closes held comm fds
  ProcessScanner(ProcessScanner&&) noexcept = default;
  ProcessScanner& operator=(ProcessScanner&&) noexcept = default;
  ProcessScanner(const ProcessScanner&) = delete;
  ProcessScanner& operator=(const ProcessScanner&) = delete;

  // One incremental pass (see the file comment). Error only when the pid list
  // itself cannot be read (bad root); per-process failures are counted instead.
  Result<ScanResult> Scan();

  // Event-driven sources: enrich `pid` now and put it in the table. An entry with
  // another key (pid reused) is replaced silently: its key is not reported in a later
  // ScanResult::exited. Counts as processes_seen (new key) or execs_seen (same key).
  // Returns the info, partial=true if the process vanished mid-read. Error (IsGone)
  // when not even its stat could be read.
  Result<ProcessInfo> EnrichOne(int pid);

  // The table entry for `pid`, or nullptr. Valid until the next non-const call.
  const ProcessInfo* Find(int pid) const;

  // Re-reads fds (and resolves sockets) of a known pid; returns the new fds/sockets
  // as a kFdsChanged change (possibly with empty new_* lists). Error when unknown or gone.
  Result<ProcessChange> RefreshFds(int pid);

  // Reverse-shell helper: processes other than `requester_pid` that hold pipe
  // `pipe_inode` AND hold at least one TCP/UDP socket (ProcessInfo::sockets non-empty:
  // connected or listening). Refreshes the fds of the requester's ancestors first (the relay,
  // e.g. `ncat --exec`, is usually the parent, and may have been enriched before it
  // forked), and of holders of the pipe with no socket yet (a sibling relay enriched at
  // its exec, before it connected). Returned pointers are valid until the next
  // non-const call.
  std::vector<const ProcessInfo*> PipeHoldersWithNetwork(uint64_t pipe_inode, int requester_pid);

  ScanCounters counters() const;
  size_t size() const { return table_.size(); }
  const ProcFs& fs() const { return fs_; }

 private:
  // Owns one fd; closes it on destruction.
  class HeldFd {
   public:
    HeldFd() = default;
    explicit HeldFd(int fd) : fd_(fd) {}
    HeldFd(HeldFd&& o) noexcept : fd_(o.release()) {}
    HeldFd& operator=(HeldFd&& o) noexcept;
    HeldFd(const HeldFd&) = delete;
    HeldFd& operator=(const HeldFd&) = delete;
    ~HeldFd();
    int get() const { return fd_; }
    int release() {
      int f = fd_;
      fd_ = -1;
      return f;
    }

   private:
    int fd_ = -1;
  };

  struct Entry {
    HeldFd comm_fd;  // -1 when not held
    ProcessInfo info;
  };

  // The scan's working set: one small record per tracked process, sorted by pid, so
  // an incremental scan is a linear merge with the pid list that never touches the
  // (large, scattered) table entries of unchanged processes.
  struct Hot {
    int pid = 0;
    int comm_fd = -1;  // borrowed from the Entry
    uint64_t start_ticks = 0;
    std::array<char, 16> comm{};  // TASK_COMM_LEN: comm is at most 15 bytes
    uint8_t comm_len = 0;
    bool kernel_thread = false;
    uint16_t age = 0;  // scans since (re-)enrichment, saturating
    bool SameComm(std::string_view c) const {
      return c.size() == comm_len && std::string_view(comm.data(), comm_len) == c;
    }
  };
  static Hot MakeHot(const Entry& entry);

  // Full enrichment; *gone is set when the process vanished mid-read.
  ProcessInfo Enrich(const PidDir& dir, const StatFields& stat, NetTables* net, bool* gone);
  // Re-reads fds into `info`; false when the process is gone. Socket inodes looked up
  // before are not looked up again, unless they did not resolve and `retry_unresolved`
  // (a young process whose socket was not connected yet when first read).
  bool ReadFds(const PidDir& dir, ProcessInfo* info, NetTables* net, bool retry_unresolved);
  void FillAncestors(ProcessInfo* info);
  // Re-reads fds of a table entry; fills `change` and returns true when something new.
  bool RefreshEntry(Entry* entry, NetTables* net, ProcessChange* change, bool retry_unresolved);
  Entry& Remember(ProcessInfo info, bool is_new, HeldFd comm_fd);
  // Opens the process's comm for holding when under the cap.
  HeldFd MaybeHoldComm(const PidDir& dir);
  // New or exec'd pid: opens it, reads stat through the same PidDir, enriches, and
  // records the change. `exec_key` is the known key of an exec'd pid, nullptr for a
  // new one. Returns the table entry, or nullptr when the pid was already gone.
  Entry* EnrichListed(int pid, const ProcessKey* exec_key, NetTables* net, ScanResult* result);
  // Returns the heap pages freed since the last large scan to the kernel.
  void ReleaseFreedHeap();
  // Known pid: true when unchanged (nothing else to read). Otherwise *reused tells
  // whether the old process is gone (false: same process, exec'd or renamed).
  bool CheckKnown(Hot* hot, bool* reused);
  void Exited(const ProcessKey& key, ScanResult* result);
  // Inserts or replaces the hot record of a table entry (outside Scan()).
  void UpsertHot(const Entry& entry);

  ProcFs fs_;
  ScannerOptions options_;
  const Clock* clock_;
  int64_t ns_per_tick_ = 10000000;
  std::unordered_map<int, Entry> table_;  // by pid; the key inside holds start ticks
  std::vector<Hot> hot_;                  // same processes, sorted by pid
  std::vector<Hot> hot_next_;             // scratch for the merge, reused across scans
  // New or exec'd pids of the running Scan(), copied into its changes once the merge is
  // done, so the copies do not interleave with the table entries on the heap.
  std::vector<std::pair<int, ChangeKind>> pending_changes_;
  bool release_heap_ = false;  // the last scan enriched release_heap_after or more
  size_t refresh_cursor_ = 0;  // round-robin position in hot_
  ScanCounters counters_;
  std::string stat_buf_;
  std::string comm_buf_;
  size_t held_fds_ = 0;
};

}  // namespace sandwatch::procfs
