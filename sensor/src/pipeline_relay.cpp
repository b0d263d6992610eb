// Pipe relays: a shell whose stdio reaches the network through another process's pipe
// (`sh -i | nc host port`, mkfifo loops, `nc host port | sh`). The relay may connect
// after the shell was evaluated, so the pipeline remembers which processes have which
// pipes as stdio and evaluates them again (connection matches only) when a pipe peer
// gains a socket, and on every scan of their first seconds.
#include <algorithm>

#include "sandwatch/sensor/pipeline.h"

namespace sandwatch::sensor {
namespace {

constexpr int64_t kPipeRecheckNs = 3'000'000'000;

}  // namespace

void Pipeline::RememberStdioPipes(const ProcessInfo& info) {
  for (const auto& fd : info.fds) {
    if (fd.fd < 0 || fd.fd > 2 || fd.kind != FdKind::kPipe) continue;
    auto& pids = stdio_pipe_pids_[fd.inode];
    if (std::find(pids.begin(), pids.end(), info.key.pid) != pids.end()) continue;
    pids.push_back(info.key.pid);
    stdio_pipes_of_[info.key.pid].push_back(fd.inode);
    young_pipe_readers_.emplace(info.key.pid, clock_->MonoNs());
  }
}

// The relay's connection may be missed by both evaluations when it connects between
// the relay's last fd re-read and the shell's evaluation: processes with a stdio pipe
// are evaluated again (connection matches only) on every scan of their first seconds.
void Pipeline::RecheckYoungPipeReaders(const std::string& method) {
  const int64_t now = clock_->MonoNs();
  std::vector<int> due;
  for (auto it = young_pipe_readers_.begin(); it != young_pipe_readers_.end();) {
    if (now - it->second > kPipeRecheckNs) {
      it = young_pipe_readers_.erase(it);
    } else {
      due.push_back(it->first);
      ++it;
    }
  }
  for (int pid : due) {
    const ProcessInfo* p = scanner_->Find(pid);
    if (p == nullptr) continue;
    ProcessInfo copy = *p;
    HandleProcess(copy, method, std::nullopt, clock_->WallNs(), std::nullopt, false, nullptr, true);
  }
}

void Pipeline::ForgetStdioPipes(int pid) {
  auto it = stdio_pipes_of_.find(pid);
  if (it == stdio_pipes_of_.end()) return;
  for (uint64_t inode : it->second) {
    auto p = stdio_pipe_pids_.find(inode);
    if (p == stdio_pipe_pids_.end()) continue;
    std::erase(p->second, pid);
    if (p->second.empty()) stdio_pipe_pids_.erase(p);
  }
  stdio_pipes_of_.erase(it);
  young_pipe_readers_.erase(pid);
}

// A relay (`sh -i | nc host port`, a mkfifo loop) may connect after the shell at the
// other end of its pipe was evaluated: when a process with sockets is seen, the
// processes whose stdio shares one of its pipes are evaluated again, keeping only
// matches that rest on a connection.
void Pipeline::ReevaluatePipePeers(const ProcessInfo& relay, const std::string& method) {
  std::vector<int> peers;
  for (const auto& fd : relay.fds) {
    if (fd.kind != FdKind::kPipe) continue;
    auto it = stdio_pipe_pids_.find(fd.inode);
    if (it == stdio_pipe_pids_.end()) continue;
    for (int pid : it->second) {
      if (pid != relay.key.pid) peers.push_back(pid);
    }
  }
  for (int pid : peers) {
    const ProcessInfo* peer = scanner_->Find(pid);
    if (peer == nullptr) continue;
    ProcessInfo copy = *peer;  // Find's pointer dies with the next scanner call
    HandleProcess(copy, method, std::nullopt, clock_->WallNs(), std::nullopt, false, nullptr, true);
  }
}

}  // namespace sandwatch::sensor
