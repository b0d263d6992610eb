#include "sandwatch/core/procfs/proc_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "file_stat.h"

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

// Lists numeric entries of the directory `name` relative to `dirfd` (AT_FDCWD for an
// absolute path); `shown` is the path used in error messages.
Result<std::vector<int>> ListNumericAt(int dirfd, const char* name, const std::string& shown,
                                       size_t max) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return OsError("opendir", shown, errno);
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    close(fd);
    return OsError("fdopendir", shown, err);
  }
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
  if (err != 0) return OsError("readdir", shown, err);
  std::sort(out.begin(), out.end());
  return out;
}

Status ReadAllAt(int dirfd, const char* name, const std::string& shown, size_t max_bytes,
                 std::string* out) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", shown, errno);
  out->clear();
  // Read through a stack buffer: growing `out` first would zero bytes only to
  // overwrite them, which cost more than the read itself for small files.
  std::array<char, 16384> buf;
  while (out->size() < max_bytes) {
    size_t want = std::min(buf.size(), max_bytes - out->size());
    ssize_t n = read(fd, buf.data(), want);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      close(fd);
      return OsError("read", shown, err);
    }
    if (n == 0) break;
    out->append(buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  return OkStatus();
}

Result<std::string> ReadLinkAt(int dirfd, const char* name, const std::string& shown) {
  std::array<char, 4096> buf;
  ssize_t n = readlinkat(dirfd, name, buf.data(), buf.size());
  if (n < 0) return OsError("readlink", shown, errno);
  return std::string(buf.data(), static_cast<size_t>(n));
}

Result<FileStat> StatAt(int dirfd, const char* name, const std::string& shown) {
  struct stat st {};
  if (fstatat(dirfd, name, &st, 0) != 0) return OsError("stat", shown, errno);
  return ToFileStat(st);
}

std::string Join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  p += '/';
  p += name;
  return p;
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
  struct statfs fs {};
  procfs_ = statfs(root_.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

std::string ProcFs::PidPath(int pid) const {
  std::string p = root_;
  p += '/';
  p += std::to_string(pid);
  return p;
}

Result<std::vector<int>> ProcFs::ListPids() const {
  return ListNumericAt(AT_FDCWD, root_.c_str(), root_, static_cast<size_t>(-1));
}

Result<std::vector<int>> ProcFs::ListTasks(int pid) const {
  const std::string path = Join(PidPath(pid), "task");
  return ListNumericAt(AT_FDCWD, path.c_str(), path, static_cast<size_t>(-1));
}

Result<std::string> ProcFs::ReadPidFile(int pid, std::string_view name, size_t max_bytes) const {
  std::string path = Join(PidPath(pid), name);
  std::string out;
  Status st = ReadAllAt(AT_FDCWD, path.c_str(), path, max_bytes, &out);
  if (!st.ok()) return st.error();
  return out;
}

Status ProcFs::ReadStatInto(int pid, std::string* buf) const {
  // One open/read/close into a reused buffer: a stat line is well under 1 KiB.
  std::array<char, 4096> path;
  int len = std::snprintf(path.data(), path.size(), "%s/%d/stat", root_.c_str(), pid);
  if (len < 0 || static_cast<size_t>(len) >= path.size()) return MakeError("path too long");
  int fd = open(path.data(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", path.data(), errno);
  std::array<char, 1024> text;
  ssize_t n;
  do {
    n = read(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) return OsError("read", path.data(), err);
  buf->assign(text.data(), static_cast<size_t>(n));
  return OkStatus();
}

Result<int> ProcFs::OpenPidFile(int pid, std::string_view name) const {
  std::string path = Join(PidPath(pid), name);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", path, errno);
  return fd;
}

Status ProcFs::PreadInto(int fd, std::string* buf) {
  std::array<char, 4096>
      text;  // not buf->resize(4096): zeroing 4 KiB per call cost more than the pread
  ssize_t n;
  do {
    n = pread(fd, text.data(), text.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    buf->clear();
    return MakeError(std::string("pread: ").append(std::strerror(err)), err);
  }
  buf->assign(text.data(), static_cast<size_t>(n));
  return OkStatus();
}

Result<std::string> ProcFs::ReadRootFile(std::string_view relative, size_t max_bytes) const {
  std::string path = Join(root_, relative);
  std::string out;
  Status st = ReadAllAt(AT_FDCWD, path.c_str(), path, max_bytes, &out);
  if (!st.ok()) return st.error();
  return out;
}

Result<std::string> ProcFs::ReadLink(int pid, std::string_view name) const {
  std::string path = Join(PidPath(pid), name);
  return ReadLinkAt(AT_FDCWD, path.c_str(), path);
}

Result<std::vector<int>> ProcFs::ListFds(int pid, size_t max_fds) const {
  std::string path = Join(PidPath(pid), "fd");
  return ListNumericAt(AT_FDCWD, path.c_str(), path, max_fds);
}

Result<FileStat> ProcFs::StatPidFile(int pid, std::string_view name) const {
  std::string path = Join(PidPath(pid), name);
  return StatAt(AT_FDCWD, path.c_str(), path);
}

Result<PidDir> ProcFs::OpenPid(int pid) const {
  PidDir dir;
  dir.path_ = PidPath(pid);
  dir.pid_ = pid;
  dir.procfs_ = procfs_;
  dir.fd_ = open(dir.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir.fd_ < 0) return OsError("open", dir.path_, errno);
  return dir;
}

PidDir::PidDir(PidDir&& other) noexcept
    : fd_(other.fd_), pid_(other.pid_), procfs_(other.procfs_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

PidDir& PidDir::operator=(PidDir&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    pid_ = other.pid_;
    procfs_ = other.procfs_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

PidDir::~PidDir() {
  if (fd_ >= 0) close(fd_);
}

Result<std::string> PidDir::ReadFile(std::string_view name, size_t max_bytes) const {
  std::string rel(name);
  std::string out;
  Status st = ReadAllAt(fd_, rel.c_str(), Join(path_, name), max_bytes, &out);
  if (!st.ok()) return st.error();
  return out;
}

Result<std::string> PidDir::ReadLink(std::string_view name) const {
  std::string rel(name);
  return ReadLinkAt(fd_, rel.c_str(), Join(path_, name));
}

Result<std::vector<int>> PidDir::ListFds(size_t max_fds) const {
  return ListNumericAt(fd_, "fd", Join(path_, "fd"), max_fds);
}

Result<FileStat> PidDir::Stat(std::string_view name) const {
  std::string rel(name);
  return StatAt(fd_, rel.c_str(), Join(path_, name));
}

Result<ExeIdentity> PidDir::ReadExe() const {
  ExeIdentity id;
  int fd = openat(fd_, "exe", O_PATH | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (fstat(fd, &st) == 0) id.stat = ToFileStat(st);
    if (procfs_) {
      // The opened image's own path: the same dentry readlink(exe) would show.
      auto self =
          ReadLinkAt(AT_FDCWD, ("/proc/self/fd/" + std::to_string(fd)).c_str(), Join(path_, "exe"));
      close(fd);
      if (self.ok()) id.link = std::move(*self);
      if (self.ok()) return id;
      id.stat.reset();  // no path for this image: fall back to the link alone
    } else {
      close(fd);
    }
  } else if (procfs_) {
    return OsError("open", Join(path_, "exe"), errno);
  }
  auto link = ReadLink("exe");
  if (!link.ok()) return link.error();
  id.link = std::move(*link);
  return id;
}

Result<int> PidDir::Open(std::string_view name) const {
  std::string rel(name);
  int fd = openat(fd_, rel.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError("open", Join(path_, name), errno);
  return fd;
}

Result<std::string> PidDir::SocketProtocol(int fd) const {
  // Through this process's own /proc, so the lookup stays bound to the opened pid.
  const std::string path = "/proc/self/fd/" + std::to_string(fd_) + "/fd/" + std::to_string(fd);
  std::array<char, 64> name;
  ssize_t n = getxattr(path.c_str(), "system.sockprotoname", name.data(), name.size());
  if (n < 0)
    return MakeError(Join(path_, "fd/" + std::to_string(fd)) + ": no socket protocol", errno);
  while (n > 0 && name[n - 1] == '\0') --n;
  return std::string(name.data(), static_cast<size_t>(n));
}

}  // namespace sandwatch::procfs
