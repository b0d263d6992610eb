// An Output that keeps what it was given, for pipeline tests.
#pragma once

#include <mutex>
#include <vector>

#include "sandwatch/sensor/output.h"

namespace sandwatch::sensor::testing {

class MemoryOutput : public Output {
 public:
  std::string_view Name() const override { return "memory"; }
  void Emit(const Event& e) override {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  }
  void EmitHeartbeat(const Heartbeat& h) override {
    std::lock_guard<std::mutex> lock(mu);
    heartbeats.push_back(h);
  }
  void Close(int64_t) override {}
  void AddCounters(std::map<std::string, int64_t>*) const override {}

  std::vector<Event> Rule(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.rule == name) out.push_back(e);
    }
    return out;
  }

  std::mutex mu;
  std::vector<Event> events;
  std::vector<Heartbeat> heartbeats;
};

}  // namespace sandwatch::sensor::testing
