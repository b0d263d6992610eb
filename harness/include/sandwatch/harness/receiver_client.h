// The receiver's API as the harness reads it (contract: GET /api/events, /api/sensors,
// /healthz), over an HttpClient that backends and tests inject.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/http_client.h"

namespace sandwatch::harness {

struct FetchedEvents {
  std::vector<Event> events;        // oldest first, unique ids
  std::vector<nlohmann::json> raw;  // the same as served (events.jsonl), unparsable ones last
};

// One entry of GET /api/sensors.
struct SensorSeen {
  std::string id;
  std::string pod;      // "pod", else "k8s.pod"; "" when the sensor named none
  std::string capture;  // the capture source it reports as active
  std::string mode;     // node, sidecar or kata; "" when the sensor named none
};

// The sensors in an /api/sensors answer ({"sensors": [...]}, {"results": [...]} or a
// bare array). Entries without a string id are skipped; a body that is not JSON gives
// an empty list.
std::vector<SensorSeen> ParseSensorList(const std::string& body);

// Not thread-safe (the HttpClient it uses is not).
class ReceiverClient {
 public:
  // base_url: "http://127.0.0.1:8080" (no trailing path). `http` must outlive this.
  ReceiverClient(std::string base_url, HttpClient& http);
  // The same over cpp-httplib (5 s to connect, 10 s per read).
  explicit ReceiverClient(std::string base_url);

  bool Healthy() const;
  // Every stored event (paged, limit 1000), optionally narrowed with `query`
  // ("since=15m&source=falco"). Call it after the sensors stopped.
  Result<FetchedEvents> FetchAll(const std::string& query = "") const;
  // Error when the receiver could not be reached or did not answer 200.
  Result<std::vector<SensorSeen>> Sensors() const;

 private:
  Result<std::string> GetOk(const std::string& path) const;
  std::string base_;
  std::unique_ptr<HttpClient> owned_;
  HttpClient* http_;
};

// A free TCP port on 127.0.0.1 (bound and released; tiny race, fine for the lab).
Result<int> PickFreeLoopbackPort();

}  // namespace sandwatch::harness
