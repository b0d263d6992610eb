#include "sandwatch/attack_sim/proc_wait.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/attack_sim/interrupt.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"

namespace sandwatch::attacksim {
namespace {

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// Returns (state, ppid) from /proc/<pid>/stat; state 0 when the process is gone.
std::pair<char, int> StatOf(const procfs::ProcFs& fs, int pid) {
  auto text = fs.ReadPidFile(pid, "stat");
  auto stat = text.ok() ? procfs::ParseStat(*text) : Result<procfs::StatFields>(text.error());
  if (!stat.ok()) return {0, 0};
  return {stat->state, stat->ppid};
}

std::pair<char, int> StatOf(int pid) { return StatOf(procfs::ProcFs(), pid); }

void Descendants(int root, std::vector<int>* out) {
  const procfs::ProcFs fs;
  auto pids = fs.ListPids();
  if (!pids.ok()) return;
  std::vector<std::pair<int, int>> all;  // pid, ppid
  for (int pid : *pids) all.emplace_back(pid, StatOf(fs, pid).second);
  std::vector<int> frontier = {root};
  while (!frontier.empty()) {
    int p = frontier.back();
    frontier.pop_back();
    for (const auto& [pid, ppid] : all) {
      if (ppid == p) {
        out->push_back(pid);
        frontier.push_back(pid);
      }
    }
  }
}

bool PollNow(int fd) {
  pollfd q{fd, POLLIN, 0};
  return poll(&q, 1, 0) > 0;
}

}  // namespace

Result<ExitWatcher> ExitWatcher::Open(int pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) return ExitWatcher(pid, static_cast<int>(fd));
  if (errno == ESRCH) return MakeError("process " + std::to_string(pid) + " is gone", ESRCH);
  if (StatOf(pid).first == 0)
    return MakeError("process " + std::to_string(pid) + " is gone", ESRCH);
  return ExitWatcher(pid, -1);  // no pidfd here: poll /proc
}

ExitWatcher::ExitWatcher(ExitWatcher&& o) noexcept : pid_(o.pid_), fd_(o.fd_) { o.fd_ = -1; }

ExitWatcher::~ExitWatcher() {
  if (fd_ >= 0) close(fd_);
}

bool ExitWatcher::Exited() const {
  char state = StatOf(pid_).first;
  return state == 0 || state == 'Z' || state == 'X';
}

bool ExitWatcher::WaitUntil(int64_t deadline_mono_ns, bool interruptible) {
  const Clock& clock = SystemClock();
  while (true) {
    if (interruptible && Interrupted()) return fd_ >= 0 ? PollNow(fd_) : Exited();
    int timeout_ms = 100;  // wake up to notice an interrupt
    if (deadline_mono_ns >= 0) {
      int64_t left = deadline_mono_ns - clock.MonoNs();
      if (left <= 0) {
        return fd_ >= 0 ? PollNow(fd_) : Exited();
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(100, (left + 999'999) / 1'000'000));
    }
    if (fd_ < 0) {
      if (Exited()) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return Exited();
    // Timeout or EINTR: the loop re-checks the deadline with ns precision.
  }
}

void SignalStep(int pid, int sig) {
  if (pid <= 1) return;
  if (getpgid(pid) == pid && pid != getpgrp()) {
    kill(-pid, sig);
    return;
  }
  // No process group of its own (bash without job control): freeze the tree first so
  // nothing forks between listing the descendants and signalling them, then signal all.
  kill(pid, SIGSTOP);
  std::vector<int> kids;
  for (int pass = 0; pass < 2; ++pass) {
    kids.clear();
    Descendants(pid, &kids);
    for (int k : kids) kill(k, SIGSTOP);
  }
  kill(pid, sig);
  for (int k : kids) kill(k, sig);
  kill(pid, SIGCONT);
  for (int k : kids) kill(k, SIGCONT);
}

int ParentPid(int pid) { return StatOf(pid).second; }

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace sandwatch::attacksim
