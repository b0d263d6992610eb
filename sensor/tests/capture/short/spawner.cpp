#include "spawner.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

namespace sandwatch::sensor::testing {

namespace {

int64_t MonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::vector<SpawnedRun> RunSpawnPlan(const SpawnPlan& plan) {
  std::vector<SpawnedRun> runs;
  if (plan.argv.empty() || plan.runs <= 0) return runs;
  runs.reserve(static_cast<size_t>(plan.runs));
  // argv and the file actions are built once: the child only sets up stdio on
  // /dev/null and calls execve (posix_spawn: a vfork-style clone, so a large
  // parent, such as the bench with its sources, does not slow the start down).
  std::vector<char*> cargv;
  for (const std::string& a : plan.argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const int inflight = plan.inflight < 1 ? 1 : plan.inflight;
  struct Child {
    pid_t pid;
    int pidfd;  // readable once the child exited; -1: fall back to a blocking waitpid
    size_t index;
  };
  std::vector<Child> alive;
  // Waits until at least one of our children exited and reaps those that did.
  // Only our own pids are waited for, so a caller's other children are left alone.
  auto reap_some = [&] {
    std::vector<pollfd> fds;
    fds.reserve(alive.size());
    for (const Child& c : alive) fds.push_back({c.pidfd, POLLIN, 0});
    bool have_fds = !alive.empty() && alive.front().pidfd >= 0;
    if (have_fds && poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return false;
    for (size_t i = 0; i < alive.size();) {
      Child& c = alive[i];
      if (c.pidfd >= 0 && !(fds[i].revents & POLLIN)) {
        ++i;
        continue;
      }
      int status = 0;
      if (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) continue;
      runs[c.index].reap_mono_ns = MonoNs();
      runs[c.index].status = status;
      if (c.pidfd >= 0) close(c.pidfd);
      fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
      alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(i));
      if (!have_fds) break;
    }
    return true;
  };
  for (int i = 0; i < plan.runs; ++i) {
    while (static_cast<int>(alive.size()) >= inflight) {
      if (!reap_some()) break;
    }
    SpawnedRun run;
    run.start_mono_ns = MonoNs();
    pid_t pid = -1;
    if (posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ) != 0) continue;
    run.pid = pid;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    alive.push_back(Child{pid, pidfd, runs.size()});
    runs.push_back(run);
    if (plan.gap_us > 0) usleep(static_cast<useconds_t>(plan.gap_us));
  }
  while (!alive.empty()) {
    if (!reap_some()) break;
  }
  posix_spawn_file_actions_destroy(&fa);
  return runs;
}

}  // namespace sandwatch::sensor::testing
