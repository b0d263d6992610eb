// Baseline: the executables present in the workload's root when the sensor
// started. post_start_binary_execution fires for anything outside it.
//
// The root is reached as "/proc/PID/root" of the watched workload, or any plain
// directory ("/" for the sensor's own view). Paths inside the baseline are as the
// workload sees them ("/usr/bin/ls"), which is what readlink(/proc/PID/exe) gives.
// Directory symlinks (/bin -> usr/bin) are not walked twice; file symlinks are
// resolved inside the root (never escaping to the host) and their targets recorded.
// Each entry keeps dev, inode, size and mtime, so a file replaced or rewritten after
// start no longer matches. Bounded by max_entries and max_depth.
// Thread-safety: immutable after Build(); const calls may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sandwatch/core/process.h"
#include "sandwatch/core/procfs/proc_fs.h"
#include "sandwatch/core/result.h"

namespace sandwatch::procfs {

struct BaselineOptions {
  // Walked recursively (bounded by max_depth), relative to the root.
  std::vector<std::string> dirs = {
      "/bin", "/sbin",        "/usr/bin", "/usr/sbin",  "/usr/local/bin", "/usr/local/sbin",
      "/opt", "/usr/libexec", "/usr/lib", "/usr/lib64", "/usr/local/lib"};
  int max_depth = 6;
  size_t max_entries = 200000;  // walk stops (truncated() = true) beyond this
};

class Baseline {
 public:
  Baseline() = default;  // empty: Contains() is always false

  // Walks `root` (e.g. "/proc/4242/root" or "/"). Error only when the root itself
  // cannot be opened; unreadable subdirectories are skipped and counted.
  static Result<Baseline> Build(const std::string& root, const BaselineOptions& options = {});

  // Path-only check ("/usr/bin/ls" as seen inside the workload).
  bool Contains(std::string_view exe_path) const;

  // Path and identity: also false when dev/inode/size/mtime differ from start-up.
  bool Contains(std::string_view exe_path, const FileStat& now) const;

  // The check post_start_binary_execution uses: false for deleted or memfd
  // executables and for kernel threads' empty exe; compares the running binary's
  // identity (ProcessInfo::exe_dev/exe_inode/exe_size/exe_mtime_ns) when known.
  // A path the walk did not record (outside the walked dirs: /root/.pyenv, a home)
  // counts as present when its inode has not changed since before Build() started
  // (exe_ctime_ns earlier than that): writing, renaming or linking a file sets its
  // ctime, and ctime cannot be set back from user space.
  bool Contains(const ProcessInfo& process) const;

  size_t size() const { return files_.size(); }
  bool truncated() const { return truncated_; }
  size_t skipped_dirs() const { return skipped_dirs_; }
  const std::string& root() const { return root_; }

  // Saving and restoring (a restarted sensor keeps its first baseline): the entries by
  // path as seen inside the workload, and a baseline rebuilt from them.
  const std::unordered_map<std::string, FileStat>& entries() const { return files_; }
  static Baseline FromEntries(std::string root, std::unordered_map<std::string, FileStat> files,
                              bool truncated);

 private:
  std::string root_;
  std::unordered_map<std::string, FileStat> files_;
  int64_t started_wall_ns_ = 0;  // CLOCK_REALTIME when Build() began
  bool truncated_ = false;
  size_t skipped_dirs_ = 0;
};

}  // namespace sandwatch::procfs
