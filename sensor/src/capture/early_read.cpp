#include "early_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

namespace sandwatch::sensor {

std::vector<std::string> SplitCmdline(std::string_view raw) {
  std::vector<std::string> out;
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  if (raw.empty()) return out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t end = raw.find('\0', pos);
    if (end == std::string_view::npos) end = raw.size();
    out.emplace_back(raw.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool ParseStatForEarly(std::string_view stat, EarlyRead* out) {
  size_t open = stat.find('(');
  size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return false;
  }
  std::string_view rest = stat.substr(close + 1);
  // rest: " S ppid pgrp ..." ; field 3 is state, field 4 ppid, field 22 starttime.
  int field = 2;
  size_t pos = 0;
  int ppid = -1;
  uint64_t start = 0;
  bool have_start = false;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    if (end == pos) break;
    ++field;
    std::string_view tok = rest.substr(pos, end - pos);
    if (field == 4) {
      if (std::from_chars(tok.data(), tok.data() + tok.size(), ppid).ec != std::errc())
        return false;
    } else if (field == 22) {
      if (std::from_chars(tok.data(), tok.data() + tok.size(), start).ec != std::errc()) {
        return false;
      }
      have_start = true;
      break;
    }
    pos = end;
  }
  if (ppid < 0 || !have_start) return false;
  out->name = std::string(stat.substr(open + 1, close - open - 1));
  out->ppid = ppid;
  out->start_ticks = start;
  return true;
}

std::string StripDeleted(std::string_view exe) {
  constexpr std::string_view kSuffix = " (deleted)";
  if (exe.size() >= kSuffix.size() && exe.substr(exe.size() - kSuffix.size()) == kSuffix) {
    exe.remove_suffix(kSuffix.size());
  }
  return std::string(exe);
}

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
  return StripDeleted(std::string_view(buf, static_cast<size_t>(n)));
}

EarlyRead ReadEarly(int proc_dirfd, int pid) {
  EarlyRead er;
  char path[32];
  char buf[8192];
  std::snprintf(path, sizeof(path), "%d/cmdline", pid);
  ssize_t n = ReadInto(proc_dirfd, path, buf, sizeof(buf));
  bool ok = n > 0;
  if (n > 0) er.cmdline = SplitCmdline(std::string_view(buf, static_cast<size_t>(n)));
  er.exe = ReadExe(proc_dirfd, pid);
  ok = ok && !er.exe.empty();
  std::snprintf(path, sizeof(path), "%d/stat", pid);
  n = ReadInto(proc_dirfd, path, buf, sizeof(buf));
  bool stat_ok = n > 0 && ParseStatForEarly(std::string_view(buf, static_cast<size_t>(n)), &er);
  ok = ok && stat_ok;
  er.complete = ok;
  return er;
}

}  // namespace sandwatch::sensor
