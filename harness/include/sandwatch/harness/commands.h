// Subcommand registration for sandwatch-harness. main.cpp builds one CLI::App
// and calls each Register*Command(app). A subcommand's callback reports a
// non-zero exit code by throwing CLI::RuntimeError(code); main turns it into
// the process exit code. Bad flag values: throw CLI::ValidationError naming
// the flag (exit 2).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sandwatch::harness {

struct RunOptions;

// run, report, doctor, demo (src/cli_*.cpp).
void RegisterRunCommand(CLI::App& app);
void RegisterReportCommand(CLI::App& app);
void RegisterDoctorCommand(CLI::App& app);
void RegisterDemoCommand(CLI::App& app);

// tune: the poll-interval recommendation, and `tune --sweep` (src/tune/tune_command.cpp).
void RegisterTuneCommand(CLI::App& app);

// Prints "sandwatch-harness COMMAND: WHAT" on stderr and ends the subcommand with
// exit code `code` (src/cli_run.cpp).
[[noreturn]] void FailCommand(const char* command, const std::string& what, int code = 1);

// The flags `run` and `demo` share, bound to `opts`: --out, --bin-dir, --falco, --keep.
void AddRunFlags(CLI::App& sub, RunOptions& opts);
// --backend and --runtimes (what `runtimes_help` says they select), for `run` and `doctor`.
void AddBackendFlags(CLI::App& sub, RunOptions& opts, const std::string& runtimes_help);

// The directory holding our binaries: --bin-dir, else $SANDWATCH_BIN_DIR, else
// the directory of /proc/self/exe.
std::string ResolveBinDir(const std::string& flag_value);

// The repository root for scenarios/ and results/: $SANDWATCH_SOURCE_DIR, else
// the parent of the build dir holding this binary when it has scenarios/, else ".".
std::string ResolveSourceDir();

}  // namespace sandwatch::harness
