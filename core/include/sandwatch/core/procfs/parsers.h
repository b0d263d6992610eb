// Layer 1 of /proc: pure parsers over text already read from procfs. No I/O, no
// allocation beyond the returned values, safe on any input (attacker-controlled comm,
// cmdline and paths included). Every function is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/process.h"
#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

// Fields of /proc/PID/stat the sensor uses.
struct StatFields {
  int pid = 0;
  std::string comm;  // between the first '(' and the LAST ')': "(a) b)" -> "a) b"
  char state = '?';
  int ppid = 0;
  uint64_t flags = 0;        // field 9; PF_KTHREAD = 0x00200000
  uint64_t start_ticks = 0;  // field 22, clock ticks since boot
  bool IsKernelThread() const { return (flags & 0x00200000u) != 0; }
};

// Parses a whole stat line. Error (code 0) when the text is truncated or malformed.
Result<StatFields> ParseStat(std::string_view text);

// Only what an incremental scan needs: start ticks and comm, without building the
// rest. Same rules as ParseStat. comm is a view into `text`.
struct StatKey {
  std::string_view comm;
  uint64_t start_ticks = 0;
};
Result<StatKey> ParseStatKey(std::string_view text);

// utime + stime (fields 14 and 15) in clock ticks: the CPU a process used. Same
// rules as ParseStat.
Result<uint64_t> ParseStatCpuTicks(std::string_view text);

// Fields of /proc/PID/status.
struct StatusFields {
  std::string name;   // Name: (escaped by the kernel: "\n" -> "\\n")
  int ppid = 0;       // PPid:
  int64_t uid = -1;   // Uid: first column (real uid)
  int64_t euid = -1;  // Uid: second column (effective uid)
};
// Error when no Name: line is found (truncated or not a status file).
Result<StatusFields> ParseStatus(std::string_view text);

// The value of the "Key:" line of /proc/PID/status with leading blanks removed
// ("CapEff", "NSpid", "VmRSS"); nullopt when no line has exactly that key.
std::optional<std::string_view> StatusValue(std::string_view text, std::string_view key);

// "VmRSS:\t  3120 kB" -> 3120 for key "VmRSS"; nullopt when missing or malformed.
std::optional<int64_t> ParseStatusKib(std::string_view text, std::string_view key);

// The first field of /proc/PID/schedstat: nanoseconds spent on a CPU.
std::optional<uint64_t> ParseSchedstatNs(std::string_view text);

// NUL-separated argv. A trailing NUL is optional (processes may rewrite their
// argv area); empty text gives an empty vector (kernel thread or zombie).
std::vector<std::string> ParseCmdline(std::string_view text);

// "0100007F:1F90" -> "127.0.0.1:8080"; 32-hex-digit IPv6 (kernel prints four
// host-order 32-bit words) -> "[::1]:8080". Error when malformed.
Result<std::string> DecodeEndpoint(std::string_view hex);

// One /proc/net/{tcp,tcp6,udp,udp6} table. Malformed lines are skipped and counted
// in *bad_lines (when non-null); the header line is not counted. `proto` is copied
// into each SocketInfo.
std::vector<SocketInfo> ParseNetTable(std::string_view text, std::string_view proto,
                                      int* bad_lines = nullptr);

// readlink(/proc/PID/fd/N) text -> kind, path, inode:
//   "socket:[123]" -> kSocket inode 123      "pipe:[456]" -> kPipe inode 456
//   "/dev/pts/0", "/dev/ttyS0", "/dev/tty", "/dev/console" -> kTty
//   "anon_inode:[eventfd]", "anon_inode:inotify" -> kAnon
//   "/etc/shadow", "/x (deleted)", "/memfd:n (deleted)" -> kFile (path kept verbatim)
//   other "type:[n]" links (net:[..], mnt:[..]) -> kOther
FdInfo ParseFdLink(int fd, std::string_view link);

// readlink(/proc/PID/exe) text -> path with " (deleted)" stripped, and flags.
// "/memfd:x (deleted)" is a memfd (and deleted); "/usr/bin/x (deleted)" is deleted.
struct ExeLink {
  std::string path;
  bool deleted = false;
  bool memfd = false;
};
ExeLink ParseExeLink(std::string_view link);

// "net:[4026531992]" -> 4026531992; 0 when malformed.
uint64_t ParseNsLink(std::string_view link);

// The mount points of /proc/PID/mountinfo (its fifth field), in order, with the kernel's
// octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) decoded. Lines with
// fewer than five fields are skipped.
std::vector<std::string> ParseMountPoints(std::string_view mountinfo);

}  // namespace sandwatch::procfs
