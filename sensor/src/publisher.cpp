#include "sandwatch/sensor/publisher.h"

#include "sandwatch/core/ids.h"

namespace sandwatch::sensor {

uint64_t Publisher::Publish(Event e) {
  std::lock_guard<std::mutex> lock(mu_);
  e.id = NewUuid();
  e.seq = ++seq_;
  if (e.time_ns == 0) e.time_ns = clock_->WallNs();
  e.source = "sandwatch";
  e.sensor = identity_.sensor;
  e.pod = identity_.pod;
  e.ns = identity_.ns;
  e.hostname = identity_.hostname;
  output_->Emit(e);
  return e.seq;
}

void Publisher::PublishHeartbeat(std::map<std::string, int64_t> counters, double interval_s) {
  std::lock_guard<std::mutex> lock(mu_);
  Heartbeat h;
  h.sensor = identity_.sensor;
  h.time_ns = clock_->WallNs();
  h.last_seq = seq_;
  h.interval_s = interval_s;
  h.pod = identity_.pod;
  h.ns = identity_.ns;
  h.hostname = identity_.hostname;
  counters["events_emitted"] = static_cast<int64_t>(seq_);
  h.counters = std::move(counters);
  h.capture_active = capture_active_;
  h.capture_failed = capture_failed_;
  output_->EmitHeartbeat(h);
}

void Publisher::ContinueFrom(uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  seq_ = last_seq;
}

void Publisher::SetCapture(const std::vector<std::string>& active,
                           const std::map<std::string, std::string>& failed) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string joined;
  for (const auto& a : active) joined += (joined.empty() ? "" : "+") + a;
  identity_.sensor.capture = joined.empty() ? "none" : joined;
  capture_active_ = active;
  capture_failed_ = failed;
}

uint64_t Publisher::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

}  // namespace sandwatch::sensor
