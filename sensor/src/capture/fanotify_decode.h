// Pure decoding of fanotify read() buffers (struct fanotify_event_metadata).
// No fd here, so tests feed canned buffers. The caller owns and must close every
// returned event fd (fd >= 0).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sandwatch::sensor {

struct FanEvent {
  uint64_t mask = 0;
  int fd = -1;  // FAN_NOFD (-1) for a queue overflow
  int pid = 0;  // 0 when the opener is outside the sensor's PID namespace
  bool exec() const;
  bool open() const;
  bool overflow() const;
};

struct FanDecodeStats {
  int events = 0;
  int bad_version = 0;  // metadata from a different ABI; decoding stops
  int truncated = 0;    // a record shorter than its header said; decoding stops
};

FanDecodeStats DecodeFanotify(std::span<const uint8_t> buf, std::vector<FanEvent>* out);

// True for the ELF program interpreter (ld-linux*.so*, ld-musl-*.so*, ld.so),
// which the kernel also opens for exec on every dynamically linked exec.
bool IsElfInterpreterPath(std::string_view path);

}  // namespace sandwatch::sensor
