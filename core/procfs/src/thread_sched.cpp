// Scheduling of this process's own threads (see thread_sched.h).
#include "sandwatch/core/procfs/thread_sched.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <string>

#include "sandwatch/core/fd_io.h"
#include "sandwatch/core/files.h"

namespace sandwatch::procfs {
namespace {

bool NextNumber(std::string_view& text, int64_t* out) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  text.remove_prefix(start);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || *out < 0) return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

}  // namespace

std::optional<SchedTimes> ParseSchedstat(std::string_view text) {
  SchedTimes t;
  if (!NextNumber(text, &t.run_ns) || !NextNumber(text, &t.wait_ns)) return std::nullopt;
  return t;
}

ThreadSchedClock::ThreadSchedClock()
    : fd_(open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}

ThreadSchedClock::~ThreadSchedClock() {
  if (fd_ >= 0) close(fd_);
}

std::optional<SchedTimes> ThreadSchedClock::Read() const {
  if (fd_ < 0) return std::nullopt;
  std::array<char, 128> buf{};
  ssize_t n = pread(fd_, buf.data(), buf.size() - 1, 0);
  if (n <= 0) return std::nullopt;
  auto t = ParseSchedstat(std::string_view(buf.data(), static_cast<size_t>(n)));
  // schedstat's run time is brought up to date at ticks and context switches only (4 ms
  // apart at HZ=250); the thread CPU clock is exact. Its wait is exact whenever the thread
  // is running: the wait ended when it got the CPU.
  timespec now{};
  if (t && clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0) {
    t->run_ns = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  }
  return t;
}

Status SetThreadNice(int tid, int nice) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice) != 0) {
    return OsError("setpriority(thread " + std::to_string(tid) + ", " + std::to_string(nice) + ")",
                   errno);
  }
  return OkStatus();
}

Result<int> ThreadNice(int tid) {
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (nice == -1 && errno != 0) return OsError("getpriority", errno);
  return nice;
}

Status RaiseThreadNice(int tid, int increment) {
  auto now = ThreadNice(tid);
  if (!now.ok()) return now.error();
  return SetThreadNice(tid, std::min(*now + std::max(increment, 0), 19));
}

std::vector<int> ThreadsNamed(std::string_view name) {
  std::vector<int> out;
  DIR* d = opendir("/proc/self/task");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int tid = 0;
    std::string_view entry(e->d_name);
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), tid);
    if (ec != std::errc() || end != entry.data() + entry.size()) continue;
    auto comm = ReadFileToString("/proc/self/task/" + std::string(entry) + "/comm");
    if (!comm.ok()) continue;
    std::string_view c(*comm);
    if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
    if (c == name) out.push_back(tid);
  }
  closedir(d);
  return out;
}

}  // namespace sandwatch::procfs
