// Sinks for capture_bench: EventSink records observations; ScanSink runs a real
// procfs ProcessScanner on every kScan (the pipeline's work for inotify and poll)
// and records the processes each scan discovered.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/procfs/process_scanner.h"
#include "sandwatch/sensor/capture_source.h"

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

class ScanSink : public ObservationSink {
 public:
  ScanSink() : scanner_(procfs::ProcFs("/proc")) {}
  void Push(Observation obs) override {
    if (obs.kind != Observation::Kind::kScan) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto res = scanner_.Scan();
    if (!res.ok()) return;
    const int64_t now = SystemClock().MonoNs();
    for (const auto& ch : res->changes) {
      if (ch.kind == procfs::ChangeKind::kFdsChanged) continue;
      Sighting s{ch.info.key.pid, now, ch.info.cmdline, false};
      for (const auto& fd : ch.info.fds) s.shadow_fd |= fd.path == "/etc/shadow";
      sightings_.push_back(std::move(s));
    }
  }
  std::vector<Sighting> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sightings_;
  }
  procfs::ScanCounters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return scanner_.counters();
  }

 private:
  mutable std::mutex mu_;
  procfs::ProcessScanner scanner_;
  std::vector<Sighting> sightings_;
};

}  // namespace sandwatch::sensor::bench
