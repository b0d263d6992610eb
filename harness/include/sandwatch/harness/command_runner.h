// CommandRunner: the one way the harness runs external programs (runc, qemu,
// debootstrap, kubectl, our own binaries). The real implementation uses
// Boost.Process and lives in src/process_runner.cpp only; tests inject a fake
// (see tests/fake_runner.h) to check command sequences without running them.
//
// Thread-safety: a runner may be shared across threads; a ProcessHandle is
// owned by one thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::harness {

struct CommandSpec {
  std::vector<std::string> argv{};           // argv[0] is a path or a name looked up in PATH
  std::map<std::string, std::string> env{};  // added to (or overriding) the inherited env
  std::string cwd{};                         // empty: inherit
  std::string stdin_data{};                  // Run() only: written to the child's stdin
  // Start() only: where the child's stdout/stderr go. Empty: /dev/null.
  std::string stdout_path{};
  std::string stderr_path{};
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // Run() only
};

struct CommandResult {
  int exit_code = -1;  // 128+N when killed by signal N
  bool timed_out = false;
  std::string out;  // captured stdout (Run() only)
  std::string err;  // captured stderr (Run() only)
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// A background child. The destructor kills (SIGKILL) and reaps a child that is
// still running, so a handle going out of scope never leaks a process.
class ProcessHandle {
 public:
  virtual ~ProcessHandle() = default;
  virtual int Pid() const = 0;
  virtual bool Running() = 0;
  // Waits up to `timeout`; the exit code, or an Error when still running.
  virtual Result<int> Wait(std::chrono::milliseconds timeout) = 0;
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code.
  virtual int Stop(std::chrono::milliseconds grace) = 0;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs to completion (or timeout, then SIGKILL) capturing stdout and stderr.
  // An Error only when the program could not be started at all.
  virtual Result<CommandResult> Run(const CommandSpec& spec) = 0;
  // Starts in the background.
  virtual Result<std::unique_ptr<ProcessHandle>> Start(const CommandSpec& spec) = 0;
  // Finds `name` in PATH; empty when absent.
  virtual std::string Which(const std::string& name) = 0;
};

// Shorthands: a command run to completion, and one started in the background.
inline CommandSpec Cmd(std::vector<std::string> argv,
                       std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
  return {.argv = std::move(argv), .timeout = timeout};
}
inline CommandSpec Bg(std::vector<std::string> argv, std::string stdout_path,
                      std::string stderr_path) {
  return {.argv = std::move(argv),
          .stdout_path = std::move(stdout_path),
          .stderr_path = std::move(stderr_path)};
}

// The real runner (Boost.Process).
std::unique_ptr<CommandRunner> MakeProcessRunner();

// "runc delete -f x" style rendering for logs and error messages (shell-quoted).
std::string RenderCommand(const std::vector<std::string>& argv);

}  // namespace sandwatch::harness
