// The only translation unit that includes Boost.Process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "sandwatch/core/fd_io.h"
#include "sandwatch/core/files.h"
#include "sandwatch/harness/command_runner.h"

namespace sandwatch::harness {

namespace bp = boost::process;
using namespace std::chrono_literals;

std::string RenderCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_./:=@,+%") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

namespace {

int DecodeStatus(int native) {
  if (WIFEXITED(native)) return WEXITSTATUS(native);
  if (WIFSIGNALED(native)) return 128 + WTERMSIG(native);
  return -1;
}

// A private temporary file (mkstemp: mode 0600, a fresh name) holding content.
std::string TempPath(const char* tag, std::string_view content = {}) {
  std::string tmpl = std::string("/tmp/sandwatch-harness-") + tag + "-XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return tmpl;
  (void)WriteAll(fd, content);  // a short write shows as a short stdin, as a closed pipe would
  close(fd);
  return tmpl;
}

Result<boost::filesystem::path> ResolveExe(const std::string& name) {
  if (name.empty()) return MakeError("empty command");
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) != 0) return MakeError("not executable: " + name, errno);
    return boost::filesystem::path(name);
  }
  auto p = bp::search_path(name);
  if (p.empty()) return MakeError("program not found in PATH: " + name);
  return p;
}

// Spawns spec.argv with stdin, stdout and stderr redirected to files. Throws what Boost throws.
bp::child Spawn(const CommandSpec& spec, const boost::filesystem::path& exe,
                const std::string& in_path, const std::string& out_path,
                const std::string& err_path) {
  bp::environment env = boost::this_process::environment();
  for (const auto& [k, v] : spec.env) env[k] = v;
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  const std::string cwd = spec.cwd.empty() ? boost::filesystem::current_path().string() : spec.cwd;
  return bp::child(bp::exe = exe.string(), bp::args = args, env, bp::start_dir = cwd,
                   bp::std_in<in_path, bp::std_out> out_path, bp::std_err > err_path);
}

// Boost.Process spawns; the handle then owns the pid and reaps it with waitpid
// itself (Boost 1.74's terminate() reaps with WNOHANG and can leave a zombie).
class BoostHandle final : public ProcessHandle {
 public:
  explicit BoostHandle(bp::child child) : pid_(child.id()) { child.detach(); }
  ~BoostHandle() override {
    try {
      if (!done_) Stop(0ms);
    } catch (const std::exception&) {  // a destructor must not throw; only error text can
    }
  }
  int Pid() const override { return pid_; }
  bool Running() override { return !done_ && !Reap(WNOHANG); }
  Result<int> Wait(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Running()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return MakeError("process " + std::to_string(pid_) + " still running");
      }
      std::this_thread::sleep_for(10ms);
    }
    return code_;
  }
  int Stop(std::chrono::milliseconds grace) override {
    if (!Running()) return code_;
    if (grace.count() > 0) {
      ::kill(pid_, SIGTERM);
      auto r = Wait(grace);
      if (r.ok()) return *r;
    }
    ::kill(pid_, SIGKILL);
    Reap(0);
    return code_;
  }

 private:
  // waitpid(options): false while the child still runs (WNOHANG), else it is reaped.
  bool Reap(int options) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, options);
    if (r == 0) return false;
    done_ = true;
    code_ = r == pid_ ? DecodeStatus(status) : -1;
    return true;
  }

  int pid_;
  bool done_ = false;
  int code_ = -1;
};

class ProcessRunner : public CommandRunner {
 public:
  Result<CommandResult> Run(const CommandSpec& spec) override {
    auto exe = ResolveExe(spec.argv.empty() ? std::string() : spec.argv[0]);
    if (!exe.ok()) return exe.error();
    const std::string in_path = TempPath("in", spec.stdin_data), out_path = TempPath("out"),
                      err_path = TempPath("err");
    const auto remove_all = [&] {
      for (const auto* p : {&in_path, &out_path, &err_path}) std::remove(p->c_str());
    };
    CommandResult result;
    try {
      BoostHandle handle(Spawn(spec, *exe, in_path, out_path, err_path));
      auto code = handle.Wait(spec.timeout);
      if (!code.ok()) {
        result.timed_out = true;
        result.exit_code = handle.Stop(2000ms);
      } else {
        result.exit_code = *code;
      }
    } catch (const std::exception& e) {
      remove_all();
      return MakeError("cannot run " + RenderCommand(spec.argv) + ": " + e.what());
    }
    result.out = ReadFileToString(out_path).value_or("");
    result.err = ReadFileToString(err_path).value_or("");
    remove_all();
    return result;
  }

  Result<std::unique_ptr<ProcessHandle>> Start(const CommandSpec& spec) override {
    auto exe = ResolveExe(spec.argv.empty() ? std::string() : spec.argv[0]);
    if (!exe.ok()) return exe.error();
    std::string out_path = spec.stdout_path.empty() ? "/dev/null" : spec.stdout_path;
    std::string err_path = spec.stderr_path.empty() ? "/dev/null" : spec.stderr_path;
    try {
      return std::unique_ptr<ProcessHandle>(
          new BoostHandle(Spawn(spec, *exe, "/dev/null", out_path, err_path)));
    } catch (const std::exception& e) {
      return MakeError("cannot start " + RenderCommand(spec.argv) + ": " + e.what());
    }
  }

  std::string Which(const std::string& name) override {
    try {
      return bp::search_path(name).string();
    } catch (const std::exception&) {
      return "";
    }
  }
};

}  // namespace

std::unique_ptr<CommandRunner> MakeProcessRunner() { return std::make_unique<ProcessRunner>(); }

}  // namespace sandwatch::harness
