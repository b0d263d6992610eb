#include "sandwatch/sensor/state_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "sandwatch/core/fd_io.h"
#include "sandwatch/sensor/sha256.h"

namespace sandwatch::sensor::state {

Status EnsureDir(const std::string& dir) {
  if (dir.empty()) return MakeError("empty state directory");
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return OsError("cannot create " + partial, errno);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return OsError(dir, errno);
  if (!S_ISDIR(st.st_mode)) return MakeError(dir + ": not a directory", ENOTDIR);
  return OkStatus();
}

Status WriteFileAtomic(const std::string& dir, const std::string& name, std::string_view content,
                       bool sync) {
  static unsigned counter = 0;
  const std::string target = dir + "/" + name;
  const std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return OsError("cannot create " + tmp, errno);
  bool ok = WriteAll(fd, content);
  int err = errno;
  if (ok && sync && ::fsync(fd) != 0) {
    ok = false;
    err = errno;
  }
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), target.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return OsError("cannot write " + target, err);
  }
  // The rename is durable only once the directory entry is.
  if (!sync) return OkStatus();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

Result<std::string> ReadOwnFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return MakeError("is a symlink", ELOOP);
    return OsError(path, errno);
  }
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) != 0) {
    why = std::string("fstat: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (st.st_uid != ::geteuid()) {
    why = "owned by uid " + std::to_string(st.st_uid) + ", not the sensor's uid " +
          std::to_string(::geteuid());
  } else if ((st.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    why = std::string("mode ") + mode.data() +
          " lets others write or read it (the sensor writes 0600)";
  } else if (static_cast<size_t>(st.st_size) > max_bytes) {
    why = std::to_string(st.st_size) + " bytes, over the " + std::to_string(max_bytes) + " limit";
  }
  if (!why.empty()) {
    ::close(fd);
    return MakeError(why, EPERM);
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

Result<std::string> SetAside(const std::string& path, size_t keep) {
  std::string aside = path + ".bad-" + std::to_string(std::time(nullptr));
  for (int i = 1; ::access(aside.c_str(), F_OK) == 0 && i < 100; ++i) {
    aside = path + ".bad-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(i);
  }
  if (::rename(path.c_str(), aside.c_str()) != 0) return OsError("cannot set aside " + path, errno);
  // Prune older copies of the same name.
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".bad-";
  std::vector<std::pair<int64_t, std::string>> copies;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) != 0) continue;
      std::string full = dir + "/" + e->d_name;
      struct stat st {};
      if (::lstat(full.c_str(), &st) != 0) continue;
      int64_t t = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      copies.emplace_back(full == aside ? INT64_MAX : t, full);
    }
    ::closedir(d);
  }
  std::sort(copies.begin(), copies.end());
  for (size_t i = 0; i + keep < copies.size(); ++i) ::unlink(copies[i].second.c_str());
  return aside;
}

std::string Seal(std::string body, std::string_view key) {
  if (!body.empty() && body.back() != '\n') body.push_back('\n');
  if (key.empty()) {
    body += "sum sha256 " + ToHex(Sha256(body)) + "\n";
  } else {
    body += "mac hmac-sha256 " + ToHex(HmacSha256(key, body)) + "\n";
  }
  return body;
}

Result<std::string> Unseal(std::string_view text, std::string_view key) {
  if (text.empty() || text.back() != '\n') return MakeError("truncated (no final seal line)");
  size_t start = text.rfind('\n', text.size() - 2);
  start = start == std::string_view::npos ? 0 : start + 1;
  std::string_view body = text.substr(0, start);
  std::string_view seal = text.substr(start, text.size() - start - 1);
  constexpr std::string_view kMac = "mac hmac-sha256 ";
  constexpr std::string_view kSum = "sum sha256 ";
  if (seal.substr(0, kMac.size()) == kMac) {
    if (key.empty()) return MakeError("sealed with a key, but no key is configured now");
    if (!SameDigestHex(seal.substr(kMac.size()), ToHex(HmacSha256(key, body)))) {
      return MakeError("MAC does not match (changed since written, or another key)");
    }
  } else if (seal.substr(0, kSum.size()) == kSum) {
    if (!key.empty()) return MakeError("only a checksum, but a key is configured: not trusted");
    if (!SameDigestHex(seal.substr(kSum.size()), ToHex(Sha256(body)))) {
      return MakeError("checksum does not match (corrupt or changed)");
    }
  } else {
    return MakeError("no seal line (truncated or not written by the sensor)");
  }
  return std::string(body);
}

std::string EscapeLine(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::string> UnescapeLine(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      out.push_back(escaped[i]);
      continue;
    }
    if (++i == escaped.size()) return MakeError("dangling escape");
    char c = escaped[i];
    if (c == '\\') {
      out.push_back('\\');
    } else if (c == 'n') {
      out.push_back('\n');
    } else if (c == 'r') {
      out.push_back('\r');
    } else {
      return MakeError("unknown escape");
    }
  }
  return out;
}

}  // namespace sandwatch::sensor::state
