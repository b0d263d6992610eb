// Helpers for tests that run real sandwatch binaries as child processes.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern char** environ;

namespace sandwatch::receiver::testing {

// build/bin/NAME (ctest sets SANDWATCH_BIN_DIR).
inline std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(dir ? dir : "bin") + "/" + name;
}

// Runs `binary` with args; stdout+stderr go to `out_file`. Returns the pid, or -1.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& out_file,
                   const std::string& binary = "sandwatch-receiver") {
  std::vector<std::string> full = {BinaryPath(binary)};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(full.size() + 1);
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

inline int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace sandwatch::receiver::testing
