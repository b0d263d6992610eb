// Publisher: stamps events with the sensor's identity, a uuid and the next seq
// (1, 2, 3, ... with no gaps), and hands them to the Output in seq order.
// Thread-safe: one mutex serialises Publish and PublishHeartbeat.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/event.h"
#include "sandwatch/sensor/output.h"

namespace sandwatch::sensor {

struct SensorIdentity {
  SensorInfo sensor;  // id, mode, capture, version
  std::string pod;
  std::string ns;
  std::string hostname;
};

class Publisher {
 public:
  Publisher(SensorIdentity identity, Output* output, const Clock* clock)
      : identity_(std::move(identity)), output_(output), clock_(clock) {}

  // Fills id, seq, sensor, k8s and hostname (and time when 0); returns the seq.
  uint64_t Publish(Event e);
  void PublishHeartbeat(std::map<std::string, int64_t> counters, double interval_s);

  // After the capture sources started: events and heartbeats name only the sources
  // that really run (sensor.capture, capture.active); capture.failed names the others.
  void SetCapture(const std::vector<std::string>& active,
                  const std::map<std::string, std::string>& failed);

  uint64_t last_seq() const;
  // A restarted sensor continues its sequence: the next event gets `last_seq` + 1.
  void ContinueFrom(uint64_t last_seq);
  const SensorIdentity& identity() const { return identity_; }

 private:
  SensorIdentity identity_;
  Output* output_;
  const Clock* clock_;
  mutable std::mutex mu_;
  uint64_t seq_ = 0;
  std::vector<std::string> capture_active_;
  std::map<std::string, std::string> capture_failed_;
};

}  // namespace sandwatch::sensor
