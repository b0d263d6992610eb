#include "early_read.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
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
  std::array<char, 32> path;
  std::snprintf(path.data(), path.size(), "%d/exe", pid);
  std::array<char, 4096> buf;
  ssize_t n = readlinkat(proc_dirfd, path.data(), buf.data(), buf.size());
  if (n <= 0) return {};
  return procfs::ParseExeLink(std::string_view(buf.data(), static_cast<size_t>(n))).path;
}

EarlyRead ReadEarly(int proc_dirfd, int pid) {
  EarlyRead er;
  std::array<char, 32> path;
  std::array<char, 8192> buf;
  std::snprintf(path.data(), path.size(), "%d/cmdline", pid);
  ssize_t n = ReadInto(proc_dirfd, path.data(), buf.data(), buf.size());
  bool ok = n > 0;
  if (n > 0)
    er.cmdline = procfs::ParseCmdline(std::string_view(buf.data(), static_cast<size_t>(n)));
  er.exe = ReadExe(proc_dirfd, pid);
  ok = ok && !er.exe.empty();
  std::snprintf(path.data(), path.size(), "%d/stat", pid);
  n = ReadInto(proc_dirfd, path.data(), buf.data(), buf.size());
  auto stat = n > 0 ? procfs::ParseStat(std::string_view(buf.data(), static_cast<size_t>(n)))
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

size_t ReadEarlyFds(int proc_dirfd, int pid, EarlyRead* er, size_t max_fds) {
  std::array<char, 48> path;
  std::snprintf(path.data(), path.size(), "%d/fd", pid);
  const int dfd = openat(proc_dirfd, path.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  DIR* dir = fdopendir(dfd);
  if (dir == nullptr) {
    close(dfd);
    return 0;
  }
  std::vector<uint64_t> socket_inodes;
  std::array<char, 4096> link;
  while (const dirent* e = readdir(dir)) {
    if (er->fds.size() >= max_fds) break;
    int fd = -1;
    const char* end = e->d_name + std::char_traits<char>::length(e->d_name);
    if (std::from_chars(e->d_name, end, fd).ptr != end || fd < 0) continue;  // "." and ".."
    const ssize_t n = readlinkat(dirfd(dir), e->d_name, link.data(), link.size());
    if (n <= 0) continue;  // closed meanwhile
    er->fds.push_back(
        procfs::ParseFdLink(fd, std::string_view(link.data(), static_cast<size_t>(n))));
    if (er->fds.back().kind == FdKind::kSocket) socket_inodes.push_back(er->fds.back().inode);
  }
  closedir(dir);
  std::sort(er->fds.begin(), er->fds.end(),
            [](const FdInfo& a, const FdInfo& b) { return a.fd < b.fd; });
  if (socket_inodes.empty()) return er->fds.size();
  std::string table;
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
    std::snprintf(path.data(), path.size(), "%d/net/%s", pid, proto);
    const int fd = openat(proc_dirfd, path.data(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    table.clear();
    std::array<char, 16384> buf;
    ssize_t got = 0;
    while ((got = read(fd, buf.data(), buf.size())) > 0 || (got < 0 && errno == EINTR)) {
      if (got > 0) table.append(buf.data(), static_cast<size_t>(got));
      if (table.size() > (4u << 20)) break;  // a node's table; enough for ours
    }
    close(fd);
    for (auto& s : procfs::ParseNetTable(table, proto)) {
      if (std::find(socket_inodes.begin(), socket_inodes.end(), s.inode) != socket_inodes.end())
        er->sockets.push_back(std::move(s));
    }
  }
  return er->fds.size();
}

}  // namespace sandwatch::sensor
