// NetlinkSource: the proc connector (CN_PROC). Exec, fork and exit events for
// every process on the machine, with the exact pid. Works only in the initial
// PID and user namespaces with CAP_NET_ADMIN: a `node` (host or guest-init) source.
//
// Threading: one receiving thread decodes and hands each exec to a small pool of
// early-read workers (ShardedWorkers, by pid), which read cmdline, exe and stat
// (three small reads) into Observation::early and push. Exits go through the same
// worker as their exec, so they arrive after it. Fork events only feed a bounded
// child->parent map so the parent is known even when the child is gone.
// ENOBUFS (the socket buffer overflowed) is counted in `netlink_overflows` and
// followed by a reconciling kScan.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "sandwatch/core/clock.h"
#include "sandwatch/sensor/capture_source.h"
#include "sharded_workers.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct NetlinkOptions {
  const Clock* clock = &SystemClock();  // event receive times; must outlive the source
  std::string proc_root = "/proc";
  int rcvbuf_bytes = 16 << 20;  // SO_RCVBUFFORCE, falling back to SO_RCVBUF
  bool early_read = true;
  bool emit_exit = true;
  // Priority of the receiving thread (and workers): the early read races the
  // process's exit, so it should win the CPU on a busy machine.
  EventThreadPriority priority;
  // Early reads run on this many ShardedWorkers (by pid, so a pid's exec and exit
  // stay in order); the receiving thread only decodes and hands off, so one read
  // stuck on a busy process does not hold up the events queued behind it.
  // 0: read inline on the receiving thread.
  int early_read_workers = 0;
};

class NetlinkSource : public CaptureSource {
 public:
  explicit NetlinkSource(NetlinkOptions options) : options_(std::move(options)) {}
  ~NetlinkSource() override { NetlinkSource::Stop(); }

  std::string_view Name() const override { return "netlink"; }
  Status Probe() const override;
  Status Start(ObservationSink* sink) override;
  void Stop() override;
  void AddCounters(std::map<std::string, int64_t>* counters) const override;

  // The receive buffer the kernel granted (after Start), in bytes.
  int rcvbuf_bytes() const { return granted_rcvbuf_; }

 private:
  void Loop(ObservationSink* sink);
  void Handle(const struct ProcConnEvent& ev, int64_t received_ns, ObservationSink* sink);
  void EmitExec(int pid, int ppid, int64_t received_ns, ObservationSink* sink);
  // Runs `task` on the pid's worker, or inline when there are none or it is full.
  void Dispatch(int pid, const std::function<void()>& task);

  NetlinkOptions options_;
  int sock_ = -1;
  int proc_fd_ = -1;
  int granted_rcvbuf_ = 0;
  WakeFd wake_;
  std::thread thread_;
  std::unique_ptr<ShardedWorkers> workers_;
  std::unordered_map<int, int> parent_of_;  // receiving thread only

  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> execs_{0};
  std::atomic<int64_t> overflows_{0};
  std::atomic<int64_t> early_failures_{0};
  std::atomic<int64_t> queue_full_{0};
  std::atomic<int64_t> worker_cpu_ns_{0};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<int> nice_{0};
  std::atomic<bool> rt_{false};
};

}  // namespace sandwatch::sensor
