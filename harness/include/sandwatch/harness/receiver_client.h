// A small client for the receiver's API (contract: GET /api/events, /api/sensors,
// /healthz). cpp-httplib stays inside src/receiver_client.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"

namespace sandwatch::harness {

struct FetchedEvents {
  std::vector<Event> events;        // oldest first, unique ids
  std::vector<nlohmann::json> raw;  // the same events as served (for events.jsonl)
  int unparsable = 0;               // results that did not parse as events (kept in raw)
};

class ReceiverClient {
 public:
  // base_url: "http://127.0.0.1:8080" (no trailing path). token: --ui-token, may be empty.
  explicit ReceiverClient(std::string base_url, std::string token = "");
  bool Healthy(double timeout_s = 1.0) const;
  // Every stored event (paged, limit 1000), optionally narrowed with `query`
  // ("since=15m&source=falco"). Call it after the sensors stopped.
  Result<FetchedEvents> FetchAll(const std::string& query = "") const;
  Result<nlohmann::json> Sensors() const;

 private:
  Result<nlohmann::json> GetJson(const std::string& path) const;
  std::string base_;
  std::string token_;
};

// A free TCP port on 127.0.0.1 (bound and released; tiny race, fine for the lab).
Result<int> PickFreeLoopbackPort();

}  // namespace sandwatch::harness
