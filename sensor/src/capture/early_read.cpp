#include "early_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "sandwatch/core/procfs/parsers.h"

namespace sandwatch::sensor {

namespace {

// Reads a small proc file into `buf`; returns bytes read or -1.
ssize_t ReadInto(int dirfd, const char* path, char* buf, size_t cap) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t total = 0;
  while (total < cap) {
    ssize_t n = read(fd, buf + total, cap - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  close(fd);
  return static_cast<ssize_t>(total);
}

}  // namespace

std::string ReadExe(int proc_dirfd, int pid) {
  char path[32];
  std::snprintf(path, sizeof(path), "%d/exe", pid);
  char buf[4096];
  ssize_t n = readlinkat(proc_dirfd, path, buf, sizeof(buf));
  if (n <= 0) return {};
  return procfs::ParseExeLink(std::string_view(buf, static_cast<size_t>(n))).path;
}

EarlyRead ReadEarly(int proc_dirfd, int pid) {
  EarlyRead er;
  char path[32];
  char buf[8192];
  std::snprintf(path, sizeof(path), "%d/cmdline", pid);
  ssize_t n = ReadInto(proc_dirfd, path, buf, sizeof(buf));
  bool ok = n > 0;
  if (n > 0) er.cmdline = procfs::ParseCmdline(std::string_view(buf, static_cast<size_t>(n)));
  er.exe = ReadExe(proc_dirfd, pid);
  ok = ok && !er.exe.empty();
  std::snprintf(path, sizeof(path), "%d/stat", pid);
  n = ReadInto(proc_dirfd, path, buf, sizeof(buf));
  auto stat = n > 0 ? procfs::ParseStat(std::string_view(buf, static_cast<size_t>(n)))
                    : Result<procfs::StatFields>(MakeError("stat: not readable"));
  if (stat.ok()) {
    er.name = std::move(stat->comm);
    er.ppid = stat->ppid;
    er.start_ticks = stat->start_ticks;
  }
  ok = ok && stat.ok();
  er.complete = ok;
  return er;
}

}  // namespace sandwatch::sensor
