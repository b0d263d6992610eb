// Capture sources: the engines that tell the sensor pipeline something happened.
// Every source (poll, inotify, fanotify, netlink, replay in tests) feeds the one
// pipeline of enrich -> match -> dedup -> ship through an ObservationSink.
// There is no second rule path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/process.h"
#include "sandwatch/core/result.h"

namespace sandwatch::sensor {

// Details a source read on its own thread immediately after the kernel event,
// before a short-lived process could exit. Any field may be empty.
struct EarlyRead {
  uint64_t start_ticks = 0;
  int ppid = 0;
  std::string name;
  std::string exe;
  std::vector<std::string> cmdline;
  bool complete = false;  // every field above was read
  // Open descriptors and the TCP/UDP sockets among them, when the source read them
  // (the inotify look does), so a process gone before enrichment keeps its
  // credential file or its connection on stdio.
  std::vector<FdInfo> fds;
  std::vector<SocketInfo> sockets;
};

struct Observation {
  enum class Kind {
    kScan,      // rescan /proc now (poll tick, inotify trigger, reconcile after overflow)
    kExec,      // a process called exec (netlink PROC_EVENT_EXEC, fanotify FAN_OPEN_EXEC)
    kFileOpen,  // a process opened a watched file (fanotify FAN_OPEN)
    kExit,      // a process exited (netlink PROC_EVENT_EXIT)
  };
  Kind kind = Kind::kScan;
  std::string method;          // poll | inotify | fanotify | netlink
  int pid = 0;                 // 0 for kScan
  int ppid = 0;                // when the kernel said (netlink)
  std::string path;            // exe (kExec) or opened file (kFileOpen), when known
  int64_t kernel_mono_ns = 0;  // CLOCK_MONOTONIC when the source received the event
  std::optional<EarlyRead> early;
};

// Thread-safe: sources push from their own threads.
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void Push(Observation obs) = 0;
};

class CaptureSource {
 public:
  virtual ~CaptureSource() = default;
  // "poll", "inotify", "fanotify" or "netlink".
  virtual std::string_view Name() const = 0;
  // Whether this source can run with the sensor's privileges and namespaces.
  // The Error says why not, in one line, for the `auto` start-up log.
  virtual Status Probe() const = 0;
  // Starts the source's thread; observations go to `sink` until Stop().
  virtual Status Start(ObservationSink* sink) = 0;
  // Idempotent; joins the source's threads.
  virtual void Stop() = 0;
  // Adds this source's counters (e.g. netlink_overflows) to a heartbeat's map.
  virtual void AddCounters(std::map<std::string, int64_t>* counters) const { (void)counters; }
  // After Start(): one line saying what the source watches, for the start-up
  // log ("" when there is nothing to say).
  virtual std::string Describe() const { return {}; }
};

}  // namespace sandwatch::sensor
