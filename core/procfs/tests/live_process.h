// Test helper: real child processes for the integration tests, killed and reaped on
// destruction. No shell is involved unless the argv asks for one.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace sandwatch::procfs::testing {

class LiveProcess {
 public:
  // Spawns argv[0] (searched in PATH). stdout/stderr go to /dev/null. With
  // stdin_pipe, stdin is a pipe whose write end this object holds open (so tools
  // like ncat do not see EOF); otherwise stdin is /dev/null.
  explicit LiveProcess(const std::vector<std::string>& argv, bool stdin_pipe = false);
  // Adopts an already-forked child.
  static LiveProcess Adopt(pid_t pid);
  ~LiveProcess();
  LiveProcess(LiveProcess&& other) noexcept;
  LiveProcess(const LiveProcess&) = delete;
  LiveProcess& operator=(const LiveProcess&) = delete;
  LiveProcess& operator=(LiveProcess&&) = delete;

  pid_t pid() const { return pid_; }
  bool ok() const { return pid_ > 0; }
  void Kill();
  // Closes the write end of the stdin pipe: the child reads EOF.
  void CloseStdin();

 private:
  LiveProcess() = default;
  pid_t pid_ = -1;
  int stdin_write_ = -1;
};

// Polls `pred` every 10 ms until true or `timeout_ms` passes. Used to wait for a child
// to reach a state (file opened, socket connected); never to assert on timing.
bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 10000);

// readlink(/proc/PID/fd/*) texts, empty when gone.
std::vector<std::string> FdLinks(pid_t pid);
// The state letter from /proc/PID/stat, '?' when gone.
char ProcState(pid_t pid);
// Pids whose /proc/PID/stat ppid is `ppid`.
std::vector<pid_t> ChildrenOf(pid_t ppid);
// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();
// True when 127.0.0.1:port is in LISTEN state in /proc/net/tcp.
bool IsListening(int port);

}  // namespace sandwatch::procfs::testing
