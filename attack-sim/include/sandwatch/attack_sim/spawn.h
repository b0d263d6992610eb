// Starting real child processes. The only user of Boost.Process is src/spawn.cpp;
// this header stays free of Boost so it can be included anywhere.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sandwatch/core/result.h"

namespace sandwatch::attacksim {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH unless it contains '/'
  // {parent_fd, child_fd}: dup2'ed in the child. A child fd 0..2 left out gets /dev/null.
  std::vector<std::pair<int, int>> fds;
  bool new_session = false;  // setsid(); child fd 0 becomes the controlling terminal
  bool new_pgrp = false;     // setpgid(0, 0)
  std::vector<std::pair<std::string, std::string>> env;  // added to our environment
};

// Forks and execs; returns the pid once exec succeeded. The caller reaps it (waitpid).
// Every other descriptor of ours must be O_CLOEXEC (they are, in attack-sim).
Result<int> Spawn(const SpawnSpec& spec);

// Absolute path of `name` on PATH (or `name` itself if it contains '/' and is executable).
Result<std::string> FindOnPath(std::string_view name);

struct Captured {
  int exit_code = 0;
  std::string out;  // stdout only; stderr goes to /dev/null
};
// Runs a helper to completion and captures its stdout (dpkg-query and the like).
Result<Captured> RunCapture(const std::vector<std::string>& argv);

}  // namespace sandwatch::attacksim
