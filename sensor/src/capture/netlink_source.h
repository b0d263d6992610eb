// NetlinkSource: the proc connector (CN_PROC). Exec, fork and exit events for
// every process on the machine, with the exact pid. Works only in the initial
// PID and user namespaces with CAP_NET_ADMIN: a `node` (host or guest-init) source.
//
// Threading: one receiving thread. For each exec it reads cmdline, exe and stat
// at once (three small reads) into Observation::early; fork events only feed a
// bounded child->parent map so the parent is known even when the child is gone.
// ENOBUFS (the socket buffer overflowed) is counted in `netlink_overflows` and
// followed by a reconciling kScan.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>

#include "sandwatch/sensor/capture_source.h"
#include "source_util.h"

namespace sandwatch::sensor {

struct NetlinkOptions {
  std::string proc_root = "/proc";
  int rcvbuf_bytes = 16 << 20;  // SO_RCVBUFFORCE, falling back to SO_RCVBUF
  bool early_read = true;
  bool emit_exit = true;
  // Nice value of the receiving thread: the early read races the process's exit,
  // so it should win the CPU on a busy machine. 0 leaves it alone.
  int thread_nice = -10;
};

class NetlinkSource : public CaptureSource {
 public:
  explicit NetlinkSource(NetlinkOptions options) : options_(std::move(options)) {}
  ~NetlinkSource() override { Stop(); }

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

  NetlinkOptions options_;
  int sock_ = -1;
  int proc_fd_ = -1;
  int granted_rcvbuf_ = 0;
  WakeFd wake_;
  std::thread thread_;
  std::unordered_map<int, int> parent_of_;  // receiving thread only

  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> execs_{0};
  std::atomic<int64_t> overflows_{0};
  std::atomic<int64_t> early_failures_{0};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<int> nice_{0};
};

}  // namespace sandwatch::sensor
