#include "trials.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"

extern char** environ;

namespace sandwatch::harness::tune {
namespace {

// Starts `program` with `argv`, stdin from /dev/null and stdout and stderr appended to
// `out`; `program` without a slash is looked up in PATH.
Result<int> Spawn(const std::string& program, const std::vector<std::string>& argv,
                  const std::string& out = "/dev/null") {
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &fa, nullptr, cargv.data(), environ);
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

// Lives about argv[1] microseconds and exits; nothing else (no file opened).
constexpr const char* kTrialSource =
    "#include <stdlib.h>\n"
    "#include <time.h>\n"
    "int main(int argc, char** argv) {\n"
    "  long us = argc > 1 ? atol(argv[1]) : 1000;\n"
    "  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};\n"
    "  nanosleep(&ts, 0);\n"
    "  return 0;\n"
    "}\n";

Status CopyExecutable(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (!ec) std::filesystem::permissions(to, std::filesystem::perms(0755), ec);
  if (ec) return MakeError("cannot copy " + from + " to " + to + ": " + ec.message());
  return OkStatus();
}

}  // namespace

int KillTrial(int pid) {
  if (pid <= 0) return -1;
  kill(pid, SIGKILL);
  return WaitExit(pid);
}

Result<TrialBinaries> BuildTrialBinaries(const std::string& dir) {
  const std::string src = dir + "/trial.c";
  if (auto st = WriteFileAtomic(src, kTrialSource); !st) return st.error();
  TrialBinaries b{dir + "/trial-static", dir + "/trial-dynamic"};
  const std::string log = dir + "/trial-build.log";  // both builds' stdout and stderr
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"cc", "-O2", "-static", "-o", b.static_path, src},
        std::vector<std::string>{"cc", "-O2", "-o", b.dynamic_path, src}}) {
    auto pid = Spawn(argv[0], argv, log);
    if (!pid) return pid.error();
    if (const int code = WaitExit(*pid); code != 0) {
      return MakeError(argv[0] + " exited " + std::to_string(code) + " building the trial program" +
                       " (a static build needs libc6-dev); see " + log);
    }
  }
  return b;
}

Result<TrialBinaries> DropTrialBinaries(const TrialBinaries& built, const std::string& parent) {
  std::string templ = parent + "/sw-drop.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return MakeError("mkdtemp " + templ + ": " + std::strerror(errno), errno);
  }
  TrialBinaries d{templ + "/static-trial", templ + "/dynamic-trial"};
  Status st = CopyExecutable(built.static_path, d.static_path);
  if (st) st = CopyExecutable(built.dynamic_path, d.dynamic_path);
  if (!st) {
    RemoveDroppedBinaries(d);
    return st.error();
  }
  return d;
}

void RemoveDroppedBinaries(const TrialBinaries& dropped) {
  if (dropped.static_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(dropped.static_path).parent_path(), ec);
}

std::vector<std::string> TrialArgv(const TrialSpec& spec) {
  return {spec.tag, std::to_string(spec.lifetime_ms * 1000)};
}

Result<std::vector<TrialRecord>> RunTrials(const std::vector<TrialSpec>& specs, int max_in_flight,
                                           const Clock& clock, const std::function<bool()>& stop) {
  std::vector<TrialRecord> recs;
  recs.reserve(specs.size());
  for (const auto& s : specs) recs.push_back(TrialRecord{s});
  std::sort(recs.begin(), recs.end(), [](const TrialRecord& a, const TrialRecord& b) {
    return a.spec.offset_s < b.spec.offset_s;
  });
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return MakeError(std::string("epoll_create1: ") + std::strerror(errno), errno);
  std::map<int, size_t> by_fd;  // pidfd -> record index
  const int64_t t0 = clock.MonoNs();
  size_t next = 0;
  Status failure = OkStatus();
  while (next < recs.size() || !by_fd.empty()) {
    if (stop && stop()) {
      failure = MakeError("interrupted");
      break;
    }
    const int64_t now = clock.MonoNs();
    // The next trial, when there is room for it, and when it is due.
    const bool can_start = next < recs.size() && static_cast<int>(by_fd.size()) < max_in_flight;
    const int64_t due = can_start ? t0 + static_cast<int64_t>(recs[next].spec.offset_s * 1e9) : 0;
    if (can_start && now >= due) {
      TrialRecord& r = recs[next++];
      r.delayed = now - due > 5'000'000;
      r.start_mono_ns = clock.MonoNs();
      r.start_wall_ns = clock.WallNs();
      auto pid = Spawn(r.spec.program, TrialArgv(r.spec));
      if (!pid) {
        failure = pid.error();
        break;
      }
      r.pid = *pid;
      r.started = true;
      const auto fd = static_cast<int>(syscall(SYS_pidfd_open, r.pid, 0));
      if (fd < 0) {
        failure = MakeError(std::string("pidfd_open: ") + std::strerror(errno), errno);
        KillTrial(r.pid);
        break;
      }
      epoll_event ev{.events = EPOLLIN, .data = {.fd = fd}};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      by_fd[fd] = static_cast<size_t>(&r - recs.data());
      continue;
    }
    const int timeout_ms =
        can_start ? static_cast<int>(std::clamp<int64_t>((due - now + 999'999) / 1'000'000, 0, 100))
                  : 100;
    std::array<epoll_event, 64> evs{};
    const int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), timeout_ms);
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
  for (const auto& [fd, idx] : by_fd) {  // left on a failure or a stop
    recs[idx].exit_code = KillTrial(recs[idx].pid);
    close(fd);
  }
  close(ep);
  if (!failure) return failure.error();
  return recs;
}

Result<int> StartTrial(const TrialSpec& spec) { return Spawn(spec.program, TrialArgv(spec)); }

}  // namespace sandwatch::harness::tune
