// Benchmark helper: a pool of real, idle `sleep` processes (children of the
// benchmark), grown or shrunk to the size a benchmark asks for.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sandwatch::procfs::bench {

class SleeperPool {
 public:
  ~SleeperPool() { Resize(0); }
  // Spawns or kills (and reaps) sleepers until exactly `n` run. False if spawning
  // failed (pid or memory limits); the pool then holds what it could start.
  bool Resize(size_t n);
  size_t size() const { return pids_.size(); }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::vector<pid_t> pids_;
};

// Number of numeric entries in /proc right now.
size_t CountProcesses();

// `bash -c cmd` with stdio on /dev/null; the caller kills it with KillAndReap.
pid_t SpawnShell(const std::string& cmd);
// Waits (10 s at most) until readlink(/proc/PID/exe) is `exe`.
bool WaitUntilExe(pid_t pid, const std::string& exe);
void KillAndReap(pid_t pid);

// Runs `argv` and returns its stdout (the psutil script prints one JSON line).
std::string RunAndCapture(const std::vector<std::string>& argv);

}  // namespace sandwatch::procfs::bench
