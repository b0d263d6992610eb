#include "self_facts.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace sandwatch::sensor {

namespace {

std::string_view LineValue(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return line.substr(key.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

std::string ReadLinkText(const char* path) {
  char buf[256];
  ssize_t n = readlink(path, buf, sizeof(buf));
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

bool SelfFacts::InInitPidNs() const {
  if (pid_ns_ino != 0) return pid_ns_ino == kInitPidNsIno;
  return nspid_levels <= 1;
}

bool SelfFacts::InInitUserNs() const { return user_ns_ino == 0 || user_ns_ino == kInitUserNsIno; }

void ParseStatusFacts(std::string_view status, SelfFacts* facts) {
  std::string_view cap = LineValue(status, "CapEff");
  while (!cap.empty() && (cap.front() == '\t' || cap.front() == ' ')) cap.remove_prefix(1);
  uint64_t value = 0;
  if (std::from_chars(cap.data(), cap.data() + cap.size(), value, 16).ec == std::errc()) {
    facts->cap_eff = value;
  }
  std::string_view nspid = LineValue(status, "NSpid");
  int levels = 0;
  bool in_token = false;
  for (char c : nspid) {
    bool digit = c >= '0' && c <= '9';
    if (digit && !in_token) ++levels;
    in_token = digit;
  }
  facts->nspid_levels = levels;
}

uint64_t ParseNsLink(std::string_view link) {
  size_t open = link.find('[');
  size_t close = link.find(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open + 1) {
    return 0;
  }
  uint64_t value = 0;
  auto res = std::from_chars(link.data() + open + 1, link.data() + close, value);
  if (res.ec != std::errc() || res.ptr != link.data() + close) return 0;
  return value;
}

SelfFacts ReadSelfFacts() {
  SelfFacts facts;
  auto status = ReadSmallFile(AT_FDCWD, "/proc/self/status");
  if (status.ok()) ParseStatusFacts(*status, &facts);
  facts.pid_ns_ino = ParseNsLink(ReadLinkText("/proc/self/ns/pid"));
  facts.user_ns_ino = ParseNsLink(ReadLinkText("/proc/self/ns/user"));
  return facts;
}

Result<std::string> ReadSmallFile(int dirfd, const char* path, size_t limit) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return MakeError(std::string("open ") + path + ": " + strerror(errno), errno);
  std::string out;
  char buf[4096];
  while (out.size() < limit) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return MakeError(std::string("read ") + path + ": " + strerror(err), err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace sandwatch::sensor
