// Internal: struct stat -> FileStat, shared by ProcFs and Baseline.
#pragma once

#include <sys/stat.h>

#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::procfs {

inline FileStat ToFileStat(const struct stat& st) {
  FileStat f;
  f.dev = st.st_dev;
  f.inode = st.st_ino;
  f.size = st.st_size;
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  f.mode = st.st_mode;
  return f;
}

}  // namespace sandwatch::procfs
