// Sensor liveness and the /api/sensors JSON (pure functions over SensorRow).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metrics.h"
#include "sandwatch/receiver/store.h"

namespace sandwatch::receiver {

// Silent when nothing was heard for more than 2x the heartbeat interval. The reference
// is the last heartbeat, or the last event for a sensor that never sent one.
bool IsSilent(const SensorRow& s, int64_t now_ns, double default_interval_s);

// Sequence numbers below the highest one seen that never arrived (lost events).
int64_t SeqGaps(const SensorRow& s);

// Human-readable problems: silence, gaps, dropped events, degraded capture.
std::vector<std::string> SensorWarnings(const SensorRow& s, bool silent);

// {"sensors":[...], "refused_unknown":[...], "now": RFC3339}. `refused` holds, per claimed
// sensor id, the requests refused because their token did not cover it: a known sensor shows
// them as "refused" and a warning; ids never seen otherwise go to "refused_unknown".
std::string SensorsJson(const std::vector<SensorRow>& rows, int64_t now_ns,
                        double default_interval_s,
                        const std::map<std::string, Metrics::Refusals>& refused = {});

}  // namespace sandwatch::receiver
