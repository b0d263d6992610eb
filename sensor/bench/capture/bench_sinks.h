// Sinks for capture_bench: EventSink records observations; ScanSink runs a real
// procfs ProcessScanner for kScan on its own worker thread (the pipeline's work
// for inotify and poll) and records the processes each scan discovered, and
// also the processes inotify's new-pid look reported (kExec with an early read).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/process_scanner.h"
#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor::bench {

class EventSink : public ObservationSink {
 public:
  void Push(Observation obs) override {
    std::lock_guard<std::mutex> lock(mu_);
    obs_.push_back(std::move(obs));
  }
  std::vector<Observation> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return obs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Observation> obs_;
};

struct Sighting {
  int pid = 0;
  int64_t mono_ns = 0;
  std::vector<std::string> cmdline;
  bool shadow_fd = false;  // /etc/shadow among its open files
};

// Like the sensor's pipeline: Push(kScan) only marks a scan pending (one pending
// scan covers any number of triggers) and a worker thread at `nice` runs it.
class ScanSink : public ObservationSink {
 public:
  explicit ScanSink(int nice = 0) : scanner_(procfs::ProcFs("/proc")) {
    worker_ = std::thread([this, nice] { Loop(nice); });
  }
  ~ScanSink() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Push(Observation obs) override {
    if (obs.kind == Observation::Kind::kExec && obs.early) {
      Sighting s{obs.pid, SystemClock().MonoNs(), obs.early->cmdline, false};
      std::lock_guard<std::mutex> lock(mu_);
      sightings_.push_back(std::move(s));
      looks_.fetch_add(1);
      return;
    }
    if (obs.kind != Observation::Kind::kScan) return;
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
    cv_.notify_one();
  }
  std::vector<Sighting> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sightings_;
  }
  int64_t cpu_ns() const { return cpu_ns_.load(); }
  int64_t scans() const { return scans_.load(); }
  int64_t look_reports() const { return looks_.load(); }

 private:
  void Loop(int nice) {
    RaiseThreadPriority(nice, false);
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || pending_; });
      if (stopping_) return;
      pending_ = false;
      lock.unlock();
      auto res = scanner_.Scan();  // only this thread touches scanner_
      const int64_t now = SystemClock().MonoNs();
      std::vector<Sighting> found;
      if (res.ok()) {
        for (const auto& ch : res->changes) {
          if (ch.kind == procfs::ChangeKind::kFdsChanged) continue;
          Sighting s{ch.info.key.pid, now, ch.info.cmdline, false};
          for (const auto& fd : ch.info.fds) s.shadow_fd |= fd.path == "/etc/shadow";
          found.push_back(std::move(s));
        }
      }
      cpu_ns_.store(ThreadCpuNs());
      scans_.fetch_add(1);
      lock.lock();
      for (auto& s : found) sightings_.push_back(std::move(s));
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  procfs::ProcessScanner scanner_;
  std::vector<Sighting> sightings_;
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<int64_t> scans_{0};
  std::atomic<int64_t> looks_{0};
  std::thread worker_;
};

}  // namespace sandwatch::sensor::bench
