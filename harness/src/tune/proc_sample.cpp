#include "proc_sample.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>

#include "sandwatch/core/clock.h"

namespace sandwatch::harness::tune {
namespace {

std::string_view NextField(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto end = s.find(' ');
  std::string_view f = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return f;
}

template <class T>
std::optional<T> ToNum(std::string_view f) {
  T v{};
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
  if (ec != std::errc() || p != f.data() + f.size() || f.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint64_t> ParseStatCpuTicks(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // After ')': field 3 (state) is the first; utime is field 14, stime 15.
  std::optional<uint64_t> utime, stime;
  for (int field = 3; field <= 15; ++field) {
    const std::string_view f = NextField(rest);
    if (f.empty()) return std::nullopt;
    if (field == 14) utime = ToNum<uint64_t>(f);
    if (field == 15) stime = ToNum<uint64_t>(f);
  }
  if (!utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<int64_t> ParseStatusKib(std::string_view status, std::string_view key) {
  size_t pos = 0;
  while (pos < status.size()) {
    const auto nl = status.find('\n', pos);
    std::string_view line =
        status.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? status.size() : nl + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
      continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    const auto sp = line.find(' ');
    return ToNum<int64_t>(line.substr(0, sp));
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseSchedstatNs(std::string_view schedstat) {
  std::string_view s = schedstat;
  const std::string_view f = NextField(s);
  return ToNum<uint64_t>(f);
}

int64_t CountProcesses(const std::string& proc_root) {
  DIR* d = opendir(proc_root.c_str());
  if (!d) return -1;
  int64_t n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') ++n;
  }
  closedir(d);
  return n;
}

std::string ReadSmallFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  close(fd);
  return out;
}

ProcSample Sample(const std::string& proc_root, int pid) {
  ProcSample s;
  s.mono_ns = SystemClock().MonoNs();
  const std::string base = proc_root + "/" + std::to_string(pid);
  const auto ticks = ParseStatCpuTicks(ReadSmallFile(base + "/stat"));
  if (!ticks) return s;
  s.ok = true;
  const long hz = sysconf(_SC_CLK_TCK);
  s.stat_cpu_s = static_cast<double>(*ticks) / static_cast<double>(hz > 0 ? hz : 100);
  // /proc/PID/schedstat covers the main thread only; the sensor is multi-threaded,
  // so add up every task's.
  uint64_t total_ns = 0;
  bool any = false;
  if (DIR* d = opendir((base + "/task").c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const auto ns = ParseSchedstatNs(ReadSmallFile(base + "/task/" + e->d_name + "/schedstat"));
      if (ns) {
        total_ns += *ns;
        any = true;
      }
    }
    closedir(d);
  }
  s.sched_cpu_s = any ? static_cast<double>(total_ns) / 1e9 : s.stat_cpu_s;
  const std::string status = ReadSmallFile(base + "/status");
  s.rss_kib = ParseStatusKib(status, "VmRSS").value_or(0);
  s.rss_peak_kib = ParseStatusKib(status, "VmHWM").value_or(0);
  return s;
}

}  // namespace sandwatch::harness::tune
