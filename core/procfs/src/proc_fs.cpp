#include "sandwatch/core/procfs/proc_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace sandwatch::procfs {
namespace {

Error OsError(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return MakeError(std::move(msg), err);
}

bool ParseInt(const char* s, int* out) {
  const char* end = s + std::strlen(s);
  if (s == end) return false;
  auto [p, ec] = std::from_chars(s, end, *out);
  return ec == std::errc() && p == end && *out >= 0;
}

Result<std::vector<int>> ListNumeric(const std::string& dir, size_t max) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return OsError("opendir", dir, errno);
  std::vector<int> out;
  errno = 0;
  while (dirent* e = readdir(d)) {
    int n = 0;
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && ParseInt(e->d_name, &n)) {
      out.push_back(n);
      if (out.size() >= max) break;
    }
  }
  int err = errno;
  closedir(d);
  // A pid directory that vanished while listing its fds gives ENOENT here.
  if (err != 0) return OsError("readdir", dir, err);
  std::sort(out.begin(), out.end());
  return out;
}

Status ReadAll(const std::string& path, size_t max_bytes, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", path, errno);
  out->clear();
  size_t chunk = 4096;
  while (out->size() < max_bytes) {
    size_t old = out->size();
    size_t want = std::min(chunk, max_bytes - old);
    out->resize(old + want);
    ssize_t n = read(fd, out->data() + old, want);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) {
        out->resize(old);
        continue;
      }
      close(fd);
      out->resize(old);
      return OsError("read", path, err);
    }
    out->resize(old + static_cast<size_t>(n));
    if (n == 0) break;
    if (chunk < 65536) chunk *= 2;
  }
  close(fd);
  return OkStatus();
}

}  // namespace

bool IsGone(const Error& error) { return error.code == ENOENT || error.code == ESRCH; }

Result<uint64_t> RaiseFdSoftLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return MakeError("getrlimit(RLIMIT_NOFILE)", errno);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      return MakeError("setrlimit(RLIMIT_NOFILE)", errno);
    }
  }
  return static_cast<uint64_t>(lim.rlim_cur);
}

ProcFs::ProcFs(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ProcFs::PidPath(int pid) const {
  std::string p = root_;
  p += '/';
  p += std::to_string(pid);
  return p;
}

Result<std::vector<int>> ProcFs::ListPids() const {
  return ListNumeric(root_, static_cast<size_t>(-1));
}

Result<std::string> ProcFs::ReadPidFile(int pid, std::string_view name, size_t max_bytes) const {
  std::string path = PidPath(pid);
  path += '/';
  path += name;
  std::string out;
  Status st = ReadAll(path, max_bytes, &out);
  if (!st.ok()) return st.error();
  return out;
}

Status ProcFs::ReadStatInto(int pid, std::string* buf) const {
  // One open/read/close into a reused buffer: a stat line is well under 1 KiB.
  char path[4096];
  int len = std::snprintf(path, sizeof path, "%s/%d/stat", root_.c_str(), pid);
  if (len < 0 || static_cast<size_t>(len) >= sizeof path) return MakeError("path too long");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", path, errno);
  buf->resize(1024);
  ssize_t n;
  do {
    n = read(fd, buf->data(), buf->size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) return OsError("read", path, err);
  buf->resize(static_cast<size_t>(n));
  return OkStatus();
}

Result<int> ProcFs::OpenPidFile(int pid, std::string_view name) const {
  std::string path = PidPath(pid);
  path += '/';
  path += name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", path, errno);
  return fd;
}

Status ProcFs::PreadInto(int fd, std::string* buf) {
  buf->resize(4096);
  ssize_t n;
  do {
    n = pread(fd, buf->data(), buf->size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    buf->clear();
    return MakeError(std::string("pread: ").append(std::strerror(err)), err);
  }
  buf->resize(static_cast<size_t>(n));
  return OkStatus();
}

Result<std::string> ProcFs::ReadRootFile(std::string_view relative, size_t max_bytes) const {
  std::string path = root_;
  path += '/';
  path += relative;
  std::string out;
  Status st = ReadAll(path, max_bytes, &out);
  if (!st.ok()) return st.error();
  return out;
}

Result<std::string> ProcFs::ReadLink(int pid, std::string_view name) const {
  std::string path = PidPath(pid);
  path += '/';
  path += name;
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return OsError("readlink", path, errno);
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<int>> ProcFs::ListFds(int pid, size_t max_fds) const {
  return ListNumeric(PidPath(pid) + "/fd", max_fds);
}

Result<FileStat> ProcFs::StatPidFile(int pid, std::string_view name) const {
  std::string path = PidPath(pid);
  path += '/';
  path += name;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return OsError("stat", path, errno);
  FileStat f;
  f.dev = st.st_dev;
  f.inode = st.st_ino;
  f.size = st.st_size;
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.mode = st.st_mode;
  return f;
}

}  // namespace sandwatch::procfs
