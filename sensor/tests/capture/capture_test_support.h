// Test and bench support for the capture sources: a sink that records every
// observation (optionally scanning /proc on each kScan, as the pipeline would),
// and spawning real child processes. Header-only; used by the integration tests,
// the capture_selftest helper and capture_bench.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "early_read.h"
#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/capture_source.h"

extern char** environ;

namespace sandwatch::sensor::testing {

// What a /proc scan saw of one process: first sighting.
struct ScanSighting {
  int64_t mono_ns = 0;
  std::vector<std::string> cmdline;
};

class RecordingSink : public ObservationSink {
 public:
  // scan_on_kscan: on each kScan, list proc_root and read every pid's cmdline (a minimal
  // stand-in for the pipeline's scan), recording each pid's sighting when it is new or its
  // command line changed: a scan can run between a child's fork and its exec, and then
  // reads the parent's command line first.
  explicit RecordingSink(bool scan_on_kscan = false, std::string proc_root = "/proc")
      : scan_(scan_on_kscan), proc_root_(std::move(proc_root)) {}

  void Push(Observation obs) override {
    if (scan_ && obs.kind == Observation::Kind::kScan) Scan();
    std::lock_guard<std::mutex> lock(mu_);
    observations_.push_back(std::move(obs));
  }

  std::vector<Observation> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return observations_;
  }
  std::unordered_map<int, ScanSighting> Sightings() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sightings_;
  }
  int scans() const {
    std::lock_guard<std::mutex> lock(mu_);
    return scans_;
  }

 private:
  void Scan() {
    std::lock_guard<std::mutex> scan_lock(scan_mu_);
    int dfd = open(proc_root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    DIR* dir = fdopendir(dfd);
    if (!dir) {
      close(dfd);
      return;
    }
    const int64_t now = SystemClock().MonoNs();
    std::vector<std::pair<int, ScanSighting>> found;
    while (dirent* ent = readdir(dir)) {
      int pid = std::atoi(ent->d_name);
      if (pid <= 0) continue;
      EarlyRead er = ReadEarly(dfd, pid);
      auto [known, added] = known_.try_emplace(pid, er.cmdline);
      // An exited process (a zombie) reads as an empty command line: keep the last one.
      if (!added && (er.cmdline.empty() || known->second == er.cmdline)) continue;
      known->second = er.cmdline;
      found.emplace_back(pid, ScanSighting{now, std::move(er.cmdline)});
    }
    closedir(dir);
    std::lock_guard<std::mutex> lock(mu_);
    ++scans_;
    for (auto& [pid, s] : found) sightings_[pid] = std::move(s);
  }

 public:
  // Forget a pid (it exited) so pid reuse is seen again.
  void Forget(int pid) {
    std::lock_guard<std::mutex> lock(scan_mu_);
    known_.erase(pid);
  }

 private:
  bool scan_;
  std::string proc_root_;
  mutable std::mutex mu_;
  std::mutex scan_mu_;
  std::vector<Observation> observations_;
  std::unordered_map<int, ScanSighting> sightings_;
  std::unordered_map<int, std::vector<std::string>> known_;  // scanning thread only
  int scans_ = 0;
};

// posix_spawn with stdin/stdout/stderr on /dev/null. -1 on failure.
inline int Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

inline int WaitExit(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return status;
}

inline const char* KindName(Observation::Kind k) {
  switch (k) {
    case Observation::Kind::kScan:
      return "scan";
    case Observation::Kind::kExec:
      return "exec";
    case Observation::Kind::kFileOpen:
      return "file_open";
    case Observation::Kind::kExit:
      return "exit";
  }
  return "?";
}

}  // namespace sandwatch::sensor::testing
