// Pure decoding of proc connector (CN_PROC) datagrams: netlink header, cn_msg,
// proc_event. No socket here, so tests feed canned buffers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sandwatch::sensor {

struct ProcConnEvent {
  enum class What { kOther, kFork, kExec, kExit };
  What what = What::kOther;
  int pid = 0;         // exec/exit: the task; fork: the child
  int tgid = 0;        // exec/exit: its thread group; fork: the child's
  int parent_pid = 0;  // fork only
  int parent_tgid = 0;
  uint64_t kernel_ns = 0;  // proc_event.timestamp_ns (CLOCK_MONOTONIC)
  uint32_t exit_code = 0;
};

struct ProcConnDecodeStats {
  int messages = 0;   // netlink messages seen
  int malformed = 0;  // truncated or not from CN_PROC
  int errors = 0;     // NLMSG_ERROR messages
};

// Appends every proc event in `buf` (one recv() worth) to `out`.
ProcConnDecodeStats DecodeProcConnector(std::span<const uint8_t> buf,
                                        std::vector<ProcConnEvent>* out);

// Builds the subscribe (listen=true) or unsubscribe request datagram.
std::vector<uint8_t> BuildProcConnectorRequest(bool listen, uint32_t nl_pid);

}  // namespace sandwatch::sensor
