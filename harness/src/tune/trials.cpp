#include "trials.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "sandwatch/core/clock.h"

extern char** environ;

namespace sandwatch::harness::tune {
namespace {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

Result<int> Spawn(const std::string& program, const std::vector<std::string>& argv) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return MakeError("cannot start " + program + ": " + std::strerror(rc), rc);
  return static_cast<int>(pid);
}

int WaitExit(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::vector<std::string> TrialArgv(const TrialSpec& spec) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", static_cast<double>(spec.lifetime_ms) / 1000.0);
  return {spec.tag, secs};
}

Result<std::vector<TrialRecord>> RunTrials(const std::string& program,
                                           const std::vector<TrialSpec>& specs, int max_in_flight,
                                           const std::function<bool()>& stop) {
  std::vector<TrialRecord> recs;
  for (const auto& s : specs) recs.push_back(TrialRecord{s});
  std::sort(recs.begin(), recs.end(), [](const TrialRecord& a, const TrialRecord& b) {
    return a.spec.offset_s < b.spec.offset_s;
  });
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return MakeError(std::string("epoll_create1: ") + std::strerror(errno), errno);
  std::map<int, size_t> by_fd;  // pidfd -> record index
  const Clock& clock = SystemClock();
  const int64_t t0 = clock.MonoNs();
  size_t next = 0;
  Status failure = OkStatus();
  const auto kill_all = [&] {
    for (auto& [fd, idx] : by_fd) {
      kill(recs[idx].pid, SIGKILL);
      recs[idx].exit_code = WaitExit(recs[idx].pid);
      close(fd);
    }
    by_fd.clear();
  };
  while (next < recs.size() || !by_fd.empty()) {
    if (stop && stop()) {
      kill_all();
      close(ep);
      return MakeError("interrupted");
    }
    const int64_t now = clock.MonoNs();
    const bool room = static_cast<int>(by_fd.size()) < max_in_flight;
    if (next < recs.size() && room) {
      const auto due = t0 + static_cast<int64_t>(recs[next].spec.offset_s * 1e9);
      if (now >= due) {
        TrialRecord& r = recs[next++];
        r.delayed = now - due > 5'000'000;
        r.start_mono_ns = clock.MonoNs();
        r.start_wall_ns = clock.WallNs();
        auto pid = Spawn(program, TrialArgv(r.spec));
        if (!pid) {
          failure = pid.error();
          break;
        }
        r.pid = *pid;
        r.started = true;
        const int fd = PidfdOpen(r.pid);
        if (fd < 0) {
          failure = MakeError(std::string("pidfd_open: ") + std::strerror(errno), errno);
          kill(r.pid, SIGKILL);
          WaitExit(r.pid);
          break;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        by_fd[fd] = static_cast<size_t>(&r - recs.data());
        continue;
      }
    }
    int timeout_ms = 100;
    if (next < recs.size() && room) {
      const auto due = t0 + static_cast<int64_t>(recs[next].spec.offset_s * 1e9);
      timeout_ms = static_cast<int>(std::clamp<int64_t>((due - now + 999'999) / 1'000'000, 0, 100));
    }
    epoll_event evs[64];
    const int n = epoll_wait(ep, evs, 64, timeout_ms);
    const int64_t end = clock.MonoNs();
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      auto it = by_fd.find(fd);
      if (it == by_fd.end()) continue;
      TrialRecord& r = recs[it->second];
      r.end_mono_ns = end;
      r.exit_code = WaitExit(r.pid);
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      close(fd);
      by_fd.erase(it);
    }
  }
  kill_all();
  close(ep);
  if (!failure) return failure.error();
  return recs;
}

Result<int> StartTrial(const std::string& program, const TrialSpec& spec) {
  return Spawn(program, TrialArgv(spec));
}

void KillTrial(int pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  WaitExit(pid);
}

}  // namespace sandwatch::harness::tune
