// The process model: what the sensor knows about one process after enrichment.
// Filled by the procfs layer (core/procfs), read by the rule engine and the
// event builder. Plain data, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sandwatch/core/event.h"

namespace sandwatch {

// Identity that survives pid reuse: the kernel's start time (clock ticks since
// boot, /proc/PID/stat field 22) together with the pid.
struct ProcessKey {
  int pid = 0;
  uint64_t start_ticks = 0;
  bool operator==(const ProcessKey&) const = default;
};

struct ProcessKeyHash {
  size_t operator()(const ProcessKey& k) const {
    return std::hash<uint64_t>()((static_cast<uint64_t>(k.pid) << 40) ^ k.start_ticks);
  }
};

// What a file descriptor points at, from readlink(/proc/PID/fd/N).
enum class FdKind { kNone, kFile, kPipe, kSocket, kTty, kAnon, kOther };

struct FdInfo {
  int fd = -1;
  FdKind kind = FdKind::kNone;
  std::string path;    // for kFile (and the raw link text otherwise)
  uint64_t inode = 0;  // for kPipe and kSocket
};

// A socket resolved through /proc/PID/net/{tcp,tcp6,udp,udp6}.
struct SocketInfo {
  uint64_t inode = 0;
  std::string proto;   // tcp | tcp6 | udp | udp6
  std::string local;   // "127.0.0.1:5000", "[::1]:80"
  std::string remote;  // "0.0.0.0:0" when unconnected
  int state = 0;       // TCP state number (1 = ESTABLISHED, 10 = LISTEN)
};

struct ProcessInfo {
  ProcessKey key;
  int ppid = 0;
  uint64_t start_time_ns = 0;  // since boot (start_ticks converted with CLK_TCK)
  std::string name;            // comm
  std::string exe;             // readlink(/proc/PID/exe), " (deleted)" stripped
  bool exe_deleted = false;    // the executable was unlinked (or is a memfd)
  bool exe_memfd = false;
  // Identity of the running executable (stat of /proc/PID/exe, which follows the
  // mapping even after unlink or replacement). exe_inode == 0 when unknown.
  uint64_t exe_dev = 0;
  uint64_t exe_inode = 0;
  int64_t exe_size = -1;
  int64_t exe_mtime_ns = 0;
  int64_t exe_ctime_ns = 0;    // inode change time, wall clock ns (0: unknown)
  bool kernel_thread = false;  // PF_KTHREAD: no exe, no cmdline
  std::vector<std::string> cmdline;
  int64_t uid = -1;  // real uid, -1 when unknown
  std::string cwd;
  std::vector<FdInfo> fds;             // open descriptors (stdio first)
  std::vector<SocketInfo> sockets;     // the process's sockets that resolved in /proc/net
  std::vector<AncestorRef> ancestors;  // parent first, up to the sensor's depth limit
  // True when the process vanished before every field could be read.
  bool partial = false;
  // CLOCK_MONOTONIC when the sensor first saw this process.
  int64_t first_seen_mono_ns = 0;
};

}  // namespace sandwatch
