// Helpers for attack-sim integration tests: run the real binary, watch /proc while it
// runs, read its ground truth.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/core/ground_truth.h"

namespace sandwatch::attacksim::testing {

std::string BinPath();  // $SANDWATCH_BIN_DIR/sandwatch-attack-sim
std::string TempDir();  // a fresh directory under /tmp, removed by the caller's fixture

struct Exec {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};
// Starts the binary with `args`; stdout and stderr go to files in `dir`.
// `path_env`, when not empty, replaces PATH for the child.
Exec Start(const std::vector<std::string>& args, const std::string& dir, const std::string& tag,
           const std::string& path_env = "");
int Wait(const Exec& e);  // exit code, or 128+signal
std::string ReadFile(const std::string& path);

struct Seen {
  std::vector<std::string> cmdline;
  int ppid = 0;
};

// Scans /proc every ~1 ms and records every descendant of `root` it sees.
class ProcWatcher {
 public:
  explicit ProcWatcher(pid_t root);
  ~ProcWatcher();
  std::map<int, Seen> Stop();

 private:
  void Loop();
  pid_t root_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<int, Seen> seen_;
  std::thread thread_;
};

// Netlink proc connector (root in the initial namespaces): every fork and exec on the
// machine while it runs, so even a 1 ms step's pid and parent can be checked.
class ExecRecorder {
 public:
  ExecRecorder();
  ~ExecRecorder();
  bool ok() const { return fd_ >= 0; }
  std::string why_not() const { return why_not_; }
  struct Proc {
    int parent = 0;  // from the fork event
    int execs = 0;   // exec events seen for this pid
  };
  std::map<int, Proc> Stop();

 private:
  void Loop();
  int fd_ = -1;
  std::string why_not_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<int, Proc> procs_;
  std::thread thread_;
};

std::vector<GroundTruthStep> ReadTruth(const std::string& path);
const GroundTruthStep* FindStep(const std::vector<GroundTruthStep>& steps, const std::string& step,
                                int repeat = 0);

// Builds a tiny .deb (package `name`, one file /usr/local/lib/NAME/marker) in `dir`.
std::string BuildTestDeb(const std::string& dir, const std::string& name);
bool PackageInstalled(const std::string& name);
void PurgePackage(const std::string& name);

}  // namespace sandwatch::attacksim::testing
