// The one translation unit that includes Boost.Process.
#include "sandwatch/attack_sim/spawn.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <cstring>
#include <istream>
#include <iterator>

namespace sandwatch::attacksim {
namespace bp = boost::process;

Result<std::string> FindOnPath(std::string_view name) {
  std::string n(name);
  if (n.empty()) return MakeError("empty program name");
  if (n.find('/') != std::string::npos) {
    if (access(n.c_str(), X_OK) == 0) return n;
    return MakeError(n + " is not executable", errno);
  }
  try {
    auto p = bp::search_path(n);
    if (p.empty()) return MakeError(n + " not found on PATH");
    return p.string();
  } catch (const std::exception& e) {
    return MakeError(std::string("PATH lookup of ") + n + ": " + e.what());
  }
}

Result<int> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return MakeError("spawn: empty argv");
  auto exe = FindOnPath(spec.argv[0]);
  if (!exe.ok()) return exe.error();
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return MakeError(std::string("open /dev/null: ") + strerror(errno), errno);
  // Build the full fd plan before fork so the child only calls async-signal-safe functions.
  std::vector<std::pair<int, int>> plan = spec.fds;
  for (int std_fd = 0; std_fd <= 2; ++std_fd) {
    bool mapped = false;
    for (const auto& [from, to] : plan) mapped = mapped || to == std_fd;
    if (!mapped) plan.emplace_back(devnull, std_fd);
  }
  const bool new_session = spec.new_session;
  const bool new_pgrp = spec.new_pgrp;
  auto setup = [&plan, new_session, new_pgrp](auto& /*executor*/) {
    if (new_session) setsid();
    if (new_pgrp && !new_session) setpgid(0, 0);
    // Move every source above the targets first so one dup2 cannot clobber another source.
    std::array<int, 32> moved{};
    size_t n = plan.size() < 32 ? plan.size() : 32;
    for (size_t i = 0; i < n; ++i) moved[i] = fcntl(plan[i].first, F_DUPFD_CLOEXEC, 64);
    for (size_t i = 0; i < n; ++i) dup2(moved[i], plan[i].second);  // dup2 clears CLOEXEC
    if (new_session) ioctl(0, TIOCSCTTY, 0);
  };
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  try {
    bp::environment env = boost::this_process::environment();
    for (const auto& [k, v] : spec.env) env[k] = v;
    bp::child child(bp::exe = *exe, bp::args = args, env, bp::extend::on_exec_setup = setup);
    int pid = child.id();
    child.detach();
    close(devnull);
    return pid;
  } catch (const std::exception& e) {
    close(devnull);
    return MakeError("cannot start " + spec.argv[0] + ": " + e.what());
  }
}

Result<Captured> RunCapture(const std::vector<std::string>& argv) {
  if (argv.empty()) return MakeError("run: empty argv");
  auto exe = FindOnPath(argv[0]);
  if (!exe.ok()) return exe.error();
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  try {
    bp::ipstream out;
    bp::child child(bp::exe = *exe, bp::args = args, bp::std_out > out, bp::std_err > bp::null,
                    bp::std_in < bp::null);
    Captured c;
    c.out.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
    child.wait();
    c.exit_code = child.exit_code();
    return c;
  } catch (const std::exception& e) {
    return MakeError("cannot run " + argv[0] + ": " + e.what());
  }
}

}  // namespace sandwatch::attacksim
