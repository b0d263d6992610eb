// Layer 2 of /proc: ProcFs reads files under a procfs root passed in by value
// ("/proc" in production, a fixture directory in tests). No globals, no statics.
//
// Errors: every call returns Result. A pid that went away while being read
// (ENOENT or ESRCH from open/read/readlink) is a normal outcome: the Error's code
// is that errno and IsGone(error) is true. Any other failure (EACCES, EIO, a path
// that is not procfs) has IsGone() false.
// Thread-safety: a ProcFs is immutable after construction; const calls may run
// concurrently from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

// True when the error means "the process (or file) is gone": ENOENT or ESRCH.
bool IsGone(const Error& error);

// stat(2) identity of a file, used by Baseline and for the running executable.
struct FileStat {
  uint64_t dev = 0;
  uint64_t inode = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // inode change time (wall clock): any write, rename or link sets it
  uint32_t mode = 0;
};

// The running executable as seen through one open of <pid>/exe.
struct ExeIdentity {
  std::string link;              // what readlink shows: "/usr/bin/cat", "/tmp/x (deleted)"
  std::optional<FileStat> stat;  // nullopt when the image could not be opened
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the new soft
// limit. ProcessScanner holds one fd per tracked process (max_held_fds); a sensor
// calls this once at start-up. Error when getrlimit/setrlimit fail.
Result<uint64_t> RaiseFdSoftLimit();

// An open <root>/<pid> directory. Every read through it concerns the process that
// held the pid when it was opened: if that process exits and the pid is reused,
// reads fail with ENOENT/ESRCH (IsGone) instead of returning the newcomer's data.
// Enrichment reads through one PidDir, which also saves a path walk per file.
// Movable, not copyable; closes its fd on destruction. Not thread-safe.
class PidDir {
 public:
  PidDir() = default;
  PidDir(PidDir&& other) noexcept;
  PidDir& operator=(PidDir&& other) noexcept;
  PidDir(const PidDir&) = delete;
  PidDir& operator=(const PidDir&) = delete;
  ~PidDir();

  int pid() const { return pid_; }
  bool is_open() const { return fd_ >= 0; }

  // Same contracts as the ProcFs calls of the same names, relative to this process.
  Result<std::string> ReadFile(std::string_view name, size_t max_bytes = 1 << 20) const;
  Result<std::string> ReadLink(std::string_view name) const;
  Result<std::vector<int>> ListFds(size_t max_fds = 4096) const;
  Result<FileStat> Stat(std::string_view name) const;
  // The executable from ONE open of exe: the path (read back from the opened
  // descriptor) and the stat identity always belong to the same image, even when the
  // process execs again in between. On a tree that is not procfs (test fixtures)
  // the link text is read with readlink and only the identity comes from the open.
  // Error (IsGone) when the process is gone.
  Result<ExeIdentity> ReadExe() const;
  // Opens a file of this process for holding (see ProcFs::OpenPidFile).
  Result<int> Open(std::string_view name) const;
  // The protocol of this process's socket `fd` as the kernel names it ("TCP", "UDPv6",
  // "UNIX-STREAM", "NETLINK", ...: the system.sockprotoname attribute), one syscall
  // instead of a socket table. Error when `fd` is closed or not a socket, or the tree
  // is not a live /proc.
  Result<std::string> SocketProtocol(int fd) const;

 private:
  friend class ProcFs;
  int fd_ = -1;
  int pid_ = 0;
  bool procfs_ = false;  // the root is a real procfs
  std::string path_;     // "<root>/<pid>", for error messages
};

class ProcFs {
 public:
  explicit ProcFs(std::string root = "/proc");
  ProcFs(const ProcFs&) = default;
  ProcFs& operator=(const ProcFs&) = default;
  ProcFs(ProcFs&&) noexcept = default;
  ProcFs& operator=(ProcFs&&) noexcept = default;
  ~ProcFs() = default;

  const std::string& root() const { return root_; }

  // Numeric entries of the root, ascending. Error only when the root cannot be read.
  Result<std::vector<int>> ListPids() const;

  // Thread ids of a process (numeric entries of <root>/<pid>/task), ascending.
  // Error (IsGone) when the process is gone.
  Result<std::vector<int>> ListTasks(int pid) const;

  // Whole file <root>/<pid>/<name> ("stat", "status", "cmdline", "net/tcp").
  // Files are read until EOF, capped at `max_bytes` (the rest is silently dropped;
  // cmdline of a huge argv is truncated, never an error).
  Result<std::string> ReadPidFile(int pid, std::string_view name, size_t max_bytes = 1 << 20) const;

  // Reads <root>/<pid>/stat into `buf` (resized) with one open/read/close.
  // The fast path used by incremental scans; `buf` is reused across calls.
  Status ReadStatInto(int pid, std::string* buf) const;

  // Opens <root>/<pid>/<name> ("comm", "stat") and returns the fd (O_CLOEXEC; the
  // caller closes it). A held /proc fd is bound to that process: once it exits,
  // PreadInto fails with ESRCH even if the pid is reused, so pread on a held
  // "comm" fd is a reuse-proof liveness and exec check for about 0.2 us.
  Result<int> OpenPidFile(int pid, std::string_view name) const;
  // pread(fd, offset 0) of up to 4 KiB into `buf` (resized). Error code ESRCH when
  // the process behind a held fd has exited.
  static Status PreadInto(int fd, std::string* buf);

  // Whole file <root>/<relative> ("net/tcp"), same cap rule as ReadPidFile.
  Result<std::string> ReadRootFile(std::string_view relative, size_t max_bytes = 8 << 20) const;

  // readlink(<root>/<pid>/<name>) for "exe", "cwd", "root", "ns/net", "fd/3".
  Result<std::string> ReadLink(int pid, std::string_view name) const;

  // Numeric entries of <root>/<pid>/fd, ascending, at most `max_fds`.
  Result<std::vector<int>> ListFds(int pid, size_t max_fds = 4096) const;

  // stat(<root>/<pid>/<name>) following the link: for "exe" this is the identity of
  // the running executable, even if it was deleted or replaced on disk.
  Result<FileStat> StatPidFile(int pid, std::string_view name) const;

  // Opens <root>/<pid> as a PidDir. Error (IsGone) when the pid does not exist.
  Result<PidDir> OpenPid(int pid) const;

  // "<root>/<pid>" (for example "/proc/123"), e.g. to reach "/proc/123/root".
  std::string PidPath(int pid) const;

 private:
  std::string root_;
  bool procfs_ = false;  // statfs of the root says PROC_SUPER_MAGIC
};

}  // namespace sandwatch::procfs
