// Helpers for the kube tests: locating the tree and running a shell command to capture
// its output and exit status. Test-only; the backend itself runs commands through the
// harness's CommandRunner.
#pragma once

#include <string>

namespace sandwatch::harness::kube::testing {

// SANDWATCH_SOURCE_DIR (set by ctest), else the source dir baked in at build time.
std::string SourceDir();
// SANDWATCH_BIN_DIR (set by ctest), else <build>/bin.
std::string BinDir();

struct ShellResult {
  int exit_code = -1;  // the command's exit status; -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh -c, stdout and stderr captured together.
ShellResult Shell(const std::string& command);

// True when `name` is found on PATH.
bool OnPath(const std::string& name);

std::string ReadFile(const std::string& path);

// A new empty directory /tmp/PREFIX-XXXXXX; "" when it cannot be made.
std::string MakeTempDir(const std::string& prefix);

// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

}  // namespace sandwatch::harness::kube::testing
