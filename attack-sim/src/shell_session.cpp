// The shell step: bash on a pty, driven the way a person at `kubectl exec -it` drives it.
// Protocol (fds of bash): 3 = reports to us ("R", "S <pid>", "E <code>"), 4 = go bytes
// from us, 5 = a pipe nobody writes to (stdin of held commands). Each step is sent as
//   ( echo "S $BASHPID" >&3; read -r -n 1 -u 4 _ || exit 97; exec CMD REDIRS ); echo "E $?" >&3
// so the forked subshell announces its pid, waits for our go byte (we open a pidfd and
// take the start time first), then execs the command: the step's process is a child of
// bash with the same pid from fork to exit, and its own process group (job control).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "sandwatch/attack_sim/launcher.h"
#include "sandwatch/attack_sim/proc_wait.h"
#include "sandwatch/attack_sim/spawn.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::attacksim {

namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

Status MakePipe(std::array<int, 2>& fds) {
  if (pipe2(fds.data(), O_CLOEXEC) != 0)
    return MakeError(std::string("pipe: ") + strerror(errno), errno);
  return OkStatus();
}

// Opens a pty pair; false when the system has none (e.g. no /dev/pts in a container).
bool OpenPty(int* master, int* slave) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return false;
  std::array<char, 128> name{};
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name.data(), name.size()) != 0) {
    close(m);
    return false;
  }
  int s = open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    close(m);
    return false;
  }
  winsize ws{};
  ws.ws_row = 24;
  ws.ws_col = 80;
  ioctl(m, TIOCSWINSZ, &ws);
  *master = m;
  *slave = s;
  return true;
}

}  // namespace

ShellSession::~ShellSession() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  stop_ = true;
  if (drain_.joinable()) drain_.join();
  for (int* fd : {&master_fd_, &report_fd_, &go_fd_, &hold_fd_}) CloseFd(fd);
  if (cmd_fd_ >= 0 && cmd_fd_ != master_fd_) close(cmd_fd_);
}

Status ShellSession::Start(const std::vector<std::pair<std::string, std::string>>& extra_env,
                           bool use_pty) {
  std::array<int, 2> report{};
  std::array<int, 2> go{};
  std::array<int, 2> hold{};
  if (auto st = MakePipe(report); !st.ok()) return st;
  if (auto st = MakePipe(go); !st.ok()) return st;
  if (auto st = MakePipe(hold); !st.ok()) return st;
  int slave = -1;
  int cmd_read = -1;
  SpawnSpec spec;
  spec.new_session = true;
  if (use_pty && OpenPty(&master_fd_, &slave)) {
    cmd_fd_ = master_fd_;
    spec.fds = {{slave, 0}, {slave, 1}, {slave, 2}};
  } else {
    std::array<int, 2> cmd{};
    if (auto st = MakePipe(cmd); !st.ok()) return st;
    cmd_read = cmd[0];
    cmd_fd_ = cmd[1];
    spec.fds = {{cmd_read, 0}};
  }
  spec.fds.emplace_back(report[1], 3);
  spec.fds.emplace_back(go[0], 4);
  spec.fds.emplace_back(hold[0], 5);
  argv_ = {access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "bash", "--noprofile", "--norc", "-i"};
  spec.argv = argv_;
  spec.env = {
      {"HISTFILE", ""}, {"PS1", "$ "}, {"TERM", "xterm"}, {"DEBIAN_FRONTEND", "noninteractive"}};
  for (const auto& kv : extra_env) spec.env.push_back(kv);

  self_.start_mono_ns = clock_.MonoNs();
  self_.start_wall_ns = clock_.WallNs();
  auto pid = Spawn(spec);
  for (int fd : {slave, cmd_read, report[1], go[0], hold[0]}) {
    if (fd >= 0) close(fd);
  }
  report_fd_ = report[0];
  go_fd_ = go[1];
  hold_fd_ = hold[1];
  if (!pid.ok()) return pid.error();
  pid_ = *pid;
  self_.pid = pid_;
  self_.ppid = getpid();
  if (master_fd_ >= 0) {
    int master = master_fd_;
    drain_ = std::thread([this, master] {
      std::array<char, 4096> buf;
      while (!stop_) {
        pollfd p{master, POLLIN, 0};
        int rc = poll(&p, 1, 100);
        if (rc < 0 && errno != EINTR) break;
        if (rc > 0 && read(master, buf.data(), buf.size()) <= 0) break;  // EIO once bash is gone
      }
    });
  }
  if (auto st = WriteCommand("set +H; echo R >&3\n"); !st.ok()) return st;
  auto ready = ReadReport('R', 10'000);
  if (!ready.ok()) return MakeError("the shell did not answer: " + ready.error().message);
  return OkStatus();
}

Status ShellSession::WriteCommand(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(cmd_fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return MakeError(std::string("write to the shell: ") + strerror(errno), errno);
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Result<std::string> ShellSession::ReadReport(char tag, int64_t timeout_ms) {
  int64_t deadline = clock_.MonoNs() + timeout_ms * 1'000'000;
  while (true) {
    size_t nl;
    while ((nl = report_buf_.find('\n')) != std::string::npos) {
      std::string line = report_buf_.substr(0, nl);
      report_buf_.erase(0, nl + 1);
      if (!line.empty() && line[0] == tag) return line.size() > 2 ? line.substr(2) : "";
    }
    int64_t left = deadline - clock_.MonoNs();
    if (left <= 0) return MakeError(std::string("timed out waiting for '") + tag + "' from bash");
    pollfd p{report_fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left / 1'000'000 + 1));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return MakeError(std::string("poll: ") + strerror(errno), errno);
    if (rc == 0) continue;
    std::array<char, 256> buf;
    ssize_t n = read(report_fd_, buf.data(), buf.size());
    if (n <= 0) return MakeError("the shell closed its report pipe (did bash exit?)");
    report_buf_.append(buf.data(), static_cast<size_t>(n));
  }
}

Result<LaunchResult> ShellSession::Launch(const StepCommand& cmd, double hold_ms) {
  std::string line = "( echo \"S $BASHPID\" >&3; read -r -n 1 -u 4 _ || exit 97; exec";
  for (const auto& a : cmd.argv) line += " " + ShellQuote(a);
  line += cmd.stdin_hold ? " <&5" : " </dev/null";
  if (!cmd.stdout_tty) line += " >/dev/null";
  line += " 2>/dev/null 3>&- 4>&- 5>&- ); echo \"E $?\" >&3\n";
  if (auto st = WriteCommand(line); !st.ok()) return st.error();
  auto announced = ReadReport('S', 10'000);
  if (!announced.ok()) return announced.error();
  LaunchResult r;
  r.pid = std::atoi(announced->c_str());
  auto watcher = ExitWatcher::Open(r.pid);
  if (!watcher.ok())
    return MakeError("step process vanished before it ran: " + watcher.error().message);
  r.ppid = ParentPid(r.pid);
  r.start_mono_ns = clock_.MonoNs();
  r.start_wall_ns = clock_.WallNs();
  if (write(go_fd_, "g", 1) != 1)
    return MakeError(std::string("go pipe: ") + strerror(errno), errno);
  WaitForStep(*watcher, cmd, hold_ms, &r, clock_);
  auto code = ReadReport('E', 10'000);
  if (!code.ok()) return code.error();
  r.exit_code = std::atoi(code->c_str());
  return r;
}

Result<LaunchResult> ShellSession::Finish() {
  if (pid_ <= 0) return MakeError("the shell is not running");
  (void)WriteCommand("exit\n");
  auto watcher = ExitWatcher::Open(pid_);
  if (watcher.ok() && !watcher->WaitUntil(clock_.MonoNs() + 5'000'000'000, false)) {
    kill(pid_, SIGKILL);
    self_.killed_at_timeout = true;
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  self_.end_mono_ns = clock_.MonoNs();
  self_.end_wall_ns = clock_.WallNs();
  self_.exit_code = ShellExitCode(status);
  pid_ = -1;
  stop_ = true;
  if (drain_.joinable()) drain_.join();
  return self_;
}

}  // namespace sandwatch::attacksim
