#include "source_util.h"

#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace sandwatch::sensor {

WakeFd::WakeFd() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

WakeFd::~WakeFd() {
  if (fd_ >= 0) close(fd_);
}

void WakeFd::Signal() {
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof(one));
  (void)n;
}

void WakeFd::Drain() {
  uint64_t value = 0;
  ssize_t n = read(fd_, &value, sizeof(value));
  (void)n;
}

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ThreadPriority RaiseThreadPriority(int nice, bool realtime) {
  ThreadPriority out;
  if (realtime) {
    sched_param sp{};
    sp.sched_priority = kEventThreadRtPriority;
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
      out.realtime = true;
      return out;
    }
  }
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (nice != 0 && setpriority(PRIO_PROCESS, tid, nice) == 0) out.nice = nice;
  // Without CAP_SYS_NICE: ask the fair scheduler (EEVDF, Linux 6.12+) for a short
  // slice, which lets the thread preempt sooner on wake-up. No privilege needed;
  // older kernels ignore or refuse it.
  struct {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
  } attr{};
  attr.size = sizeof(attr);
  attr.policy = SCHED_OTHER;
  attr.nice = out.nice;
  attr.runtime = kEventThreadSliceNs;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0) out.slice_ns = kEventThreadSliceNs;
  return out;
}

std::string ErrnoText(const std::string& what, int err) { return what + ": " + strerror(err); }

std::string UnderRoot(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path.empty() || path[0] != '/' ? "/" + path : path;
  std::string out = root;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (path.empty() || path[0] != '/') out += '/';
  out += path;
  return out;
}

std::string RelativeToRoot(const std::string& root_real, const std::string& path) {
  if (root_real.empty() || root_real == "/") return path;
  if (path.size() > root_real.size() && path.compare(0, root_real.size(), root_real) == 0 &&
      path[root_real.size()] == '/') {
    return path.substr(root_real.size());
  }
  if (path == root_real) return "/";
  return path;
}

}  // namespace sandwatch::sensor
