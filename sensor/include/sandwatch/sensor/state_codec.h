// The three files a sensor keeps in STATE_DIR, as text: pure encoders and strict
// decoders (no I/O; state_file.h seals, writes and reads them).
//
//   state.v1     the processes already evaluated (or accepted as the start-up state) as
//                (pid, start ticks, exe hash), the last heartbeat, the restart count;
//                about 20 bytes per process, rewritten at a bounded rate.
//   seq.v1       sensor id and the last seq, written ahead of every event, so a
//                restarted sensor continues the sequence without reusing a number.
//   baseline.v1  the start-up baseline of the workload root and when it was taken;
//                written once, at the first start.
// Times: *_boot_ns are CLOCK_BOOTTIME (comparable with /proc start times within one
// boot, and immune to wall-clock steps); *_wall_ns are for people.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/procfs/baseline.h"
#include "sandwatch/core/result.h"

namespace sandwatch::sensor::state {

struct KnownProcess {
  int pid = 0;
  uint64_t start_ticks = 0;  // /proc/PID/stat field 22: with pid, the process's identity
  uint32_t exe_hash = 0;     // of exe path and name: a change means it exec'd meanwhile
  bool operator==(const KnownProcess&) const = default;
};

struct SavedState {
  std::string sensor_id;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id when written
  int64_t saved_boot_ns = 0;
  int64_t saved_wall_ns = 0;
  int64_t heartbeat_boot_ns = 0;  // last heartbeat (0: none yet)
  uint64_t last_seq = 0;
  uint64_t restarts = 0;  // restarts with state since the first start
  std::vector<KnownProcess> processes;
};

struct SavedSeq {
  std::string sensor_id;
  std::string boot_id;
  uint64_t last_seq = 0;
  int64_t boot_ns = 0;  // when written
};

struct SavedBaseline {
  std::string root;
  std::string boot_id;
  int64_t built_boot_ns = 0;
  int64_t built_wall_ns = 0;
  procfs::Baseline baseline;
};

inline constexpr size_t kMaxKnownProcesses = 1 << 17;  // bounds state.v1 (~2.6 MB at most)

std::string EncodeState(const SavedState& s);
Result<SavedState> DecodeState(std::string_view body);
std::string EncodeSeq(const SavedSeq& s);
Result<SavedSeq> DecodeSeq(std::string_view body);
// `b.baseline` supplies root, entries and truncated; `b.root` is ignored.
std::string EncodeBaseline(const SavedBaseline& b);
Result<SavedBaseline> DecodeBaseline(std::string_view body);

}  // namespace sandwatch::sensor::state
