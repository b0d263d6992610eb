// Outputs: where events and heartbeats go. One abstract interface, one file per
// sink (stream_output.cpp for stdout and file:PATH, http_output.cpp for HTTP).
//
// Thread-safety: Emit and EmitHeartbeat are called from one thread at a time (the
// Publisher serialises them). Close is called once, at shutdown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"
#include "sandwatch/sensor/config.h"

namespace sandwatch::sensor {

enum class OutputFormat { kSandwatch, kFalco };

class Output {
 public:
  virtual ~Output() = default;
  virtual std::string_view Name() const = 0;
  // Takes one event, in seq order. Must not block for long: network outputs queue.
  virtual void Emit(const Event& e) = 0;
  virtual void EmitHeartbeat(const Heartbeat& h) = 0;
  // Delivers what it can before `deadline_mono_ns`, then stops its threads. What is
  // left stays in the spool (SPOOL_DIR) or is counted in events_dropped (memory).
  virtual void Close(int64_t deadline_mono_ns) = 0;
  // events_dropped, spool_bytes and sink-specific counters.
  virtual void AddCounters(std::map<std::string, int64_t>* counters) const = 0;
};

// One event in the chosen format, as single-line JSON (no trailing newline).
std::string FormatEvent(const Event& e, OutputFormat format);

// The output the config asks for (stdout, file:PATH or http).
Result<std::unique_ptr<Output>> MakeOutput(const SensorConfig& config, const Clock* clock);

}  // namespace sandwatch::sensor
