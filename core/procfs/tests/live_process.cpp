#include "live_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandwatch/core/procfs/parsers.h"
#include "sandwatch/core/procfs/proc_fs.h"

extern char** environ;

namespace sandwatch::procfs::testing {

LiveProcess::LiveProcess(const std::vector<std::string>& argv, bool stdin_pipe) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::array<int, 2> pipefd = {-1, -1};
  if (stdin_pipe && pipe2(pipefd.data(), O_CLOEXEC) == 0) {
    posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&fa);
  if (pipefd[0] >= 0) {
    close(pipefd[0]);
    stdin_write_ = pipefd[1];
  }
}

LiveProcess LiveProcess::Adopt(pid_t pid) {
  LiveProcess p;
  p.pid_ = pid;
  return p;
}

LiveProcess::LiveProcess(LiveProcess&& other) noexcept
    : pid_(other.pid_), stdin_write_(other.stdin_write_) {
  other.pid_ = -1;
  other.stdin_write_ = -1;
}

LiveProcess::~LiveProcess() { Kill(); }

void LiveProcess::CloseStdin() {
  if (stdin_write_ >= 0) {
    close(stdin_write_);
    stdin_write_ = -1;
  }
}

void LiveProcess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (stdin_write_ >= 0) {
    close(stdin_write_);
    stdin_write_ = -1;
  }
}

bool WaitFor(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::string> FdLinks(pid_t pid) {
  ProcFs fs;
  std::vector<std::string> out;
  auto fds = fs.ListFds(pid);
  if (!fds.ok()) return out;
  for (int fd : *fds) {
    auto link = fs.ReadLink(pid, "fd/" + std::to_string(fd));
    if (link.ok()) out.push_back(*link);
  }
  return out;
}

char ProcState(pid_t pid) {
  auto text = ProcFs().ReadPidFile(pid, "stat");
  if (!text.ok()) return '?';
  auto st = ParseStat(*text);
  return st.ok() ? st->state : '?';
}

std::vector<pid_t> ChildrenOf(pid_t ppid) {
  std::vector<pid_t> out;
  ProcFs fs;
  auto pids = fs.ListPids();
  if (!pids.ok()) return out;
  for (int pid : *pids) {
    auto text = fs.ReadPidFile(pid, "stat");
    if (!text.ok()) continue;
    auto st = ParseStat(*text);
    if (st.ok() && st->ppid == ppid) out.push_back(pid);
  }
  return out;
}

int FreeLoopbackPort() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(s);
  return port;
}

bool IsListening(int port) {
  auto text = ProcFs().ReadRootFile("net/tcp");
  if (!text.ok()) return false;
  const std::string want = "127.0.0.1:" + std::to_string(port);
  for (const auto& s : ParseNetTable(*text, "tcp")) {
    if (s.state == 10 && s.local == want) return true;
  }
  return false;
}

}  // namespace sandwatch::procfs::testing
