// Integration-test helpers: run the real sandwatch-sensor binary and real child
// processes, and read the JSONL it writes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "free_port.h"

namespace sandwatch::sensor::testing {

// posix_spawnp with stdin from `stdin_fd` (-1: /dev/null), stdout to `stdout_fd` (-1:
// /dev/null) and stderr to /dev/null.
pid_t Spawn(const std::vector<std::string>& argv, int stdin_fd = -1, int stdout_fd = -1);
// SIGKILL (or `sig`) and reap.
void Kill(pid_t pid, int sig = 9);
// Waits for exit; the exit status, or -1.
int Reap(pid_t pid);
std::string BinDir();
// Whether 127.0.0.1:port is in LISTEN state (/proc/net/tcp: port in hex, state 0A).
bool Listening(int port);

class SensorProcess {
 public:
  // Starts sandwatch-sensor writing JSONL to a temp file, watching this test
  // process's descendants, polling every 0.2 s; waits for the first heartbeat.
  explicit SensorProcess(std::vector<std::string> extra_args = {}, bool wait_ready = true);
  ~SensorProcess();

  // SIGTERM and wait; the exit status.
  int Stop();
  // SIGKILL and wait, as when a sensor is killed: no shutdown work at all.
  void KillHard();
  std::vector<nlohmann::json> Lines() const;
  std::vector<nlohmann::json> Events(const std::string& rule = "") const;
  std::vector<nlohmann::json> Heartbeats() const;
  // Polls the output until `pred` holds for some event (cap: 30 s; not a timing assertion).
  bool WaitForEvent(const std::function<bool(const nlohmann::json&)>& pred) const;
  bool WaitFor(const std::function<bool()>& cond) const;
  const std::string& output_path() const { return out_; }
  const std::string& stderr_path() const { return err_; }
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::string out_;
  std::string err_;
};

}  // namespace sandwatch::sensor::testing
