#include "sleeper_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include "sandwatch/core/procfs/proc_fs.h"

extern char** environ;

namespace sandwatch::procfs::bench {

bool SleeperPool::Resize(size_t n) {
  while (pids_.size() > n) {
    pid_t pid = pids_.back();
    pids_.pop_back();
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string arg0 = "/usr/bin/sleep";
  std::string arg1 = "100000";
  std::array<char*, 3> argv = {arg0.data(), arg1.data(), nullptr};
  bool ok = true;
  while (pids_.size() < n) {
    pid_t pid = -1;
    if (posix_spawn(&pid, arg0.data(), &fa, nullptr, argv.data(), environ) != 0) {
      ok = false;
      break;
    }
    pids_.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&fa);
  return ok;
}

pid_t SpawnShell(const std::string& cmd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string arg0 = "/bin/bash", arg1 = "-c", arg2 = cmd;
  std::array<char*, 4> argv = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

bool WaitUntilExe(pid_t pid, const std::string& exe) {
  ProcFs fs;
  for (int i = 0; i < 1000; ++i) {
    if (fs.ReadLink(pid, "exe").value_or("") == exe) return true;
    usleep(10000);
  }
  return false;
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

size_t CountProcesses() {
  auto pids = ProcFs().ListPids();
  return pids.ok() ? pids->size() : 0;
}

std::string RunAndCapture(const std::vector<std::string>& argv) {
  std::array<int, 2> fds;
  if (pipe2(fds.data(), O_CLOEXEC) != 0) return {};
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    std::array<char, 4096> buf;
    ssize_t n;
    while ((n = read(fds[0], buf.data(), buf.size())) > 0)
      out.append(buf.data(), static_cast<size_t>(n));
    waitpid(pid, nullptr, 0);
  }
  close(fds[0]);
  return out;
}

}  // namespace sandwatch::procfs::bench
